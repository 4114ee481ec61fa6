import { randomUUID } from "node:crypto";
import { KeyvAdapter } from "@apollo/utils.keyvadapter";
import { createClient } from "@keyv/redis";
import {
  accountTag,
  type CacheEvent,
  type CacheOptions,
  createCache,
  type GatewayCache,
} from "../../src/cache";
import { type CertificateRecord, type PageRecord } from "../../src/upstream/types";
import {
  describeWithRedis,
  freePort,
  hasRedisServer,
  type OwnRedisServer,
  startRedisServer,
} from "../helpers/redis";

function certificate(
  id: string,
  status: CertificateRecord["status"] = "processing",
): CertificateRecord {
  return {
    id,
    status,
    className: "ssl123dv",
    orderId: null,
    domains: ["example.com"],
    validations: [],
    serverType: null,
    csr: null,
    crt: null,
    intermediate: null,
    root: null,
    techContactId: null,
    organizationContactId: null,
    evApproverContactId: null,
    orderPaidUntil: null,
    createdAt: new Date("2025-01-01T00:00:00.000Z"),
    updatedAt: null,
    expiresAt: null,
  };
}

/** A loader that records every call and answers with `make(id)`. */
function recordingLoader<T>(make: (id: string) => T) {
  const calls: string[][] = [];
  const load = (missing: string[]): Promise<Map<string, T>> => {
    calls.push([...missing]);
    return Promise.resolve(new Map(missing.map(id => [id, make(id)])));
  };
  return { load, calls };
}

/** Waits until the cache's Redis answers (the client connects in the background). */
async function untilReady(cache: GatewayCache, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cache.ping())) {
    if (Date.now() > deadline) {
      throw new Error("Redis did not become ready");
    }
    await new Promise(resolve => setTimeout(resolve, 20));
  }
}

/** Fresh per test, so runs against a long-lived Redis never see each other's entries. */
const newAccount = (): string => `it-${randomUUID()}`;

describeWithRedis("createCache (redis)", url => {
  const caches: GatewayCache[] = [];

  async function redisCache(options: CacheOptions = {}, at = url): Promise<GatewayCache> {
    const cache = createCache({ kind: "redis", url: at }, options);
    caches.push(cache);
    await untilReady(cache);
    return cache;
  }

  afterEach(async () => {
    await Promise.all(caches.splice(0).map(cache => cache.close()));
  });

  it("shares entries between two instances: one loads, the other only hits", async () => {
    const one = await redisCache();
    const two = await redisCache();
    const account = newAccount();
    const first = recordingLoader(id => certificate(id));
    const second = recordingLoader(id => certificate(id));

    await one.readThrough("certificate", account, ["CRT-1", "CRT-2"], first.load);
    const seen = await two.readThrough("certificate", account, ["CRT-1", "CRT-2"], second.load);

    expect(first.calls).toEqual([["CRT-1", "CRT-2"]]);
    expect(second.calls).toEqual([]);
    expect(seen.get("CRT-1")).toEqual(certificate("CRT-1"));
    expect(seen.get("CRT-1")?.createdAt).toBeInstanceOf(Date);
    expect(two.stats().byNamespace.certificate).toMatchObject({ hits: 2, misses: 0, errors: 0 });
  });

  it("stores with the policy's TTL in milliseconds, under a key without the login", async () => {
    const cache = await redisCache();
    const account = newAccount();
    const probe = createClient({ url });
    await probe.connect();
    try {
      await cache.readThrough("certificate", account, ["CRT-P"], recordingLoader(certificate).load);
      await cache.readThrough("certificate", account, ["CRT-R"], ids =>
        Promise.resolve(new Map(ids.map(id => [id, certificate(id, "revoked")]))),
      );

      const tag = accountTag(account);
      const processing = await probe.pTTL(`gw:v1:certificate:${tag}:CRT-P`);
      const revoked = await probe.pTTL(`gw:v1:certificate:${tag}:CRT-R`);
      const keys = await probe.keys(`gw:v1:*${tag}*`);

      expect(processing).toBeGreaterThan(9_000);
      expect(processing).toBeLessThanOrEqual(10_000);
      expect(revoked).toBeGreaterThan(24 * 3_600_000 - 5_000);
      expect(keys.every(key => !key.includes(account))).toBe(true);
    } finally {
      probe.destroy();
    }
  });

  it("makes an invalidation through one instance seen by the other at once", async () => {
    const one = await redisCache();
    const two = await redisCache();
    const account = newAccount();
    let status: CertificateRecord["status"] = "processing";
    const loader = recordingLoader(id => certificate(id, status));

    await one.readThrough("certificate", account, ["CRT-1"], loader.load);
    await two.readThrough("certificate", account, ["CRT-1"], loader.load);
    status = "revoked";
    await one.invalidate("certificate", account, ["CRT-1"]);
    const after = await two.readThrough("certificate", account, ["CRT-1"], loader.load);

    expect(loader.calls).toEqual([["CRT-1"], ["CRT-1"]]);
    expect(after.get("CRT-1")?.status).toBe("revoked");
  });

  it("drops an account's lists on every instance with invalidateLists", async () => {
    const one = await redisCache();
    const two = await redisCache();
    const account = newAccount();
    const other = newAccount();
    let total = 1;
    const loader = recordingLoader((): PageRecord<string> => ({
      items: [],
      first: 0,
      limit: 20,
      total,
    }));

    await one.readThrough("certificateList", account, ["q"], loader.load);
    await one.readThrough("contactList", account, ["q"], loader.load);
    await one.readThrough("certificateList", other, ["q"], loader.load);
    await two.readThrough("certificateList", account, ["q"], loader.load);
    expect(loader.calls).toHaveLength(3);

    total = 2;
    await one.invalidateLists(account);
    const certificates = await two.readThrough("certificateList", account, ["q"], loader.load);
    await two.readThrough("contactList", account, ["q"], loader.load);
    await two.readThrough("certificateList", other, ["q"], loader.load);

    expect(certificates.get("q")?.total).toBe(2);
    expect(loader.calls).toHaveLength(5);
  });

  it("keeps accounts apart across instances", async () => {
    const one = await redisCache();
    const two = await redisCache();
    const a = newAccount();
    const b = newAccount();

    await one.readThrough("certificate", a, ["CRT-1"], ids =>
      Promise.resolve(new Map(ids.map(id => [id, { ...certificate(id), className: "for-a" }]))),
    );
    const forB = await two.readThrough("certificate", b, ["CRT-1"], ids =>
      Promise.resolve(new Map(ids.map(id => [id, { ...certificate(id), className: "for-b" }]))),
    );

    expect(forB.get("CRT-1")?.className).toBe("for-b");
  });

  it("hands out the Redis client for atomic claims, and shares persisted queries", async () => {
    const one = await redisCache();
    const two = await redisCache();
    const claim = `gw:v1:test-claim:${randomUUID()}`;
    const client = one.redis()!;

    const first = await client.set(claim, "owner-1", {
      condition: "NX",
      expiration: { type: "PX", value: 5_000 },
    });
    const second = await client.set(claim, "owner-2", {
      condition: "NX",
      expiration: { type: "PX", value: 5_000 },
    });
    await client.del(claim);

    expect(first).toBe("OK");
    expect(second).toBeNull();

    const key = `apq:${randomUUID()}`;
    await new KeyvAdapter(one.keyv()).set(key, "{ hello }", { ttl: 60 });
    await expect(new KeyvAdapter(two.keyv()).get(key)).resolves.toBe("{ hello }");
  });

  describe("when Redis fails", () => {
    const servers: OwnRedisServer[] = [];
    const withServer = hasRedisServer() ? it : it.skip;

    afterEach(async () => {
      await Promise.all(caches.splice(0).map(cache => cache.close()));
      await Promise.all(servers.splice(0).map(server => server.stop()));
    });

    withServer("keeps answering from the upstream when Redis dies, then recovers", async () => {
      let server = await startRedisServer();
      servers.push(server);
      const events: CacheEvent[] = [];
      const cache = await redisCache({ timeoutMs: 100, onEvent: e => events.push(e) }, server.url);
      const account = newAccount();
      const loader = recordingLoader(id => certificate(id));

      await cache.readThrough("certificate", account, ["CRT-1"], loader.load);
      await cache.readThrough("certificate", account, ["CRT-1"], loader.load);
      expect(loader.calls).toHaveLength(1);

      await server.stop();
      const started = Date.now();
      const during = await cache.readThrough("certificate", account, ["CRT-1"], loader.load);
      await cache.invalidateLists(account);
      const list = await cache.readThrough("orderList", account, ["q"], loader.load);
      const elapsed = Date.now() - started;

      expect(during.get("CRT-1")?.id).toBe("CRT-1");
      expect(list.has("q")).toBe(true);
      expect(loader.calls).toHaveLength(3);
      expect(elapsed).toBeLessThan(1_000);
      expect(cache.stats().total.errors).toBeGreaterThanOrEqual(3);
      await expect(cache.ping()).resolves.toBe(false);
      expect(events).toContainEqual(expect.objectContaining({ type: "connection", state: "down" }));

      server = await startRedisServer(server.port);
      servers.push(server);
      await untilReady(cache);
      await cache.readThrough("certificate", account, ["CRT-9"], loader.load);
      await cache.readThrough("certificate", account, ["CRT-9"], loader.load);
      expect(loader.calls).toHaveLength(4);
      expect(events).toContainEqual(
        expect.objectContaining({ type: "connection", state: "ready" }),
      );
    });

    it("answers without a reachable Redis and closes promptly, for good", async () => {
      const events: CacheEvent[] = [];
      const nowhere = `redis://127.0.0.1:${await freePort()}`;
      const cache = createCache({ kind: "redis", url: nowhere }, { onEvent: e => events.push(e) });
      caches.push(cache);
      const loader = recordingLoader(id => certificate(id));

      const result = await cache.readThrough("certificate", newAccount(), ["CRT-1"], loader.load);
      await expect(cache.ping()).resolves.toBe(false);
      const started = Date.now();
      await cache.close();
      const closing = Date.now() - started;
      const after = await cache.readThrough("certificate", newAccount(), ["CRT-2"], loader.load);

      expect(result.get("CRT-1")?.id).toBe("CRT-1");
      expect(after.get("CRT-2")?.id).toBe("CRT-2");
      expect(closing).toBeLessThan(1_500);
      expect(events).toContainEqual(expect.objectContaining({ type: "connection", state: "down" }));
    });

    withServer("gives up within the timeout when Redis hangs (CLIENT PAUSE)", async () => {
      const server = await startRedisServer();
      servers.push(server);
      const events: CacheEvent[] = [];
      const cache = await redisCache({ timeoutMs: 100, onEvent: e => events.push(e) }, server.url);
      const account = newAccount();
      const loader = recordingLoader(id => certificate(id));
      const admin = createClient({ url: server.url });
      await admin.connect();
      try {
        await admin.sendCommand(["CLIENT", "PAUSE", "1500", "ALL"]);
        const before = events.length;

        const started = Date.now();
        const result = await cache.readThrough("certificate", account, ["CRT-1"], loader.load);
        const elapsed = Date.now() - started;

        expect(result.get("CRT-1")?.id).toBe("CRT-1");
        expect(loader.calls).toHaveLength(1);
        expect(elapsed).toBeLessThan(800);
        expect(cache.stats().byNamespace.certificate.errors).toBe(2); // the get and the set
        const errors = events.slice(before).filter(e => e.type === "error");
        expect(errors.map(e => [e.operation, e.timedOut])).toEqual([
          ["get", true],
          ["set", true],
        ]);
        await expect(cache.ping()).resolves.toBe(false);
      } finally {
        await admin.sendCommand(["CLIENT", "UNPAUSE"]).catch(() => undefined);
        admin.destroy();
      }
    });
  });
});
