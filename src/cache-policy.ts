/**
 * How long the shared cache keeps each kind of upstream value: the policy table the README copies,
 * and `ttlFor`, which picks the TTL of one value from its namespace and its state. Pure data and
 * functions, no I/O. Every TTL is in milliseconds (Keyv's unit) and is never 0 (Keyv reads 0 as
 * "never expires"); a value the policy does not cache gets `undefined`.
 */
import { type CertificateStatusValue } from "./upstream/types";

/** The kinds of value the cache holds; part of every key, and the unit of the counters. */
export type CacheNamespace =
  | "class"
  | "classList"
  | "certificate"
  | "order"
  | "contact"
  | "certificateList"
  | "orderList"
  | "contactList";

/** Every namespace, in the order of the policy table. */
export const CACHE_NAMESPACES: readonly CacheNamespace[] = Object.freeze([
  "class",
  "classList",
  "certificate",
  "order",
  "contact",
  "certificateList",
  "orderList",
  "contactList",
]);

/** The namespaces whose keys carry the account's list generation (see `invalidateLists`). */
export const LIST_NAMESPACES: readonly CacheNamespace[] = Object.freeze([
  "certificateList",
  "orderList",
  "contactList",
]);

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** The TTLs of the policy, in milliseconds. */
export const CACHE_TTL_MS = Object.freeze({
  /** Product catalogue (GetCertificateInfo): changes with the provider's price list, not with use. */
  catalog: 6 * HOUR,
  /** Certificates and orders in a final state; contacts once verified. */
  final: 24 * HOUR,
  /** Active certificates and orders (capped at their expiry). */
  active: 1 * MINUTE,
  /** Certificates and orders the CA is still working on (processing, *_processing). */
  changing: 10 * SECOND,
  /** Contacts not (yet) verified: the data is immutable, the verification status is not. */
  contactUnverified: 5 * MINUTE,
  /** Pages of the account's certificate, order and contact lists. */
  list: 10 * SECOND,
  /** The account's list generation: must outlive every list entry stored under it. */
  listGeneration: 24 * HOUR,
});

/** One row of the policy table. */
export interface CachePolicyRow {
  readonly namespace: CacheNamespace;
  /** Which values of the namespace the row is about ("any" when the state does not matter). */
  readonly when: string;
  /** TTL in milliseconds. */
  readonly ttlMs: number;
  readonly why: string;
}

/**
 * The cache policy, one row per (namespace, state). Absent objects (the upstream answered 545
 * or similar) are never cached: ids are handed out by the upstream, a negative entry could hide
 * an object another replica has just created, and the upstream answers "not found" cheaply.
 * Every mutation the gateway sends invalidates what it changes before it answers (`invalidate`,
 * `invalidateLists`), so the TTLs bound only what changes outside the gateway: the CA's work,
 * expiry, and other clients of the same upstream account.
 */
export const CACHE_POLICY: readonly CachePolicyRow[] = Object.freeze([
  {
    namespace: "class",
    when: "any",
    ttlMs: CACHE_TTL_MS.catalog,
    why: "The product matrix changes when the provider changes its catalogue, a few times a year.",
  },
  {
    namespace: "classList",
    when: "any",
    ttlMs: CACHE_TTL_MS.catalog,
    why: "The list of class names is the same catalogue.",
  },
  {
    namespace: "certificate",
    when: "revoked, expired, canceled, failed",
    ttlMs: CACHE_TTL_MS.final,
    why: "Final states never change; a renewal or reissue creates a new certificate, and a delete goes through the gateway, which invalidates it.",
  },
  {
    namespace: "certificate",
    when: "active",
    ttlMs: CACHE_TTL_MS.active,
    why: "Changes rarely, and through the gateway it is invalidated at once; a revoke or reissue from elsewhere shows within a minute. Never kept past expiresAt, so it cannot stay active after it expired.",
  },
  {
    namespace: "certificate",
    when: "processing, cancel_processing, revoke_processing, or unknown",
    ttlMs: CACHE_TTL_MS.changing,
    why: "The CA moves these on (validation passes, a cancel completes) and clients poll for it: the issuance shows at most 10 s late, while a burst of polls still costs one upstream read.",
  },
  {
    namespace: "order",
    when: "revoked, expired, canceled, failed",
    ttlMs: CACHE_TTL_MS.final,
    why: "As for certificates: final states do not change.",
  },
  {
    namespace: "order",
    when: "active",
    ttlMs: CACHE_TTL_MS.active,
    why: "A reissue or renewal through the gateway invalidates it; out-of-band changes show within a minute. Never kept past paidUntil.",
  },
  {
    namespace: "order",
    when: "processing, cancel_processing, revoke_processing, or unknown",
    ttlMs: CACHE_TTL_MS.changing,
    why: "As for certificates: the CA is moving it on.",
  },
  {
    namespace: "contact",
    when: "status verified",
    ttlMs: CACHE_TTL_MS.final,
    why: "Contacts are immutable once created (manual 9.1.7), and a verified contact stays verified.",
  },
  {
    namespace: "contact",
    when: "any other status (unverified, none)",
    ttlMs: CACHE_TTL_MS.contactUnverified,
    why: "The data cannot change but the verification status does, when the CA has checked the organisation (hours to days); seeing that 5 minutes late costs nothing.",
  },
  {
    namespace: "certificateList",
    when: "any",
    ttlMs: CACHE_TTL_MS.list,
    why: "A page changes with every order and status change; every mutation of the account drops all its lists at once (list generation), the TTL bounds what the CA changes.",
  },
  {
    namespace: "orderList",
    when: "any",
    ttlMs: CACHE_TTL_MS.list,
    why: "As for certificate lists.",
  },
  {
    namespace: "contactList",
    when: "any",
    ttlMs: CACHE_TTL_MS.list,
    why: "As for certificate lists (a new contact appears through the gateway, which drops the lists).",
  },
] satisfies CachePolicyRow[]);

const FINAL_STATES: ReadonlySet<string> = new Set<CertificateStatusValue>([
  "revoked",
  "expired",
  "canceled",
  "failed",
]);

/**
 * The TTL in milliseconds for one value of `namespace` as the policy table says, or `undefined`
 * when the value must not be cached (`null`/`undefined`, i.e. absent). Reads `status` and, for
 * active certificates and orders, `expiresAt`/`paidUntil` (a `Date`), which cap the TTL so that
 * an active value is never served past its expiry. Never returns 0 or less. Pure; never throws.
 *
 * @param nowMs - the current time, epoch milliseconds
 */
export function ttlFor(
  namespace: CacheNamespace,
  value: unknown,
  nowMs: number,
): number | undefined {
  if (value === null || value === undefined) {
    return undefined;
  }
  const fields = typeof value === "object" ? (value as Record<string, unknown>) : {};
  switch (namespace) {
    case "class":
    case "classList":
      return CACHE_TTL_MS.catalog;
    case "certificateList":
    case "orderList":
    case "contactList":
      return CACHE_TTL_MS.list;
    case "contact":
      return typeof fields.status === "string" && fields.status.toLowerCase() === "verified"
        ? CACHE_TTL_MS.final
        : CACHE_TTL_MS.contactUnverified;
    case "certificate":
      return stateTtl(fields.status, fields.expiresAt, nowMs);
    case "order":
      return stateTtl(fields.status, fields.paidUntil, nowMs);
  }
}

function stateTtl(status: unknown, until: unknown, nowMs: number): number {
  if (typeof status !== "string") {
    return CACHE_TTL_MS.changing;
  }
  if (FINAL_STATES.has(status)) {
    return CACHE_TTL_MS.final;
  }
  if (status !== "active") {
    return CACHE_TTL_MS.changing;
  }
  if (until instanceof Date && !Number.isNaN(until.getTime())) {
    const left = until.getTime() - nowMs;
    // Past its end but still "active": the upstream is about to flip it, so look again soon.
    return left > 0 ? Math.min(CACHE_TTL_MS.active, left) : CACHE_TTL_MS.changing;
  }
  return CACHE_TTL_MS.active;
}
