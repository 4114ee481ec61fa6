import { createHash } from "node:crypto";
import { accountTag, type RedisLikeClient } from "../../src/cache";
import {
  createRedisIdempotencyStore,
  fingerprintOf,
  IdempotencyConflictError,
  IdempotencyInProgressError,
  type IdempotencyScope,
  IdempotencyOutcomeUnknownError,
  IdempotencyUnavailableError,
  MIN_IDEMPOTENCY_TTL_MS,
  type RedisIdempotencyStoreOptions,
} from "../../src/idempotency";

const DAY_MS = 24 * 60 * 60 * 1000;

function scope(changes: Partial<IdempotencyScope> = {}): IdempotencyScope {
  return {
    account: "reseller-1",
    key: "key-1",
    operation: "orderCertificate",
    fingerprint: fingerprintOf({ class: "ssl123dv", domains: ["example.com"] }),
    ttlMs: DAY_MS,
    ...changes,
  };
}

/** A promise whose settlement the test controls. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** An upstream-like error that says whether the command may have run. */
function upstreamError(code: string, outcomeUnknown: boolean): Error {
  return Object.assign(new Error(`AddCertificate: ${code}`), { code, outcomeUnknown });
}

type Operation = "set" | "get" | "eval";

/**
 * An in-memory Redis with the commands the store uses: `SET NX PX`, `GET` and `EVAL` of its one
 * script (compare-and-set; the real script runs in test/integration/idempotency-redis.test.ts). Faults:
 * `failNext` rejects the next call of a command without running it; `delayNext` runs it at once
 * but answers late, like a reply lost in a slow network.
 */
function fakeRedis(now: () => number = Date.now) {
  const data = new Map<string, { value: string; expiresAt: number }>();
  const faults = new Map<Operation, ("fail" | number)[]>();
  const calls: Operation[] = [];

  const read = (key: string): string | null => {
    const entry = data.get(key);
    if (entry && entry.expiresAt <= now()) {
      data.delete(key);
      return null;
    }
    return entry?.value ?? null;
  };

  async function answer<T>(operation: Operation, run: () => T): Promise<T> {
    calls.push(operation);
    const fault = faults.get(operation)?.shift();
    if (fault === "fail") {
      throw new Error(`fake redis: ${operation} failed`);
    }
    const value = run();
    if (typeof fault === "number") {
      await new Promise(resolve => setTimeout(resolve, fault));
    }
    return value;
  }

  const client: RedisLikeClient = {
    set: (key, value, options) =>
      answer("set", () => {
        if (options?.condition === "NX" && read(key) !== null) {
          return null;
        }
        const ttl = options?.expiration?.value ?? Infinity;
        data.set(key, { value, expiresAt: now() + ttl });
        return "OK";
      }),
    get: key => answer("get", () => read(key)),
    del: () => Promise.reject(new Error("not used")),
    incr: () => Promise.reject(new Error("not used")),
    pExpire: () => Promise.reject(new Error("not used")),
    eval: (_script, options) =>
      answer("eval", () => {
        const [key] = options?.keys ?? [];
        const [expected, next, ttl] = options?.arguments ?? [];
        if (key === undefined || read(key) !== expected) {
          return 0;
        }
        data.set(key, { value: next!, expiresAt: now() + Number(ttl) });
        return 1;
      }),
  };

  return {
    client,
    data,
    calls,
    failNext: (operation: Operation) => {
      faults.set(operation, [...(faults.get(operation) ?? []), "fail"]);
    },
    delayNext: (operation: Operation, ms: number) => {
      faults.set(operation, [...(faults.get(operation) ?? []), ms]);
    },
    ttlOf: (key: string) => (data.get(key)?.expiresAt ?? 0) - now(),
  };
}

function storeOn(redis: ReturnType<typeof fakeRedis>, options: RedisIdempotencyStoreOptions = {}) {
  return createRedisIdempotencyStore(redis.client, { pollMs: 2, ...options });
}

const keyOf = (account: string, key: string): string =>
  `gw:v1:idem:${accountTag(account)}:${createHash("sha256").update(key).digest("hex")}`;

describe("createRedisIdempotencyStore", () => {
  it("sends once for concurrent calls through two replicas and gives all of them the result", async () => {
    const redis = fakeRedis();
    const one = storeOn(redis);
    const two = storeOn(redis);
    const upstream = deferred<{ id: string; domains: string[] }>();
    const send = jest.fn(() => upstream.promise);

    const calls = [one, two, one, two].map(store => store.run(scope(), send));
    await new Promise(resolve => setTimeout(resolve, 20));
    expect(send).toHaveBeenCalledTimes(1);
    upstream.resolve({ id: "DK12345678", domains: ["example.com"] });
    const results = await Promise.all(calls);

    expect(send).toHaveBeenCalledTimes(1);
    expect(results).toEqual(Array(4).fill({ id: "DK12345678", domains: ["example.com"] }));
    results[0]!.domains.push("mutated.example.com");
    expect(results[1]!.domains).toEqual(["example.com"]);
  });

  it("replays a JSON copy of the stored result to a later caller without sending", async () => {
    const redis = fakeRedis();
    const send = jest.fn(() => Promise.resolve({ createdAt: new Date(Date.UTC(2025, 0, 1)) }));

    const first = await storeOn(redis).run(scope(), send);
    const again = await storeOn(redis).run(scope(), send);

    expect(send).toHaveBeenCalledTimes(1);
    expect(first).toEqual({ createdAt: "2025-01-01T00:00:00.000Z" });
    expect(again).toEqual(first);
  });

  it("keys records by account tag and key hash, never the login or the key in clear", async () => {
    const redis = fakeRedis();
    const store = storeOn(redis);

    await store.run(scope({ account: "reseller-1", key: "secret-key" }), () => Promise.resolve(1));
    await store.run(scope({ account: "reseller-2", key: "secret-key" }), () => Promise.resolve(2));

    const keys = [...redis.data.keys()];
    expect(keys.sort()).toEqual(
      [keyOf("reseller-1", "secret-key"), keyOf("reseller-2", "secret-key")].sort(),
    );
    const stored = [...redis.data.entries()].map(([key, { value }]) => key + value).join("\n");
    expect(stored).not.toMatch(/reseller-|secret-key/);
    expect(await store.inspect("reseller-1", "secret-key")).toMatchObject({ result: 1 });
    expect(await store.inspect("reseller-2", "secret-key")).toMatchObject({ result: 2 });
  });

  it("keeps pending and settled records for the scope's TTL", async () => {
    const redis = fakeRedis();
    const store = storeOn(redis);
    const upstream = deferred<string>();
    const key = keyOf("reseller-1", "key-1");

    const run = store.run(scope({ ttlMs: 2 * DAY_MS }), () => upstream.promise);
    await new Promise(resolve => setTimeout(resolve, 5));
    expect(redis.ttlOf(key)).toBeGreaterThan(2 * DAY_MS - 1000);
    expect(await store.inspect("reseller-1", "key-1")).toMatchObject({
      state: "pending",
      settledAt: null,
      expiresAt: null,
    });
    upstream.resolve("DK1");
    await run;

    expect(redis.ttlOf(key)).toBeGreaterThan(2 * DAY_MS - 1000);
    const record = await store.inspect("reseller-1", "key-1");
    expect(record).toMatchObject({ state: "done", result: "DK1" });
    expect(record!.expiresAt).toBe(record!.settledAt! + 2 * DAY_MS);
  });

  it("refuses the key with another input or operation, while pending and after", async () => {
    const redis = fakeRedis();
    const store = storeOn(redis);
    const upstream = deferred<string>();
    const other = scope({ fingerprint: fingerprintOf({ domains: ["example.net"] }) });
    const send = jest.fn(() => upstream.promise);

    const first = store.run(scope(), send);
    await expect(storeOn(redis).run(other, send)).rejects.toBeInstanceOf(IdempotencyConflictError);
    upstream.resolve("DK1");
    await first;

    await expect(store.run(other, send)).rejects.toMatchObject({
      code: "IDEMPOTENCY_KEY_REUSED",
      operation: "orderCertificate",
    });
    await expect(store.run(scope({ operation: "renewCertificate" }), send)).rejects.toMatchObject({
      code: "IDEMPOTENCY_KEY_REUSED",
    });
    expect(send).toHaveBeenCalledTimes(1);
  });

  it("releases the key when the command certainly did not run, so a corrected retry proceeds", async () => {
    const redis = fakeRedis();
    const store = storeOn(redis);
    const rejected = upstreamError("UPSTREAM_REJECTED", false);
    const corrected = scope({ fingerprint: fingerprintOf({ domains: ["fixed.example.com"] }) });

    await expect(store.run(scope(), () => Promise.reject(rejected))).rejects.toBe(rejected);
    expect(await store.inspect("reseller-1", "key-1")).toMatchObject({
      state: "failed",
      error: { code: "UPSTREAM_REJECTED" },
    });
    const send = jest.fn(() => Promise.resolve("DK1"));

    await expect(storeOn(redis).run(corrected, send)).resolves.toBe("DK1");
    expect(send).toHaveBeenCalledTimes(1);
    expect(await store.inspect("reseller-1", "key-1")).toMatchObject({
      state: "done",
      result: "DK1",
    });
  });

  it("lets a waiter claim the key and send itself when the attempt it waited for certainly failed", async () => {
    const redis = fakeRedis();
    const upstream = deferred<string>();
    const rejected = upstreamError("UPSTREAM_REJECTED", false);
    const first = jest.fn(() => upstream.promise);
    const second = jest.fn(() => Promise.resolve("DK2"));

    const running = storeOn(redis).run(scope(), first);
    const waiting = storeOn(redis).run(scope(), second);
    await new Promise(resolve => setTimeout(resolve, 10));
    upstream.reject(rejected);

    await expect(running).rejects.toBe(rejected);
    await expect(waiting).resolves.toBe("DK2");
    expect([first.mock.calls.length, second.mock.calls.length]).toEqual([1, 1]);
  });

  it.each([
    ["a timeout after sending", upstreamError("UPSTREAM_OUTCOME_UNKNOWN", true)],
    ["an error that does not say", new TypeError("cannot read properties of undefined")],
  ])(
    "remembers an unknown outcome (%s) on every replica and never sends again",
    async (_c, error) => {
      const redis = fakeRedis();
      const upstream = deferred<string>();
      const send = jest.fn(() => upstream.promise);

      const first = storeOn(redis).run(scope(), send);
      const waiter = storeOn(redis).run(scope(), send);
      await new Promise(resolve => setTimeout(resolve, 10));
      upstream.reject(error);

      await expect(first).rejects.toBe(error);
      await expect(waiter).rejects.toBeInstanceOf(IdempotencyOutcomeUnknownError);
      await expect(storeOn(redis).run(scope(), send)).rejects.toMatchObject({
        code: "UPSTREAM_OUTCOME_UNKNOWN",
      });
      expect(send).toHaveBeenCalledTimes(1);
    },
  );

  it("keeps the scope's lookup with the record for reconciliation, as a JSON copy", async () => {
    const store = storeOn(fakeRedis());
    const lookup = { kind: "certificate", domains: ["example.com"], csrKey: null };
    const lost = () => Promise.reject(upstreamError("UPSTREAM_OUTCOME_UNKNOWN", true));
    await expect(store.run(scope({ lookup }), lost)).rejects.toThrow();
    lookup.domains.push("changed.example.com");

    const record = await store.inspect("reseller-1", "key-1");
    await store.run(scope({ key: "no-lookup" }), () => Promise.resolve("DK1"));

    expect(record).toMatchObject({
      state: "unknown",
      lookup: { kind: "certificate", domains: ["example.com"], csrKey: null },
    });
    expect(await store.inspect("reseller-1", "no-lookup")).not.toHaveProperty("lookup");
  });

  it("lets reconciliation settle an unknown outcome either way", async () => {
    const redis = fakeRedis();
    const store = storeOn(redis);
    const lost = () => Promise.reject(upstreamError("UPSTREAM_OUTCOME_UNKNOWN", true));
    await expect(store.run(scope({ key: "ran" }), lost)).rejects.toThrow();
    await expect(store.run(scope({ key: "did-not-run" }), lost)).rejects.toThrow();
    const send = jest.fn(() => Promise.resolve("DK2"));

    expect(
      await store.resolveUnknown("reseller-1", "ran", { outcome: "done", result: "DK1" }),
    ).toBe(true);
    expect(await store.resolveUnknown("reseller-1", "did-not-run", { outcome: "not-run" })).toBe(
      true,
    );
    expect(await store.resolveUnknown("reseller-1", "ran", { outcome: "not-run" })).toBe(false);
    expect(await store.resolveUnknown("reseller-1", "never-used", { outcome: "not-run" })).toBe(
      false,
    );

    await expect(store.run(scope({ key: "ran" }), send)).resolves.toBe("DK1");
    await expect(store.run(scope({ key: "did-not-run" }), send)).resolves.toBe("DK2");
    expect(send).toHaveBeenCalledTimes(1);
    expect(await store.inspect("reseller-1", "ran")).not.toHaveProperty("error");
  });

  it("refuses and sends nothing when the claim fails", async () => {
    const redis = fakeRedis();
    const store = storeOn(redis);
    const send = jest.fn(() => Promise.resolve("DK1"));
    redis.failNext("set");

    const refused = store.run(scope(), send);

    await expect(refused).rejects.toBeInstanceOf(IdempotencyUnavailableError);
    await expect(refused).rejects.toMatchObject({ code: "IDEMPOTENCY_UNAVAILABLE" });
    expect(send).not.toHaveBeenCalled();
  });

  it("refuses when the claim times out, and frees the key if the claim landed late", async () => {
    const redis = fakeRedis();
    const store = storeOn(redis, { timeoutMs: 30 });
    const send = jest.fn(() => Promise.resolve("DK1"));
    redis.delayNext("set", 200);

    await expect(store.run(scope(), send)).rejects.toBeInstanceOf(IdempotencyUnavailableError);
    expect(send).not.toHaveBeenCalled();
    expect(await store.inspect("reseller-1", "key-1")).toMatchObject({
      state: "failed",
      error: { code: "IDEMPOTENCY_UNAVAILABLE" },
    });

    await expect(store.run(scope(), send)).resolves.toBe("DK1");
    expect(send).toHaveBeenCalledTimes(1);
  });

  it("refuses when the key cannot be read, and when its record is not one it wrote", async () => {
    const redis = fakeRedis();
    const send = jest.fn(() => Promise.resolve("DK1"));
    await storeOn(redis).run(scope(), send);
    redis.failNext("get");

    await expect(storeOn(redis).run(scope(), send)).rejects.toBeInstanceOf(
      IdempotencyUnavailableError,
    );
    redis.data.set(keyOf("reseller-1", "key-2"), { value: "garbage", expiresAt: Infinity });
    await expect(storeOn(redis).run(scope({ key: "key-2" }), send)).rejects.toBeInstanceOf(
      IdempotencyUnavailableError,
    );
    expect(send).toHaveBeenCalledTimes(1);
  });

  it("answers the first caller when the result cannot be stored, and keeps the key blocked", async () => {
    const redis = fakeRedis();
    const errors: string[] = [];
    const store = storeOn(redis, {
      waitMs: 50,
      onError: (_e, operation) => errors.push(operation),
    });
    const send = jest.fn(() => Promise.resolve("DK1"));
    redis.failNext("eval");

    await expect(store.run(scope(), send)).resolves.toBe("DK1");
    expect(errors).toEqual(["settle"]);
    expect(await store.inspect("reseller-1", "key-1")).toMatchObject({ state: "pending" });

    const later = store.run(scope(), send);
    await expect(later).rejects.toBeInstanceOf(IdempotencyInProgressError);
    await expect(later).rejects.toMatchObject({ code: "IDEMPOTENCY_IN_PROGRESS" });
    expect(send).toHaveBeenCalledTimes(1);
  });

  it("waits at most waitMs for another replica's attempt", async () => {
    const redis = fakeRedis();
    const upstream = deferred<string>();
    const send = jest.fn(() => upstream.promise);
    const first = storeOn(redis).run(scope(), send);
    const startedAt = Date.now();

    await expect(storeOn(redis, { waitMs: 100 }).run(scope(), send)).rejects.toBeInstanceOf(
      IdempotencyInProgressError,
    );
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(50);
    upstream.resolve("DK1");
    await expect(first).resolves.toBe("DK1");
    expect(send).toHaveBeenCalledTimes(1);
  });

  it("blocks the key when the result cannot be stored, since the command did run", async () => {
    const store = storeOn(fakeRedis());
    const send = jest.fn(() => Promise.resolve({ amount: 10n }));

    await expect(store.run(scope(), send)).rejects.toBeInstanceOf(TypeError);
    await expect(store.run(scope(), send)).rejects.toMatchObject({
      code: "UPSTREAM_OUTCOME_UNKNOWN",
    });
    expect(send).toHaveBeenCalledTimes(1);
  });

  it("rejects a TTL shorter than a day as a programming error, and refuses once closed", async () => {
    const redis = fakeRedis();
    const store = storeOn(redis);
    const send = jest.fn(() => Promise.resolve("ok"));

    await expect(
      store.run(scope({ ttlMs: MIN_IDEMPOTENCY_TTL_MS - 1 }), send),
    ).rejects.toBeInstanceOf(RangeError);
    await store.close();
    await expect(store.run(scope(), send)).rejects.toBeInstanceOf(IdempotencyUnavailableError);
    expect(send).not.toHaveBeenCalled();
    expect(redis.calls).toEqual([]);
  });
});
