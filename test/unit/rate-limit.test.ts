import { type HeaderMap } from "@apollo/server";
import { type GatewayCache, type RedisLikeClient } from "../../src/cache";
import {
  createRateLimiter,
  createUpstreamBackoff,
  RATE_LIMIT_DEFAULTS,
  RateLimitedError,
  slidingWindow,
  UpstreamAbuseLockError,
  withBackoff,
} from "../../src/rate-limit";
import { type UpstreamClient } from "../../src/upstream/client";
import { type WireReply } from "../../src/upstream/codec";
import { UpstreamError } from "../../src/upstream/errors";

/**
 * An in-memory stand-in for the Redis commands the limiter uses. `eval` runs the JavaScript
 * twin of the two scripts (recognised by their text), atomically as Redis would.
 */
class FakeRedis implements RedisLikeClient {
  readonly data = new Map<string, { value: string; expiresAt?: number }>();
  readonly scripts: { keys: string[]; args: string[] }[] = [];
  failWith: Error | undefined;
  hang = false;

  constructor(readonly clock: () => number) {}

  private live(key: string) {
    const entry = this.data.get(key);
    if (entry?.expiresAt !== undefined && entry.expiresAt <= this.clock()) {
      this.data.delete(key);
      return undefined;
    }
    return entry;
  }

  private guard(): Promise<void> {
    if (this.hang) {
      return new Promise(() => undefined);
    }
    return this.failWith ? Promise.reject(this.failWith) : Promise.resolve();
  }

  async set(
    key: string,
    value: string,
    options?: { condition?: "NX" | "XX"; expiration?: { type: "PX" | "EX"; value: number } },
  ) {
    await this.guard();
    const ms = options?.expiration
      ? options.expiration.value * (options.expiration.type === "EX" ? 1000 : 1)
      : undefined;
    this.data.set(key, { value, expiresAt: ms === undefined ? undefined : this.clock() + ms });
    return "OK";
  }

  async get(key: string) {
    await this.guard();
    return this.live(key)?.value ?? null;
  }

  async del(keys: string | string[]) {
    await this.guard();
    let count = 0;
    for (const key of [keys].flat()) {
      count += this.data.delete(key) ? 1 : 0;
    }
    return count;
  }

  async incr(key: string) {
    await this.guard();
    const entry = this.live(key);
    const value = Number(entry?.value ?? "0") + 1;
    this.data.set(key, { value: String(value), expiresAt: entry?.expiresAt });
    return value;
  }

  async pExpire(key: string, ms: number) {
    await this.guard();
    const entry = this.live(key);
    if (!entry) {
      return 0;
    }
    entry.expiresAt = this.clock() + ms;
    return 1;
  }

  async eval(script: string, options: { keys?: string[]; arguments?: string[] } = {}) {
    await this.guard();
    const keys = options.keys ?? [];
    const args = options.arguments ?? [];
    this.scripts.push({ keys, args });
    if (script.includes("PTTL")) {
      const entry = this.live(keys[0]!);
      if (!entry) {
        return -2;
      }
      return entry.expiresAt === undefined ? -1 : entry.expiresAt - this.clock();
    }
    const [limit, left, window] = args.map(Number) as [number, number, number];
    const current = Number(this.live(keys[0]!)?.value ?? "0");
    const previous = Number(this.live(keys[1]!)?.value ?? "0");
    if ((previous * left) / window + current + 1 > limit) {
      return [0, current, previous];
    }
    const after = Number(this.live(keys[0]!)?.value ?? "0") + 1;
    const entry = this.live(keys[0]!);
    this.data.set(keys[0]!, {
      value: String(after),
      expiresAt: after === 1 ? this.clock() + window * 2 : entry?.expiresAt,
    });
    return [1, current, previous];
  }
}

function clock(start = 0) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms), set: (ms: number) => (now = ms) };
}

const MINUTE = 60_000;

describe("slidingWindow", () => {
  it("allows while this window plus the weighted last one stays under the limit", () => {
    expect(slidingWindow(0, 0, 0, MINUTE, 10)).toEqual({
      allowed: true,
      remaining: 9,
      retryAfterMs: 0,
    });
    // Half-way through: the last window's 10 weigh 5, plus 4 now, plus this one = 10.
    expect(slidingWindow(10, 4, 30_000, MINUTE, 10)).toMatchObject({ allowed: true, remaining: 0 });
    expect(slidingWindow(10, 5, 30_000, MINUTE, 10).allowed).toBe(false);
  });

  it("says how long until the last window has weighed off enough", () => {
    // 10 * (60 - e') / 60 + 5 + 1 <= 10  =>  e' >= 36 s, 6 s after 30 s.
    expect(slidingWindow(10, 5, 30_000, MINUTE, 10).retryAfterMs).toBe(6_000);
  });

  it("waits into the next window when this window alone is full", () => {
    // Next window: 10 * (60 - e'') / 60 + 1 <= 10  =>  e'' >= 6 s, plus the 20 s left.
    expect(slidingWindow(0, 10, 40_000, MINUTE, 10).retryAfterMs).toBe(26_000);
  });
});

describe("createRateLimiter (memory)", () => {
  it("allows the limit per minute, then refuses with Retry-After", async () => {
    const time = clock();
    const limiter = createRateLimiter({ limitPerMinute: 3, now: time.now });

    const decisions = [];
    for (let i = 0; i < 4; i++) {
      decisions.push(await limiter.hit("key:shop"));
    }

    expect(decisions.map(d => [d.allowed, d.remaining])).toEqual([
      [true, 2],
      [true, 1],
      [true, 0],
      [false, 0],
    ]);
    // The burst still weighs into the next minute: 3 * (60 - e) / 60 + 1 <= 3 from e = 20 s.
    expect(decisions[3]).toMatchObject({ limit: 3, retryAfterSeconds: 80, source: "memory" });
    expect(limiter.stats()).toEqual({ storeErrors: 0, limited: 1 });
  });

  it("counts keys separately", async () => {
    const limiter = createRateLimiter({ limitPerMinute: 1, now: () => 0 });

    expect((await limiter.hit("key:a")).allowed).toBe(true);
    expect((await limiter.hit("key:b")).allowed).toBe(true);
    expect((await limiter.hit("key:a")).allowed).toBe(false);
  });

  it("slides: the last minute still weighs at the start of the next", async () => {
    const time = clock();
    const limiter = createRateLimiter({ limitPerMinute: 4, now: time.now });
    for (let i = 0; i < 4; i++) {
      await limiter.hit("k");
    }

    time.set(MINUTE + 15_000); // the last minute weighs 3/4: 3 used
    expect((await limiter.hit("k")).allowed).toBe(true);
    expect((await limiter.hit("k")).allowed).toBe(false);

    time.set(3 * MINUTE);
    expect((await limiter.hit("k")).remaining).toBe(3);
  });

  it("does not count refused requests, so waiting Retry-After gets in", async () => {
    const time = clock();
    const limiter = createRateLimiter({ limitPerMinute: 2, now: time.now });
    await limiter.hit("k");
    await limiter.hit("k");
    let refused = await limiter.hit("k");
    for (let i = 0; i < 50; i++) {
      refused = await limiter.hit("k");
    }

    time.advance(refused.retryAfterSeconds * 1000);

    expect((await limiter.hit("k")).allowed).toBe(true);
  });

  it("uses memory for a cache without Redis", async () => {
    const cache = { redis: () => undefined } as unknown as GatewayCache;
    const limiter = createRateLimiter({ limitPerMinute: 1, cache, now: () => 0 });

    expect(await limiter.hit("k")).toMatchObject({ allowed: true, source: "memory" });
  });

  it("refuses a limit below 1", () => {
    expect(() => createRateLimiter({ limitPerMinute: 0 })).toThrow(RangeError);
  });
});

describe("createRateLimiter (store)", () => {
  it("holds the limit across replicas sharing the store", async () => {
    const time = clock(5_000);
    const redis = new FakeRedis(time.now);
    const replicaA = createRateLimiter({ limitPerMinute: 3, redis, now: time.now });
    const replicaB = createRateLimiter({ limitPerMinute: 3, redis, now: time.now });

    const allowed = [];
    for (const limiter of [replicaA, replicaB, replicaA, replicaB, replicaA]) {
      allowed.push((await limiter.hit("key:shop")).allowed);
    }

    expect(allowed).toEqual([true, true, true, false, false]);
    expect((await replicaB.hit("key:shop")).source).toBe("store");
  });

  it("keeps keys hashed, in one hash slot, expiring after two windows", async () => {
    const time = clock(2 * MINUTE + 1_000);
    const redis = new FakeRedis(time.now);
    const limiter = createRateLimiter({ limitPerMinute: 10, redis, now: time.now });

    await limiter.hit("key:shop");

    const [call] = redis.scripts;
    expect(call?.keys).toEqual([
      expect.stringMatching(/^gw:v1:rate:\{[0-9a-f]{32}\}:2$/),
      expect.stringMatching(/^gw:v1:rate:\{[0-9a-f]{32}\}:1$/),
    ]);
    expect(call?.keys.join()).not.toContain("shop");
    expect(call?.args).toEqual(["10", "59000", "60000"]);
    expect(redis.data.get(call!.keys[0]!)?.expiresAt).toBe(time.now() + 2 * MINUTE);
  });

  it("uses the cache's Redis client", async () => {
    const redis = new FakeRedis(() => 0);
    const cache = { redis: () => redis } as unknown as GatewayCache;
    const limiter = createRateLimiter({ limitPerMinute: 1, cache, now: () => 0 });

    expect(await limiter.hit("k")).toMatchObject({ allowed: true, source: "store" });
    expect(redis.scripts).toHaveLength(1);
  });

  it("falls back to the replica's memory when the store fails, counting the error", async () => {
    const redis = new FakeRedis(() => 0);
    redis.failWith = new Error("ECONNREFUSED");
    const onStoreError = jest.fn();
    const limiter = createRateLimiter({ limitPerMinute: 1, redis, now: () => 0, onStoreError });

    const first = await limiter.hit("k");
    const second = await limiter.hit("k");

    expect(first).toMatchObject({ allowed: true, source: "memory" });
    expect(second).toMatchObject({ allowed: false, source: "memory" });
    expect(limiter.stats().storeErrors).toBe(2);
    expect(onStoreError).toHaveBeenCalledWith(expect.objectContaining({ message: "ECONNREFUSED" }));
  });

  it("does not wait for a store that hangs", async () => {
    const redis = new FakeRedis(() => 0);
    redis.hang = true;
    const limiter = createRateLimiter({ limitPerMinute: 1, redis, storeTimeoutMs: 20 });

    const decision = await limiter.hit("k");

    expect(decision).toMatchObject({ allowed: true, source: "memory" });
    expect(limiter.stats().storeErrors).toBe(1);
  });

  it("survives a listener that throws", async () => {
    const redis = new FakeRedis(() => 0);
    redis.failWith = new Error("down");
    const limiter = createRateLimiter({
      limitPerMinute: 1,
      redis,
      onStoreError: () => {
        throw new Error("broken logger");
      },
    });

    await expect(limiter.hit("k")).resolves.toMatchObject({ allowed: true });
  });
});

describe("RateLimitedError", () => {
  it("is RATE_LIMITED with HTTP 429 and Retry-After", () => {
    const error = new RateLimitedError({
      allowed: false,
      limit: 600,
      remaining: 0,
      retryAfterSeconds: 12,
      source: "store",
    });

    expect(error.message).toBe("Rate limit of 600 requests per minute reached; try again in 12 s.");
    expect(error.extensions).toMatchObject({ code: "RATE_LIMITED", retryAfterSeconds: 12 });
    const http = error.extensions.http as { status: number; headers: HeaderMap };
    expect(http.status).toBe(429);
    expect(http.headers.get("retry-after")).toBe("12");
  });
});

describe("createUpstreamBackoff", () => {
  it("cools an account down for the configured time", async () => {
    const time = clock();
    const backoff = createUpstreamBackoff({ cooldownMs: 1_000, now: time.now });

    await backoff.lock("reseller");

    expect(await backoff.remainingMs("reseller")).toBe(1_000);
    expect(await backoff.remainingMs("other")).toBe(0);
    time.advance(1_000);
    expect(await backoff.remainingMs("reseller")).toBe(0);
  });

  it("defaults to five minutes", () => {
    expect(createUpstreamBackoff().cooldownMs).toBe(RATE_LIMIT_DEFAULTS.backoffMs);
    expect(RATE_LIMIT_DEFAULTS.backoffMs).toBe(300_000);
  });

  it("shares a lock with other replicas through the store", async () => {
    const time = clock();
    const redis = new FakeRedis(time.now);
    const replicaA = createUpstreamBackoff({ redis, now: time.now, cooldownMs: 60_000 });
    const replicaB = createUpstreamBackoff({ redis, now: time.now, checkIntervalMs: 1_000 });

    expect(await replicaB.remainingMs("reseller")).toBe(0);
    await replicaA.lock("reseller");
    // B believed "not locked" for a second; then it asks the store again.
    expect(await replicaB.remainingMs("reseller")).toBe(0);
    time.advance(1_000);

    expect(await replicaB.remainingMs("reseller")).toBe(59_000);
    expect([...redis.data.keys()]).toEqual([expect.stringMatching(/^gw:v1:backoff:[0-9a-f]{16}$/)]);
  });

  it("keeps its own knowledge when the store fails", async () => {
    const redis = new FakeRedis(() => 0);
    redis.failWith = new Error("down");
    const onStoreError = jest.fn();
    const backoff = createUpstreamBackoff({ redis, now: () => 0, onStoreError });

    await backoff.lock("reseller");

    expect(await backoff.remainingMs("reseller")).toBe(RATE_LIMIT_DEFAULTS.backoffMs);
    expect(await backoff.remainingMs("other")).toBe(0);
    expect(onStoreError).toHaveBeenCalledTimes(2);
  });
});

describe("withBackoff", () => {
  const reply: WireReply = { code: 200, description: "ok", properties: new Map(), columns: [] };

  function abuseLock(): UpstreamError {
    return new UpstreamError({
      code: "UPSTREAM_TEMPORARY",
      command: "QueryCertificateList",
      message: "locked",
      retryable: false,
      upstreamCode: 422,
      upstreamDescription: "Command failed; abuse lock",
    });
  }

  function fakeClient(outcomes: (WireReply | Error)[]) {
    const calls: string[] = [];
    const client: UpstreamClient = {
      call: command => {
        calls.push(command);
        const next = outcomes.shift() ?? reply;
        return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
      },
      close: jest.fn(() => Promise.resolve()),
    };
    return { client, calls };
  }

  it("locks the account on a 422 and sends nothing for it until the cool-down ends", async () => {
    const time = clock();
    const backoff = createUpstreamBackoff({ cooldownMs: 300_000, now: time.now });
    const { client, calls } = fakeClient([abuseLock()]);
    const guarded = withBackoff(client, "reseller", backoff);

    const first = await guarded.call("QueryCertificateList", {}).catch((e: unknown) => e);
    const second = await guarded
      .call("StatusCertificate", { certificate: "1" })
      .catch((e: unknown) => e);

    expect(first).toBeInstanceOf(UpstreamAbuseLockError);
    expect((first as UpstreamAbuseLockError).extensions).toMatchObject({
      code: "UPSTREAM_ABUSE_LOCK",
      command: "QueryCertificateList",
      retryAfterSeconds: 300,
      retryable: true,
      upstreamCode: 422,
      upstreamDescription: "Command failed; abuse lock",
    });
    expect(second).toBeInstanceOf(UpstreamAbuseLockError);
    expect((second as UpstreamAbuseLockError).outcomeUnknown).toBe(false);
    const http = (second as UpstreamAbuseLockError).extensions.http as {
      status: number;
      headers: HeaderMap;
    };
    expect(http.status).toBe(503);
    expect(http.headers.get("retry-after")).toBe("300");
    expect(calls).toEqual(["QueryCertificateList"]);

    time.advance(300_000);
    await expect(guarded.call("StatusCertificate", { certificate: "1" })).resolves.toBe(reply);
    expect(calls).toHaveLength(2);
  });

  it("does not hold other accounts back", async () => {
    const backoff = createUpstreamBackoff({ now: () => 0 });
    await backoff.lock("someone-else");
    const { client, calls } = fakeClient([]);

    await withBackoff(client, "reseller", backoff).call("GetCertificateInfo", {});

    expect(calls).toEqual(["GetCertificateInfo"]);
  });

  it("passes other errors on unchanged and closes the client", async () => {
    const other = new UpstreamError({
      code: "UPSTREAM_REJECTED",
      command: "StatusCertificate",
      message: "no",
      retryable: false,
      upstreamCode: 545,
    });
    const { client } = fakeClient([other]);
    const guarded = withBackoff(client, "reseller", createUpstreamBackoff());

    await expect(guarded.call("StatusCertificate", { certificate: "x" })).rejects.toBe(other);
    await guarded.close();
    expect(client.close).toHaveBeenCalledTimes(1);
  });
});
