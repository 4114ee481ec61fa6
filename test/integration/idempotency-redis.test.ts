import { createHash, randomUUID } from "node:crypto";
import { createClient } from "@keyv/redis";
import { accountTag, createCache, type GatewayCache } from "../../src/cache";
import {
  createRedisIdempotencyStore,
  fingerprintOf,
  type IdempotencyScope,
  type IdempotencyStore,
} from "../../src/idempotency";
import { describeWithRedis } from "../helpers/redis";

const DAY_MS = 24 * 60 * 60 * 1000;

/** An upstream-like error that says whether the command may have run. */
function upstreamError(code: string, outcomeUnknown: boolean): Error {
  return Object.assign(new Error(`AddCertificate: ${code}`), { code, outcomeUnknown });
}

describeWithRedis("createRedisIdempotencyStore on a real Redis", url => {
  let cache: GatewayCache;
  let store: IdempotencyStore;
  let probe: ReturnType<typeof createClient>;

  /** Fresh per test: a long-lived Redis keeps the records of earlier runs. */
  const scope = (changes: Partial<IdempotencyScope> = {}): IdempotencyScope => ({
    account: `it-${randomUUID()}`,
    key: randomUUID(),
    operation: "orderCertificate",
    fingerprint: fingerprintOf({ domains: ["example.com"] }),
    ttlMs: DAY_MS,
    ...changes,
  });

  beforeAll(async () => {
    cache = createCache({ kind: "redis", url });
    const deadline = Date.now() + 5000;
    while (!(await cache.ping()) && Date.now() < deadline) {
      await new Promise(resolve => setTimeout(resolve, 20));
    }
    store = createRedisIdempotencyStore(cache.redis()!);
    probe = createClient({ url });
    await probe.connect();
  });

  afterAll(async () => {
    await store.close();
    await cache.close();
    probe.destroy();
  });

  it("stores the record under the account tag and the key's hash, for the scope's TTL", async () => {
    const guarded = scope({ ttlMs: 2 * DAY_MS });

    await store.run(guarded, () => Promise.resolve({ id: "DK1" }));

    const key = `gw:v1:idem:${accountTag(guarded.account)}:${createHash("sha256")
      .update(guarded.key)
      .digest("hex")}`;
    const ttl = await probe.pTTL(key);
    expect(ttl).toBeGreaterThan(2 * DAY_MS - 5000);
    expect(ttl).toBeLessThanOrEqual(2 * DAY_MS);
    const text = (await probe.get(key)) ?? "";
    expect(text).not.toContain(guarded.account);
    expect(text).not.toContain(guarded.key);
    expect(await store.inspect(guarded.account, guarded.key)).toMatchObject({
      state: "done",
      result: { id: "DK1" },
    });
  });

  it("claims a key again after a failure that certainly did not run (compare-and-set)", async () => {
    const guarded = scope();
    const send = jest.fn(() => Promise.resolve("DK2"));

    await expect(
      store.run(guarded, () => Promise.reject(upstreamError("UPSTREAM_REJECTED", false))),
    ).rejects.toThrow();
    await expect(store.run(guarded, send)).resolves.toBe("DK2");
    await expect(store.run(guarded, send)).resolves.toBe("DK2");

    expect(send).toHaveBeenCalledTimes(1);
  });

  it("settles an unknown outcome through reconciliation (compare-and-set)", async () => {
    const guarded = scope();
    await expect(
      store.run(guarded, () => Promise.reject(upstreamError("UPSTREAM_TIMEOUT", true))),
    ).rejects.toThrow();

    expect(
      await store.resolveUnknown(guarded.account, guarded.key, { outcome: "done", result: "DK3" }),
    ).toBe(true);
    await expect(store.run(guarded, () => Promise.resolve("never"))).resolves.toBe("DK3");
  });
});
