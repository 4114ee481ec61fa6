/**
 * Reconciliation of costly certificate commands (order, renewal, reissue) whose outcome is
 * unknown: the request may have reached the upstream, but no answer came back (a timeout, a lost
 * connection). The idempotency record of such an attempt is `unknown`; when the client asks again
 * with the same key, the gateway first looks upstream for the certificate the attempt may have
 * created, and answers it if found. Only when nothing was created, and the attempt is old enough
 * that the upstream cannot still be working on it, does the retry send the command (once).
 *
 * The matching is pure (`describeCertificateAttempt`, `certificateListArgs`, `candidateRows`,
 * `isAttemptResult`); `findAttemptResult` and `settleUnknownAttempt` do the I/O. GraphQL-agnostic.
 */
import {
  IdempotencyOutcomeUnknownError,
  type IdempotencyStore,
  type UnknownOutcomeResolution,
} from "./idempotency";
import { publicKeyFingerprint } from "./pki/csr";
import { type UpstreamClient } from "./upstream/client";
import { type WireReply } from "./upstream/codec";
import { type CommandArgs } from "./upstream/commands";
import { decodeCertificate, decodeCertificateRows, toStoredReply } from "./upstream/records";
import { type CertificateRecord, type CertificateRowRecord } from "./upstream/types";

/**
 * What a costly certificate command is expected to create, kept with its idempotency record
 * (`IdempotencyScope.lookup`) so that a retry on any replica can look for it. Plain JSON: class,
 * domains and the CSR's public key are no secret. When the attempt was made comes from the
 * record (`claimedAt`).
 */
export interface CertificateAttempt {
  readonly kind: "certificate";
  /** Lower-case class name the new certificate has. */
  readonly className: string;
  /** Domains (normalised) the new certificate covers; it may cover more (free alternatives). */
  readonly domains: readonly string[];
  /** `publicKeyFingerprint` of the CSR the command sends (or keeps); `null`: not compared. */
  readonly csrKey: string | null;
  /** The order the new certificate belongs to (reissues); `null`: any order (a new one). */
  readonly orderId: string | null;
  /** Certificates that match but existed before the attempt: the renewed or reissued one. */
  readonly excludeIds: readonly string[];
}

/**
 * How far the upstream's clock may be behind ours, in ms: certificates created up to this long
 * before the attempt started still count as its result. The CSR key, the domains and the class
 * must match as well, so a wide window costs little.
 */
export const CLOCK_SKEW_MS = 10 * 60 * 1000;

/** Most candidates of the list that are looked at in full (one StatusCertificate each). */
export const MAX_CANDIDATES = 10;

/** Rows of QueryCertificateList asked for: the newest certificates of the class and domain. */
const LIST_LIMIT = 100;

/** Lower case, trimmed, without a trailing dot: the form the upstream lists domains in. */
export function normalizeDomainName(domain: string): string {
  return domain.trim().toLowerCase().replace(/\.$/, "");
}

function csrKeyOf(pem: string | null | undefined): string | null {
  if (pem === null || pem === undefined || pem.trim() === "") {
    return null;
  }
  try {
    return publicKeyFingerprint(pem);
  } catch {
    return null; // a CSR the gateway cannot read is not compared (the upstream refuses it anyway)
  }
}

/**
 * Describes what a command will create, for its idempotency record. `csr` is the CSR the command
 * sends or the one the renewed or reissued certificate keeps; `orderId` the order a reissue stays
 * in; `excludeIds` the certificate a renewal or reissue starts from. Pure; never throws.
 */
export function describeCertificateAttempt(what: {
  className: string;
  domains: readonly string[];
  csr?: string | null;
  orderId?: string | null;
  excludeIds?: readonly string[];
}): CertificateAttempt {
  return {
    kind: "certificate",
    className: what.className.trim().toLowerCase(),
    domains: [...new Set(what.domains.map(normalizeDomainName))].filter(d => d !== ""),
    csrKey: csrKeyOf(what.csr),
    orderId: what.orderId ?? null,
    excludeIds: [...(what.excludeIds ?? [])],
  };
}

const isStringArray = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every(item => typeof item === "string");

/**
 * The `CertificateAttempt` an idempotency record holds (`IdempotencyRecord.lookup`), or
 * `undefined` when it holds none or something else (a record of another version). Pure.
 */
export function parseCertificateAttempt(value: unknown): CertificateAttempt | undefined {
  if (typeof value !== "object" || value === null) {
    return undefined;
  }
  const v = value as Record<string, unknown>;
  const valid =
    v.kind === "certificate" &&
    typeof v.className === "string" &&
    v.className !== "" &&
    isStringArray(v.domains) &&
    v.domains.length > 0 &&
    (v.csrKey === null || typeof v.csrKey === "string") &&
    (v.orderId === null || typeof v.orderId === "string") &&
    isStringArray(v.excludeIds);
  return valid ? (value as CertificateAttempt) : undefined;
}

/**
 * The QueryCertificateList arguments that find the attempt's certificate: the newest of its class
 * (and order) that cover its first domain. Pure.
 */
export function certificateListArgs(
  attempt: CertificateAttempt,
): CommandArgs<"QueryCertificateList"> {
  return {
    wide: 1,
    class: attempt.className,
    domain: attempt.domains[0],
    certificateorder: attempt.orderId ?? undefined,
    orderby: "CREATEDDATE",
    order: "DESC",
    limit: LIST_LIMIT,
  };
}

/**
 * The rows of the list that may be the attempt's certificate: of its class (and order), not
 * excluded, created at or after `attemptedAt - skewMs` (rows without a date count), oldest first,
 * at most `MAX_CANDIDATES`. Pure.
 *
 * @param attemptedAt - when the attempt started (epoch ms, `IdempotencyRecord.claimedAt`)
 */
export function candidateRows(
  rows: readonly CertificateRowRecord[],
  attempt: CertificateAttempt,
  attemptedAt: number,
  skewMs: number = CLOCK_SKEW_MS,
): CertificateRowRecord[] {
  const excluded = new Set(attempt.excludeIds);
  const since = attemptedAt - skewMs;
  const time = (row: CertificateRowRecord): number => row.createdAt?.getTime() ?? Infinity;
  return rows
    .filter(
      row =>
        !excluded.has(row.id) &&
        row.className === attempt.className &&
        (attempt.orderId === null || row.orderId === attempt.orderId) &&
        time(row) >= since,
    )
    .sort((a, b) => (time(a) === time(b) ? 0 : time(a) - time(b)))
    .slice(0, MAX_CANDIDATES);
}

/**
 * True when `record` is what the attempt would have created: same class, same order (reissues),
 * not excluded, every domain of the attempt among its domains, and the same CSR public key when
 * the attempt has one. The creation time is `candidateRows`' business. Pure.
 */
export function isAttemptResult(record: CertificateRecord, attempt: CertificateAttempt): boolean {
  if (
    attempt.excludeIds.includes(record.id) ||
    record.className !== attempt.className ||
    (attempt.orderId !== null && record.orderId !== attempt.orderId)
  ) {
    return false;
  }
  const domains = new Set(record.domains.map(normalizeDomainName));
  if (!attempt.domains.every(domain => domains.has(domain))) {
    return false;
  }
  return attempt.csrKey === null || csrKeyOf(record.csr) === attempt.csrKey;
}

/**
 * Looks upstream for the certificate the attempt created: one QueryCertificateList, then one
 * StatusCertificate per candidate until one matches. Resolves with that StatusCertificate reply
 * (it carries what an order's reply carries), or `undefined` when none matches.
 *
 * @throws UpstreamError when a lookup fails (nothing can be concluded then)
 */
export async function findAttemptResult(
  upstream: UpstreamClient,
  attempt: CertificateAttempt,
  attemptedAt: number,
): Promise<WireReply | undefined> {
  const list = await upstream.call("QueryCertificateList", certificateListArgs(attempt));
  for (const row of candidateRows(decodeCertificateRows(list).items, attempt, attemptedAt)) {
    const reply = await upstream.call("StatusCertificate", { certificate: row.id });
    if (isAttemptResult(decodeCertificate(reply), attempt)) {
      return reply;
    }
  }
  return undefined;
}

/** What `settleUnknownAttempt` works with. */
export interface ReconcileDeps {
  readonly idempotency: IdempotencyStore;
  /** The client of the account the attempt was made as. */
  readonly upstream: UpstreamClient;
  readonly account: string;
  /**
   * How old an attempt must be before "nothing found" means "it did not run", in ms
   * (`config.gateway.reconcileAfterMs`): a younger one may still be under way upstream.
   */
  readonly reconcileAfterMs: number;
  /** The clock of the idempotency store (epoch ms); default `Date.now`. */
  readonly now?: () => number;
}

/**
 * Settles the `unknown` record of `key` by looking upstream (`findAttemptResult`): found, the
 * record becomes `done` with the certificate's reply (stored as `toStoredReply`, as the resolvers
 * store replies), so `IdempotencyStore.run` answers it; nothing found and the attempt at least
 * `reconcileAfterMs` old, the record is released (`not-run`), so `run` sends the command. Returns
 * without doing anything when the record is no longer `unknown` (another request settled it).
 * Either way the caller then calls `run` again with the same scope.
 *
 * @throws IdempotencyOutcomeUnknownError with `retryAfterMs` when nothing was found yet but the
 *   attempt is too young to conclude; `unknownError` when the record holds no attempt to look
 *   for or the lookup failed (the record stays `unknown`).
 * @throws IdempotencyUnavailableError when the store cannot be read or written.
 */
export async function settleUnknownAttempt(
  deps: ReconcileDeps,
  key: string,
  unknownError: IdempotencyOutcomeUnknownError,
): Promise<void> {
  const now = deps.now ?? Date.now;
  const record = await deps.idempotency.inspect(deps.account, key);
  if (record?.state !== "unknown") {
    return;
  }
  const attempt = parseCertificateAttempt(record.lookup);
  if (attempt === undefined) {
    throw unknownError;
  }
  let found: WireReply | undefined;
  try {
    found = await findAttemptResult(deps.upstream, attempt, record.claimedAt);
  } catch {
    throw unknownError;
  }
  let resolution: UnknownOutcomeResolution;
  if (found !== undefined) {
    resolution = { outcome: "done", result: toStoredReply(found) };
  } else {
    const waitMs = record.claimedAt + deps.reconcileAfterMs - now();
    if (waitMs > 0) {
      throw new IdempotencyOutcomeUnknownError(record.operation, record.claimedAt, waitMs);
    }
    resolution = { outcome: "not-run" };
  }
  // False when another request settled it first: `run` then follows that outcome.
  await deps.idempotency.resolveUnknown(deps.account, key, resolution);
}
