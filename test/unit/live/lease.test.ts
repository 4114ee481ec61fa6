import { randomUUID } from "node:crypto";
import { createClient } from "@keyv/redis";
import { createCache, type GatewayCache, type RedisConnection } from "../../../src/cache";
import { createMemoryLease, createRedisLease, leaseKey } from "../../../src/live/lease";
import { describeWithRedis } from "../../helpers/redis";

describe("createMemoryLease", () => {
  let clock = 0;

  beforeEach(() => {
    clock = 1_000_000;
  });

  it("is held by one holder at a time and renewed by it", async () => {
    const lease = createMemoryLease({ now: () => clock });

    expect(await lease.acquire("poller:x", "a", 1000)).toBe(true);
    expect(await lease.acquire("poller:x", "b", 1000)).toBe(false);
    clock += 900;
    // Renewal moves the end of the lease: b still cannot take it 900 ms later.
    expect(await lease.acquire("poller:x", "a", 1000)).toBe(true);
    clock += 900;
    expect(await lease.acquire("poller:x", "b", 1000)).toBe(false);
    expect(await lease.acquire("poller:y", "b", 1000)).toBe(true);
  });

  it("is taken over once its TTL ran out", async () => {
    const lease = createMemoryLease({ now: () => clock });
    await lease.acquire("poller:x", "a", 1000);

    clock += 999;
    expect(await lease.acquire("poller:x", "b", 1000)).toBe(false);
    clock += 1;
    expect(await lease.acquire("poller:x", "b", 1000)).toBe(true);
    expect(await lease.acquire("poller:x", "a", 1000)).toBe(false);
  });

  it("is given up by its holder only", async () => {
    const lease = createMemoryLease({ now: () => clock });
    await lease.acquire("poller:x", "a", 1000);

    await lease.release("poller:x", "b");
    expect(await lease.acquire("poller:x", "b", 1000)).toBe(false);
    await lease.release("poller:x", "a");
    expect(await lease.acquire("poller:x", "b", 1000)).toBe(true);
  });
});

describe("createRedisLease with a store that hangs or fails", () => {
  it("answers false (nobody leads rather than two) and reports it", async () => {
    const errors: Error[] = [];
    const hanging = { eval: () => new Promise(() => undefined) } as unknown as RedisConnection;
    const lease = createRedisLease(hanging, { timeoutMs: 20, onError: e => errors.push(e) });

    expect(await lease.acquire("poller:x", "a", 1000)).toBe(false);
    await expect(lease.release("poller:x", "a")).resolves.toBeUndefined();
    expect(errors.map(e => e.message)).toEqual([
      "lease acquire timed out after 20 ms",
      "lease release timed out after 20 ms",
    ]);
  });
});

describeWithRedis("createRedisLease on a real Redis", url => {
  let first: GatewayCache;
  let second: GatewayCache;
  let probe: ReturnType<typeof createClient>;
  const names: string[] = [];
  const name = (): string => {
    const made = `test:${randomUUID()}`;
    names.push(made);
    return made;
  };

  async function connected(): Promise<GatewayCache> {
    const made = createCache({ kind: "redis", url });
    const deadline = Date.now() + 5000;
    while (!(await made.ping()) && Date.now() < deadline) {
      await new Promise(resolve => setTimeout(resolve, 20));
    }
    return made;
  }

  beforeAll(async () => {
    first = await connected();
    second = await connected();
    probe = createClient({ url });
    await probe.connect();
  });

  afterAll(async () => {
    if (names.length > 0) {
      await probe.del(names.map(leaseKey));
    }
    await first.close();
    await second.close();
    probe.destroy();
  });

  it("is held by one replica at a time, renewed with its TTL", async () => {
    const lease = name();
    const a = createRedisLease(first.redisConnection()!);
    const b = createRedisLease(second.redisConnection()!);

    const both = await Promise.all([a.acquire(lease, "a", 10_000), b.acquire(lease, "b", 10_000)]);
    expect(both.filter(Boolean)).toHaveLength(1);
    const [holder, holderName] = both[0] ? [a, "a"] : [b, "b"];

    expect(await probe.get(leaseKey(lease))).toBe(holderName);
    expect(await holder.acquire(lease, holderName, 30_000)).toBe(true);
    expect(await probe.pTTL(leaseKey(lease))).toBeGreaterThan(20_000);
  });

  it("is taken over after its holder died (TTL)", async () => {
    const lease = name();
    const a = createRedisLease(first.redisConnection()!);
    const b = createRedisLease(second.redisConnection()!);
    expect(await a.acquire(lease, "a", 60)).toBe(true);
    expect(await b.acquire(lease, "b", 60)).toBe(false);

    await new Promise(resolve => setTimeout(resolve, 90));

    expect(await b.acquire(lease, "b", 60_000)).toBe(true);
    expect(await a.acquire(lease, "a", 60_000)).toBe(false);
  });

  it("is taken over at once after its holder released it, and never released by another", async () => {
    const lease = name();
    const a = createRedisLease(first.redisConnection()!);
    const b = createRedisLease(second.redisConnection()!);
    expect(await a.acquire(lease, "a", 60_000)).toBe(true);

    await b.release(lease, "b");
    expect(await b.acquire(lease, "b", 60_000)).toBe(false);

    await a.release(lease, "a");
    expect(await probe.get(leaseKey(lease))).toBeNull();
    expect(await b.acquire(lease, "b", 60_000)).toBe(true);
  });
});
