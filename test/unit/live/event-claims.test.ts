import { randomUUID } from "node:crypto";
import { createClient } from "@keyv/redis";
import {
  accountTag,
  createCache,
  type GatewayCache,
  type RedisConnection,
} from "../../../src/cache";
import {
  createMemoryEventClaims,
  createRedisEventClaims,
  DEFAULT_DONE_TTL_MS,
} from "../../../src/live/event-claims";
import { describeWithRedis } from "../../helpers/redis";

describe("createMemoryEventClaims", () => {
  let clock = 0;
  const make = () =>
    createMemoryEventClaims({ claimTtlMs: 1000, doneTtlMs: 5000, now: () => clock });

  beforeEach(() => {
    clock = 1_000_000;
  });

  it("claims an event once: busy while processed, done once completed", async () => {
    const claims = make();

    expect(await claims.claim("a", "1")).toBe("claimed");
    expect(await claims.claim("a", "1")).toBe("busy");
    await claims.complete("a", "1");
    expect(await claims.claim("a", "1")).toBe("done");
    // Other ids and other accounts are independent.
    expect(await claims.claim("a", "2")).toBe("claimed");
    expect(await claims.claim("b", "1")).toBe("claimed");
  });

  it("frees a released claim, but never forgets a completed one by releasing", async () => {
    const claims = make();
    await claims.claim("a", "1");

    await claims.release("a", "1");
    expect(await claims.claim("a", "1")).toBe("claimed");

    await claims.complete("a", "1");
    await claims.release("a", "1");
    expect(await claims.claim("a", "1")).toBe("done");
  });

  it("lets a claim whose holder died expire after claimTtlMs, and a done mark after doneTtlMs", async () => {
    const claims = make();
    await claims.claim("a", "1");

    clock += 999;
    expect(await claims.claim("a", "1")).toBe("busy");
    clock += 1;
    expect(await claims.claim("a", "1")).toBe("claimed");

    await claims.complete("a", "1");
    clock += 4999;
    expect(await claims.claim("a", "1")).toBe("done");
    clock += 1;
    expect(await claims.claim("a", "1")).toBe("claimed");
  });

  it("remembers done events for 30 days by default", async () => {
    const claims = createMemoryEventClaims({ now: () => clock });
    await claims.claim("a", "1");
    await claims.complete("a", "1");

    clock += DEFAULT_DONE_TTL_MS - 1;
    expect(await claims.claim("a", "1")).toBe("done");
    expect(DEFAULT_DONE_TTL_MS).toBe(30 * 24 * 60 * 60 * 1000);
  });
});

describe("createRedisEventClaims with a store that hangs or fails", () => {
  it("answers busy when the claim cannot be made, and reports it", async () => {
    const errors: Error[] = [];
    const hanging = {
      eval: () => new Promise(() => undefined),
      set: () => new Promise(() => undefined),
    } as unknown as RedisConnection;
    const claims = createRedisEventClaims(hanging, {
      timeoutMs: 20,
      onError: error => errors.push(error),
    });

    expect(await claims.claim("a", "1")).toBe("busy");
    await expect(claims.complete("a", "1")).resolves.toBeUndefined();
    await expect(claims.release("a", "1")).resolves.toBeUndefined();

    expect(errors.map(e => e.message)).toEqual([
      "event claim timed out after 20 ms",
      "event claim complete timed out after 20 ms",
    ]);
  });

  it("answers busy when Redis fails at once", async () => {
    const failing = {
      eval: () => Promise.reject(new Error("The client is closed")),
    } as unknown as RedisConnection;
    const errors: Error[] = [];
    const claims = createRedisEventClaims(failing, { onError: error => errors.push(error) });

    expect(await claims.claim("a", "1")).toBe("busy");
    expect(errors).toHaveLength(1);
  });
});

describeWithRedis("createRedisEventClaims on a real Redis", url => {
  let cache: GatewayCache;
  let replica: GatewayCache;
  let probe: ReturnType<typeof createClient>;
  const accounts: string[] = [];
  const account = (): string => {
    const name = `claims-${randomUUID()}`;
    accounts.push(name);
    return name;
  };
  const keyOf = (a: string, id: string) => `gw:v1:events:${accountTag(a)}:claim:${id}`;

  async function connected(url: string): Promise<GatewayCache> {
    const made = createCache({ kind: "redis", url });
    const deadline = Date.now() + 5000;
    while (!(await made.ping()) && Date.now() < deadline) {
      await new Promise(resolve => setTimeout(resolve, 20));
    }
    return made;
  }

  beforeAll(async () => {
    cache = await connected(url);
    replica = await connected(url);
    probe = createClient({ url });
    await probe.connect();
  });

  afterAll(async () => {
    for (const a of accounts) {
      const keys = await probe.keys(`gw:v1:events:${accountTag(a)}:claim:*`);
      if (keys.length > 0) {
        await probe.del(keys);
      }
    }
    await cache.close();
    await replica.close();
    probe.destroy();
  });

  it("claims an event on one replica only (SET NX), then marks it done for doneTtlMs", async () => {
    const a = account();
    const mine = createRedisEventClaims(cache.redisConnection()!, { doneTtlMs: 60_000 });
    const theirs = createRedisEventClaims(replica.redisConnection()!, { doneTtlMs: 60_000 });

    const results = await Promise.all([mine.claim(a, "1"), theirs.claim(a, "1")]);
    expect(results.sort()).toEqual(["busy", "claimed"]);
    expect(await probe.get(keyOf(a, "1"))).toMatch(/^processing:/);

    const holder = results[0] === "claimed" ? mine : theirs;
    await holder.complete(a, "1");

    expect(await mine.claim(a, "1")).toBe("done");
    expect(await theirs.claim(a, "1")).toBe("done");
    expect(await probe.get(keyOf(a, "1"))).toBe("done");
    const ttl = await probe.pTTL(keyOf(a, "1"));
    expect(ttl).toBeGreaterThan(55_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it("releases only its own claim, so the event can be claimed again", async () => {
    const a = account();
    const mine = createRedisEventClaims(cache.redisConnection()!);
    const theirs = createRedisEventClaims(replica.redisConnection()!);
    expect(await mine.claim(a, "1")).toBe("claimed");

    // A replica that does not hold the claim cannot free it.
    await theirs.release(a, "1");
    expect(await theirs.claim(a, "1")).toBe("busy");

    await mine.release(a, "1");
    expect(await probe.get(keyOf(a, "1"))).toBeNull();
    expect(await theirs.claim(a, "1")).toBe("claimed");
  });

  it("lets the claim of a replica that died expire after claimTtlMs", async () => {
    const a = account();
    const dead = createRedisEventClaims(cache.redisConnection()!, { claimTtlMs: 50 });
    const alive = createRedisEventClaims(replica.redisConnection()!, { claimTtlMs: 50 });
    expect(await dead.claim(a, "1")).toBe("claimed");
    expect(await alive.claim(a, "1")).toBe("busy");

    await new Promise(resolve => setTimeout(resolve, 80));

    expect(await alive.claim(a, "1")).toBe("claimed");
    // The dead replica's late release must not free the new claim.
    await dead.release(a, "1");
    expect(await probe.get(keyOf(a, "1"))).toMatch(/^processing:/);
  });
});
