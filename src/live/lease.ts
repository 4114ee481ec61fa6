/**
 * Leases (`Lease`): one holder at a time per name, for a TTL the holder renews while it works.
 * The event poller of an account runs on the replica holding `poller:<account tag>`; when that
 * replica stops it releases the lease, when it dies the lease runs out, and another replica takes
 * over on its next tick.
 *
 * Redis layout: `gw:v1:lease:<name>` holding the holder's id, with the lease's TTL.
 */
import { type RedisConnection } from "../cache";
import { notify, withTimeout } from "../store-call";
import { type Lease } from "./types";

/** Default longest wait for one Redis call of a lease, in ms. */
export const DEFAULT_LEASE_TIMEOUT_MS = 150;

/** Options of `createMemoryLease`. */
export interface MemoryLeaseOptions {
  /** The clock, epoch ms (default `Date.now`); tests move it forward. */
  now?: () => number;
}

/** Options of `createRedisLease`. */
export interface RedisLeaseOptions {
  /** Longest wait for one Redis call, in ms (default `DEFAULT_LEASE_TIMEOUT_MS`). */
  timeoutMs?: number;
  /** Receives every failed or timed out Redis call (log it); must not throw (if it does, ignored). */
  onError?: (error: Error) => void;
}

/** Leases of one process (no Redis): a single replica, or tests. Never rejects. */
export function createMemoryLease(options: MemoryLeaseOptions = {}): Lease {
  const now = options.now ?? Date.now;
  const leases = new Map<string, { holder: string; expiresAt: number }>();

  return {
    acquire(name, holder, ttlMs) {
      const at = now();
      const current = leases.get(name);
      if (current && current.expiresAt > at && current.holder !== holder) {
        return Promise.resolve(false);
      }
      leases.set(name, { holder, expiresAt: at + ttl(ttlMs) });
      return Promise.resolve(true);
    },
    release(name, holder) {
      if (leases.get(name)?.holder === holder) {
        leases.delete(name);
      }
      return Promise.resolve();
    },
  };
}

/**
 * Takes the lease (ARGV: holder, TTL in ms) when it is free, renews it when the holder holds it;
 * 1 when the holder holds it now, else 0.
 */
const ACQUIRE_SCRIPT = `
local current = redis.call('GET', KEYS[1])
if not current then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if current == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
`;

/** Deletes the lease when ARGV[1] holds it. */
const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`;

/**
 * Leases shared by every replica, in `redis` (the cache's connection). Each call is one atomic
 * script under `timeoutMs`; none rejects. When the store fails, `acquire` answers false (better
 * nobody polls for a while than two) and `release` does nothing (the lease runs out); failures
 * are reported through `onError`.
 */
export function createRedisLease(redis: RedisConnection, options: RedisLeaseOptions = {}): Lease {
  const timeoutMs = options.timeoutMs ?? DEFAULT_LEASE_TIMEOUT_MS;
  const report = (caught: unknown): void => notify(options.onError, caught);

  return {
    async acquire(name, holder, ttlMs) {
      try {
        const result = await withTimeout(
          redis.eval(ACQUIRE_SCRIPT, {
            keys: [leaseKey(name)],
            arguments: [holder, String(ttl(ttlMs))],
          }),
          timeoutMs,
          "lease acquire",
        );
        return result === 1;
      } catch (caught) {
        report(caught);
        return false;
      }
    },
    async release(name, holder) {
      try {
        await withTimeout(
          redis.eval(RELEASE_SCRIPT, { keys: [leaseKey(name)], arguments: [holder] }),
          timeoutMs,
          "lease release",
        );
      } catch (caught) {
        report(caught);
      }
    },
  };
}

/** The Redis key of the lease `name`. */
export function leaseKey(name: string): string {
  return `gw:v1:lease:${name}`;
}

function ttl(ttlMs: number): number {
  if (!Number.isFinite(ttlMs) || ttlMs < 1) {
    throw new RangeError("lease: ttlMs must be a number >= 1");
  }
  return Math.ceil(ttlMs);
}
