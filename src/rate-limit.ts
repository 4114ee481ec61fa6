/**
 * Rate limits per caller (API key, or upstream account in pass-through) and the cool-down after
 * the upstream's abuse lock (reply code 422), both on the shared store so they hold across
 * replicas.
 *
 * Rate limit: a sliding window of one minute, approximated from two fixed-window counters (this
 * minute's and the last one's, weighted by how much of the last minute the window still covers),
 * as Cloudflare and nginx do. On Redis the check and the increment are one Lua script, so
 * concurrent replicas never admit more than the limit; refused requests are not counted, so a
 * client that waits `Retry-After` gets in. Window boundaries come from each replica's clock.
 *
 * Store failures fail open to the replica's own memory: while Redis is unreachable (or slower
 * than `storeTimeoutMs`), each replica enforces the limit on its own, so the fleet as a whole may
 * admit up to replicas x limit. Each failure is counted (`stats().storeErrors`) and reported
 * through `onStoreError`; a limit must never turn a store outage into a gateway outage.
 *
 * Keys in the store: `gw:v1:rate:{<sha256 of the key, 32 hex>}:<window number>` and
 * `gw:v1:backoff:<account tag>` (see `accountTag` in cache.ts); no key or login in clear.
 */
import { createHash } from "node:crypto";
import { HeaderMap } from "@apollo/server";
import { GraphQLError } from "graphql";
import { LRUCache } from "lru-cache";
import { accountTag, type GatewayCache, type RedisLikeClient } from "./cache";
import { notify, withTimeout } from "./store-call";
import { type CallOptions, type UpstreamClient } from "./upstream/client";
import { type CommandArgs, type CommandName } from "./upstream/commands";
import { UpstreamError, type UpstreamOperation } from "./upstream/errors";

/** Defaults of the rate limiter and the upstream backoff. */
export const RATE_LIMIT_DEFAULTS = Object.freeze({
  /** Requests per minute and key (`GATEWAY_RATE_LIMIT`). */
  limitPerMinute: 600,
  /** Length of one window, in ms. */
  windowMs: 60_000,
  /** Longest wait for one store call before it counts as failed, in ms (as the cache's). */
  storeTimeoutMs: 150,
  /** Most keys the in-memory limiter tracks (least recently used are dropped). */
  maxKeys: 100_000,
  /** Cool-down after an upstream 422, in ms (`GATEWAY_UPSTREAM_BACKOFF_MS`). */
  backoffMs: 300_000,
  /** How long "this account is not locked" is believed before the store is asked again, in ms. */
  backoffCheckMs: 1_000,
});

/** The answer of `RateLimiter.hit`. */
export interface RateLimitDecision {
  /** False: refuse the request (HTTP 429 with `Retry-After`). */
  readonly allowed: boolean;
  /** The limit per window. */
  readonly limit: number;
  /** Requests still allowed right now (0 when refused). */
  readonly remaining: number;
  /** When refused: whole seconds until a request will be allowed (at least 1); else 0. */
  readonly retryAfterSeconds: number;
  /** `store`: decided by the shared store; `memory`: by this replica alone (no store, or it failed). */
  readonly source: "store" | "memory";
}

/** Counters of a limiter since it was created. */
export interface RateLimiterStats {
  /** Store calls that failed or timed out (the replica decided alone). */
  storeErrors: number;
  /** Requests refused. */
  limited: number;
}

/** A rate limiter; one per process, safe to call concurrently. */
export interface RateLimiter {
  /**
   * Counts one request of `key` (e.g. `key:shop`, `account:<tag>`) if the limit allows it.
   * Never rejects: a store failure falls back to the replica's memory.
   */
  hit(key: string): Promise<RateLimitDecision>;
  /** A snapshot of the counters. */
  stats(): RateLimiterStats;
}

/** Options of `createRateLimiter`. Without `cache`/`redis` (or with a non-Redis cache), memory only. */
export interface RateLimiterOptions {
  /** Requests per window and key; at least 1. */
  readonly limitPerMinute: number;
  /** The gateway's shared store: its Redis client is used when it has one. */
  readonly cache?: GatewayCache;
  /** A Redis client to use directly (takes precedence over `cache`). */
  readonly redis?: RedisLikeClient;
  /** Window length in ms; default 60 000. */
  readonly windowMs?: number;
  /** Clock, epoch ms; default `Date.now`. */
  readonly now?: () => number;
  /** Default `RATE_LIMIT_DEFAULTS.storeTimeoutMs`. */
  readonly storeTimeoutMs?: number;
  /** Default `RATE_LIMIT_DEFAULTS.maxKeys`. */
  readonly maxKeys?: number;
  /** Told about each failed store call; must not throw (ignored if it does). */
  readonly onStoreError?: (error: Error) => void;
}

/** What the sliding window says about one more request. */
export interface WindowVerdict {
  readonly allowed: boolean;
  readonly remaining: number;
  /** 0 when allowed, else ms until one more request fits. */
  readonly retryAfterMs: number;
}

/**
 * The sliding-window arithmetic, shared by the memory and Redis paths (the Lua script computes
 * the same condition). `previous` and `current` are the counts of the last and this window,
 * `elapsedMs` the time since this window began. Pure.
 */
export function slidingWindow(
  previous: number,
  current: number,
  elapsedMs: number,
  windowMs: number,
  limit: number,
): WindowVerdict {
  const left = windowMs - elapsedMs;
  const estimate = (previous * left) / windowMs + current;
  if (estimate + 1 <= limit) {
    return { allowed: true, remaining: Math.floor(limit - estimate - 1), retryAfterMs: 0 };
  }
  let waitMs: number;
  if (current + 1 <= limit && previous > 0) {
    // The previous window's share must fall: previous * (W - e') / W + current + 1 <= limit.
    const fits = windowMs - ((limit - current - 1) * windowMs) / previous;
    waitMs = fits - elapsedMs;
  } else {
    // Not before the next window, where this window's count becomes the weighted one.
    const intoNext = current > 0 ? windowMs - ((limit - 1) * windowMs) / current : 0;
    waitMs = left + Math.max(0, intoNext);
  }
  return { allowed: false, remaining: 0, retryAfterMs: Math.max(1, Math.ceil(waitMs)) };
}

/**
 * KEYS[1] this window's counter, KEYS[2] the last one's. ARGV: limit, ms left of this window,
 * window length. Returns {allowed (0/1), this window's count before, last window's count}.
 */
const RATE_SCRIPT = `
local limit = tonumber(ARGV[1])
local left = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local previous = tonumber(redis.call('GET', KEYS[2]) or '0')
if previous * left / window + current + 1 > limit then
  return {0, current, previous}
end
if redis.call('INCR', KEYS[1]) == 1 then
  redis.call('PEXPIRE', KEYS[1], window * 2)
end
return {1, current, previous}
`;

interface MemoryCounter {
  window: number;
  current: number;
  previous: number;
}

/**
 * Creates a rate limiter of `limitPerMinute` requests per window (one minute) and key: on the
 * Redis of `redis` or `cache` when there is one, else in this process's memory. Throws
 * `RangeError` for a limit below 1.
 */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const limit = options.limitPerMinute;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new RangeError("createRateLimiter: limitPerMinute must be a whole number >= 1");
  }
  const windowMs = options.windowMs ?? RATE_LIMIT_DEFAULTS.windowMs;
  const now = options.now ?? Date.now;
  const timeoutMs = options.storeTimeoutMs ?? RATE_LIMIT_DEFAULTS.storeTimeoutMs;
  const redis = options.redis ?? options.cache?.redis();
  const stats: RateLimiterStats = { storeErrors: 0, limited: 0 };
  const counters = new LRUCache<string, MemoryCounter>({
    max: Math.max(1, options.maxKeys ?? RATE_LIMIT_DEFAULTS.maxKeys),
    ttl: 2 * windowMs,
    ttlAutopurge: false,
  });

  function decide(verdict: WindowVerdict, source: RateLimitDecision["source"]): RateLimitDecision {
    if (!verdict.allowed) {
      stats.limited += 1;
    }
    return {
      allowed: verdict.allowed,
      limit,
      remaining: verdict.remaining,
      retryAfterSeconds: verdict.allowed ? 0 : Math.max(1, Math.ceil(verdict.retryAfterMs / 1000)),
      source,
    };
  }

  function hitMemory(key: string, at: number): RateLimitDecision {
    const window = Math.floor(at / windowMs);
    const known = counters.get(key);
    let counter: MemoryCounter;
    if (known?.window === window) {
      counter = known;
    } else if (known?.window === window - 1) {
      counter = { window, current: 0, previous: known.current };
    } else {
      counter = { window, current: 0, previous: 0 };
    }
    const verdict = slidingWindow(
      counter.previous,
      counter.current,
      at - window * windowMs,
      windowMs,
      limit,
    );
    if (verdict.allowed) {
      counter.current += 1;
    }
    counters.set(key, counter);
    return decide(verdict, "memory");
  }

  async function hitStore(store: RedisLikeClient, key: string, at: number) {
    const window = Math.floor(at / windowMs);
    const elapsed = at - window * windowMs;
    const tag = createHash("sha256").update(key).digest("hex").slice(0, 32);
    // One hash slot for both keys, so the script also runs on a Redis Cluster.
    const prefix = `gw:v1:rate:{${tag}}`;
    const reply = await withTimeout(
      store.eval(RATE_SCRIPT, {
        keys: [`${prefix}:${window}`, `${prefix}:${window - 1}`],
        arguments: [String(limit), String(windowMs - elapsed), String(windowMs)],
      }),
      timeoutMs,
    );
    const [allowed = 0, current = 0, previous = 0] = numbers(reply, 3);
    const verdict = slidingWindow(previous, current, elapsed, windowMs, limit);
    // The script decided; the arithmetic above only supplies remaining and Retry-After.
    const final: WindowVerdict =
      allowed === 1
        ? { allowed: true, remaining: verdict.allowed ? verdict.remaining : 0, retryAfterMs: 0 }
        : { allowed: false, remaining: 0, retryAfterMs: Math.max(1, verdict.retryAfterMs) };
    return decide(final, "store");
  }

  return {
    async hit(key) {
      const at = now();
      if (redis) {
        try {
          return await hitStore(redis, key, at);
        } catch (caught) {
          stats.storeErrors += 1;
          notify(options.onStoreError, caught);
        }
      }
      return hitMemory(key, at);
    },
    stats: () => ({ ...stats }),
  };
}

/**
 * The caller went over its rate limit: `extensions.code` `RATE_LIMITED`, `retryAfterSeconds`,
 * and HTTP 429 with `Retry-After` (Apollo applies `extensions.http`). Throw it from the context
 * function, or answer it directly from the HTTP handler.
 */
export class RateLimitedError extends GraphQLError {
  /** Nothing was sent upstream. */
  readonly outcomeUnknown = false;

  constructor(readonly decision: RateLimitDecision) {
    super(
      `Rate limit of ${decision.limit} requests per minute reached; ` +
        `try again in ${decision.retryAfterSeconds} s.`,
      {
        extensions: {
          code: "RATE_LIMITED",
          limit: decision.limit,
          retryAfterSeconds: decision.retryAfterSeconds,
          http: {
            status: 429,
            headers: new HeaderMap([["retry-after", String(decision.retryAfterSeconds)]]),
          },
        },
      },
    );
    this.name = "RateLimitedError";
  }
}

/** The cool-down of accounts the upstream locked for abuse (reply code 422). */
export interface UpstreamBackoff {
  /** The cool-down `lock` applies by default, in ms. */
  readonly cooldownMs: number;
  /**
   * Milliseconds until `account` may be sent commands again; 0 when it is not cooling down.
   * Never rejects: a failing store leaves only this replica's knowledge.
   */
  remainingMs(account: string): Promise<number>;
  /** Starts (or extends) the cool-down of `account` on every replica. Never rejects. */
  lock(account: string, ms?: number): Promise<void>;
}

/** Options of `createUpstreamBackoff`. */
export interface UpstreamBackoffOptions {
  /** Cool-down after a 422, in ms; default `RATE_LIMIT_DEFAULTS.backoffMs` (5 minutes). */
  readonly cooldownMs?: number;
  readonly cache?: GatewayCache;
  readonly redis?: RedisLikeClient;
  readonly now?: () => number;
  readonly storeTimeoutMs?: number;
  /** Default `RATE_LIMIT_DEFAULTS.backoffCheckMs`. */
  readonly checkIntervalMs?: number;
  readonly onStoreError?: (error: Error) => void;
}

const PTTL_SCRIPT = "return redis.call('PTTL', KEYS[1])";

/**
 * Creates the cool-down store: in this process's memory, and in Redis (`SET ... PX`, read with
 * `PTTL`) when `redis` or `cache` has one, so a lock seen by one replica holds on all. A replica
 * asks the store at most once per `checkIntervalMs` per account while it knows of no lock, so
 * another replica's lock reaches it within that interval.
 */
export function createUpstreamBackoff(options: UpstreamBackoffOptions = {}): UpstreamBackoff {
  const cooldownMs = options.cooldownMs ?? RATE_LIMIT_DEFAULTS.backoffMs;
  const now = options.now ?? Date.now;
  const timeoutMs = options.storeTimeoutMs ?? RATE_LIMIT_DEFAULTS.storeTimeoutMs;
  const checkMs = options.checkIntervalMs ?? RATE_LIMIT_DEFAULTS.backoffCheckMs;
  const redis = options.redis ?? options.cache?.redis();
  // account -> lock end (epoch ms, this replica's clock), or when the store last said "none".
  const lockedUntil = new LRUCache<string, number>({ max: 10_000 });
  const checkedAt = new LRUCache<string, number>({ max: 10_000 });
  const storeKey = (account: string): string => `gw:v1:backoff:${accountTag(account)}`;

  return {
    cooldownMs,
    async remainingMs(account) {
      const at = now();
      const until = lockedUntil.get(account) ?? 0;
      if (until > at) {
        return until - at;
      }
      const checked = checkedAt.get(account);
      if (!redis || (checked !== undefined && at - checked < checkMs)) {
        return 0;
      }
      try {
        const reply = await withTimeout(
          redis.eval(PTTL_SCRIPT, { keys: [storeKey(account)], arguments: [] }),
          timeoutMs,
        );
        const [ttl = -2] = numbers([reply], 1);
        if (ttl > 0) {
          lockedUntil.set(account, at + ttl);
          return ttl;
        }
        checkedAt.set(account, at);
      } catch (caught) {
        notify(options.onStoreError, caught);
      }
      return 0;
    },
    async lock(account, ms = cooldownMs) {
      const until = now() + ms;
      if ((lockedUntil.get(account) ?? 0) < until) {
        lockedUntil.set(account, until);
      }
      checkedAt.delete(account);
      if (!redis) {
        return;
      }
      try {
        await withTimeout(
          redis.set(storeKey(account), "1", { expiration: { type: "PX", value: ms } }),
          timeoutMs,
        );
      } catch (caught) {
        notify(options.onStoreError, caught);
      }
    },
  };
}

/**
 * The upstream locked an account for abuse (reply code 422) and the gateway sends nothing for
 * it until the cool-down ends: `extensions.code` `UPSTREAM_ABUSE_LOCK`, `command`,
 * `retryAfterSeconds`, `retryable` (true), `upstreamCode` 422 when this very call got the
 * reply, and HTTP 503 with `Retry-After`. `outcomeUnknown` is false: the command did not run.
 */
export class UpstreamAbuseLockError extends GraphQLError {
  /** The command did not run (the idempotency store releases the key). */
  readonly outcomeUnknown = false;
  readonly retryAfterSeconds: number;

  constructor(
    readonly command: UpstreamOperation,
    remainingMs: number,
    fromReply?: UpstreamError,
  ) {
    const seconds = Math.max(1, Math.ceil(remainingMs / 1000));
    super(
      "The upstream API locked the account after too many requests; the gateway sends nothing " +
        `for it for ${seconds} s. Try again later.`,
      {
        extensions: {
          code: "UPSTREAM_ABUSE_LOCK",
          command,
          retryable: true,
          retryAfterSeconds: seconds,
          ...(fromReply?.upstreamCode !== undefined
            ? { upstreamCode: fromReply.upstreamCode }
            : {}),
          ...(fromReply?.upstreamDescription !== undefined
            ? { upstreamDescription: fromReply.upstreamDescription }
            : {}),
          http: { status: 503, headers: new HeaderMap([["retry-after", String(seconds)]]) },
        },
      },
    );
    this.name = "UpstreamAbuseLockError";
    this.retryAfterSeconds = seconds;
  }
}

/** The reply code of the upstream's abuse lock. */
const ABUSE_LOCK_CODE = 422;

/**
 * Wraps `client` for the upstream `account`: while the account cools down every call rejects
 * with `UpstreamAbuseLockError` without sending; a call answered 422 starts the cool-down on
 * every replica and rejects with `UpstreamAbuseLockError` (carrying the upstream's code and
 * description). Other results pass unchanged. `close` closes `client`.
 */
export function withBackoff(
  client: UpstreamClient,
  account: string,
  backoff: UpstreamBackoff,
): UpstreamClient {
  async function call<C extends CommandName>(
    command: C,
    args: CommandArgs<C>,
    callOptions?: CallOptions,
  ) {
    const waitMs = await backoff.remainingMs(account);
    if (waitMs > 0) {
      throw new UpstreamAbuseLockError(command, waitMs);
    }
    try {
      return await client.call(command, args, callOptions);
    } catch (error) {
      if (error instanceof UpstreamError && error.upstreamCode === ABUSE_LOCK_CODE) {
        await backoff.lock(account);
        throw new UpstreamAbuseLockError(command, backoff.cooldownMs, error);
      }
      throw error;
    }
  }
  return { call, close: () => client.close() };
}

function numbers(reply: unknown, count: number): number[] {
  const values = Array.isArray(reply) ? reply : [];
  const result: number[] = [];
  for (let index = 0; index < count; index++) {
    const value = Number(values[index]);
    if (!Number.isFinite(value)) {
      throw new TypeError("unexpected reply of the store's script");
    }
    result.push(value);
  }
  return result;
}
