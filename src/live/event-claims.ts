/**
 * Processing each event once across replicas (`EventClaims`). An event id is claimed before it is
 * processed and marked done afterwards; the done mark is kept for a dedup window (30 days by
 * default), so an event seen again (not deleted upstream, or an expiry warning raised by the next
 * scan) is recognised.
 *
 * Redis layout: `gw:v1:events:<account tag>:claim:<event id>` holding `processing:<random>` for
 * `claimTtlMs` while a replica processes it, then `done` for `doneTtlMs`.
 */
import { createHash, randomBytes } from "node:crypto";
import { accountTag, type RedisConnection } from "../cache";
import { notify, withTimeout } from "../store-call";
import { type ClaimResult, type EventClaims } from "./types";

/** Default dedup window: how long a processed event id is remembered, in ms (30 days). */
export const DEFAULT_DONE_TTL_MS = 30 * 24 * 60 * 60 * 1000;
/** Default time a claim protects an event whose processing never finished, in ms (1 minute). */
export const DEFAULT_CLAIM_TTL_MS = 60 * 1000;
/** Default longest wait for one Redis call of the claims, in ms. */
export const DEFAULT_EVENT_CLAIMS_TIMEOUT_MS = 150;

const DONE = "done";
const PROCESSING = "processing:";
const MAX_ID_LENGTH = 200;

/** Options of `createMemoryEventClaims`. */
export interface MemoryEventClaimsOptions {
  /** How long a claim lasts when its holder never completes or releases it, in ms. */
  claimTtlMs?: number;
  /** How long a completed event id is remembered, in ms (default `DEFAULT_DONE_TTL_MS`). */
  doneTtlMs?: number;
  /** The clock, epoch ms (default `Date.now`); tests move it forward. */
  now?: () => number;
}

/** Options of `createRedisEventClaims`. */
export interface RedisEventClaimsOptions {
  /** How long a claim lasts when its holder never completes or releases it, in ms. */
  claimTtlMs?: number;
  /** How long a completed event id is remembered, in ms (default `DEFAULT_DONE_TTL_MS`). */
  doneTtlMs?: number;
  /** Longest wait for one Redis call, in ms (default `DEFAULT_EVENT_CLAIMS_TIMEOUT_MS`). */
  timeoutMs?: number;
  /** Receives every failed or timed out Redis call (log it); must not throw (if it does, ignored). */
  onError?: (error: Error) => void;
}

/**
 * Claims of one process (no Redis): enough for a single replica. Expired entries are swept as
 * claims come in, so memory follows the events of the last `doneTtlMs`. Never rejects.
 */
export function createMemoryEventClaims(options: MemoryEventClaimsOptions = {}): EventClaims {
  const claimTtlMs = positive("claimTtlMs", options.claimTtlMs ?? DEFAULT_CLAIM_TTL_MS);
  const doneTtlMs = positive("doneTtlMs", options.doneTtlMs ?? DEFAULT_DONE_TTL_MS);
  const now = options.now ?? Date.now;
  const entries = new Map<string, { value: string; expiresAt: number }>();
  let nextSweep = 0;

  const read = (key: string): string | undefined => {
    const entry = entries.get(key);
    if (entry && entry.expiresAt <= now()) {
      entries.delete(key);
      return undefined;
    }
    return entry?.value;
  };

  const sweep = (): void => {
    const at = now();
    if (at < nextSweep) {
      return;
    }
    nextSweep = at + claimTtlMs;
    for (const [key, entry] of entries) {
      if (entry.expiresAt <= at) {
        entries.delete(key);
      }
    }
  };

  return {
    claim(account, eventId) {
      sweep();
      const key = claimKey(account, eventId);
      const current = read(key);
      if (current === DONE) {
        return Promise.resolve<ClaimResult>("done");
      }
      if (current !== undefined) {
        return Promise.resolve<ClaimResult>("busy");
      }
      entries.set(key, { value: `${PROCESSING}${token()}`, expiresAt: now() + claimTtlMs });
      return Promise.resolve<ClaimResult>("claimed");
    },
    complete(account, eventId) {
      entries.set(claimKey(account, eventId), { value: DONE, expiresAt: now() + doneTtlMs });
      return Promise.resolve();
    },
    release(account, eventId) {
      const key = claimKey(account, eventId);
      if (read(key)?.startsWith(PROCESSING)) {
        entries.delete(key);
      }
      return Promise.resolve();
    },
  };
}

/**
 * Claims in `key` (ARGV: processing value, claim TTL): `claimed`, or what holds the key now.
 * One script, so a claim that expires between the SET and the GET is not mistaken.
 */
const CLAIM_SCRIPT = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return 'claimed'
end
if redis.call('GET', KEYS[1]) == 'done' then
  return 'done'
end
return 'busy'
`;

/** Deletes `key` when it still holds ARGV[1] (this replica's claim). */
const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`;

/**
 * Claims shared by every replica, in `redis` (the cache's connection). Every call runs under
 * `timeoutMs` and none rejects: when the store fails, `claim` answers `busy` (the event is left
 * upstream and tried again on the next poll: processing nothing beats processing twice),
 * `complete` and `release` do nothing; each failure is reported through `onError`.
 *
 * `release` only deletes a claim this instance made and still holds (compare-and-delete on the
 * claim's random value), so it can never free another replica's claim.
 */
export function createRedisEventClaims(
  redis: RedisConnection,
  options: RedisEventClaimsOptions = {},
): EventClaims {
  const claimTtlMs = positive("claimTtlMs", options.claimTtlMs ?? DEFAULT_CLAIM_TTL_MS);
  const doneTtlMs = positive("doneTtlMs", options.doneTtlMs ?? DEFAULT_DONE_TTL_MS);
  const timeoutMs = options.timeoutMs ?? DEFAULT_EVENT_CLAIMS_TIMEOUT_MS;
  const report = (caught: unknown): void => notify(options.onError, caught);
  /** The values of the claims this instance holds, by key. */
  const held = new Map<string, string>();

  return {
    async claim(account, eventId) {
      const key = claimKey(account, eventId);
      const value = `${PROCESSING}${token()}`;
      try {
        const result = await withTimeout(
          redis.eval(CLAIM_SCRIPT, { keys: [key], arguments: [value, String(claimTtlMs)] }),
          timeoutMs,
          "event claim",
        );
        if (result === "claimed") {
          held.set(key, value);
          return "claimed";
        }
        return result === "done" ? "done" : "busy";
      } catch (caught) {
        report(caught);
        return "busy";
      }
    },
    async complete(account, eventId) {
      const key = claimKey(account, eventId);
      held.delete(key);
      try {
        await withTimeout(
          redis.set(key, DONE, { expiration: { type: "PX", value: doneTtlMs } }),
          timeoutMs,
          "event claim complete",
        );
      } catch (caught) {
        report(caught);
      }
    },
    async release(account, eventId) {
      const key = claimKey(account, eventId);
      const value = held.get(key);
      held.delete(key);
      if (value === undefined) {
        return;
      }
      try {
        await withTimeout(
          redis.eval(RELEASE_SCRIPT, { keys: [key], arguments: [value] }),
          timeoutMs,
          "event claim release",
        );
      } catch (caught) {
        report(caught);
      }
    },
  };
}

/** The store key of a claim (the same in memory and Redis); long ids are hashed. */
function claimKey(account: string, eventId: string): string {
  const id =
    eventId.length > MAX_ID_LENGTH
      ? `#${createHash("sha256").update(eventId).digest("hex")}`
      : eventId;
  return `gw:v1:events:${accountTag(account)}:claim:${id}`;
}

function token(): string {
  return randomBytes(9).toString("base64url");
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 1) {
    throw new RangeError(`event claims: ${name} must be a number >= 1`);
  }
  return Math.ceil(value);
}
