import { randomUUID } from "node:crypto";
import { createClient } from "@keyv/redis";
import {
  accountTag,
  createCache,
  type GatewayCache,
  type RedisConnection,
} from "../../../src/cache";
import { createMemoryEventLog, createRedisEventLog } from "../../../src/live/event-log";
import { type CertificateEvent, type EventLog } from "../../../src/live/types";
import { describeWithRedis } from "../../helpers/redis";

const BASE = Date.parse("2026-06-01T10:00:00Z");
const MINUTE = 60_000;

/** An upstream event `minutes` after BASE. */
function event(
  account: string,
  id: string,
  minutes: number,
  changes: Partial<CertificateEvent> = {},
): CertificateEvent {
  const date = new Date(BASE + minutes * MINUTE).toISOString();
  return {
    id,
    account,
    eventClass: "CERTIFICATE_REQUEST",
    subclass: "REQUEST_SUCCESSFUL",
    objectId: `DK${id}`,
    certificateId: `DK${id}`,
    orderId: `O${id}`,
    date,
    info: "issued",
    data: { certificate: `DK${id}` },
    source: "upstream",
    receivedAt: date,
    ...changes,
  };
}

const ids = (page: { items: readonly CertificateEvent[] }): string[] => page.items.map(e => e.id);

/** The behaviour both logs share. `make` builds a log; `account` a fresh account per test. */
function behavesLikeAnEventLog(make: (maxPerAccount: number) => EventLog, account: () => string) {
  it("lists events newest first by date, however they were appended", async () => {
    const log = make(10);
    const a = account();
    await log.append(event(a, "2", 2));
    await log.append(event(a, "1", 1));
    await log.append(event(a, "3", 3));

    const page = await log.list(a, {}, 0, 10);

    expect(ids(page)).toEqual(["3", "2", "1"]);
    expect(page.total).toBe(3);
    expect(page.items[0]).toEqual(event(a, "3", 3));
  });

  it("orders events of the same instant by numeric id, newest first", async () => {
    const log = make(10);
    const a = account();
    await log.append(event(a, "9", 1));
    await log.append(event(a, "10", 1));

    expect(ids(await log.list(a, {}, 0, 10))).toEqual(["10", "9"]);
  });

  it("keeps at most maxPerAccount events, dropping the oldest", async () => {
    const log = make(3);
    const a = account();
    for (let i = 1; i <= 5; i++) {
      await log.append(event(a, String(i), i));
    }
    // An event older than all kept ones is dropped at once.
    await log.append(event(a, "0", 0));

    const page = await log.list(a, {}, 0, 10);

    expect(ids(page)).toEqual(["5", "4", "3"]);
    expect(page.total).toBe(3);
  });

  it("keeps an event appended twice once", async () => {
    const log = make(10);
    const a = account();
    await log.append(event(a, "1", 1));
    await log.append(event(a, "1", 1, { receivedAt: new Date(BASE + 9 * MINUTE).toISOString() }));

    const page = await log.list(a, {}, 0, 10);

    expect(ids(page)).toEqual(["1"]);
    expect(page.items[0]?.receivedAt).toBe(new Date(BASE + MINUTE).toISOString());
  });

  it("keeps the accounts apart", async () => {
    const log = make(10);
    const a = account();
    const b = account();
    await log.append(event(a, "1", 1));
    await log.append(event(b, "2", 2));

    expect(ids(await log.list(a, {}, 0, 10))).toEqual(["1"]);
    expect(ids(await log.list(b, {}, 0, 10))).toEqual(["2"]);
    expect(await log.list(account(), {}, 0, 10)).toEqual({ items: [], total: 0 });
  });

  it("filters by type, certificate, order and date range, counting all matches", async () => {
    const log = make(20);
    const a = account();
    await log.append(event(a, "1", 1, { certificateId: "DK1", orderId: "O1" }));
    await log.append(
      event(a, "2", 2, { subclass: "CLOSE_SUCCESSFUL", certificateId: "DK1", orderId: "O1" }),
    );
    await log.append(event(a, "3", 3, { subclass: "REQUEST_FAILED", certificateId: "DK3" }));
    await log.append(event(a, "4", 4, { subclass: "SOMETHING_NEW", certificateId: "DK1" }));
    await log.append(
      event(a, "expiring:DK1:30d:2026-07-01", 5, {
        eventClass: "CERTIFICATE_EXPIRY",
        subclass: "EXPIRING",
        certificateId: "DK1",
        orderId: "O1",
        source: "gateway",
      }),
    );

    expect(ids(await log.list(a, { types: ["CLOSE_SUCCESSFUL", "EXPIRING"] }, 0, 10))).toEqual([
      "expiring:DK1:30d:2026-07-01",
      "2",
    ]);
    expect(ids(await log.list(a, { certificateId: "DK1" }, 0, 10))).toEqual([
      "expiring:DK1:30d:2026-07-01",
      "4",
      "2",
      "1",
    ]);
    expect(ids(await log.list(a, { orderId: "O1", types: ["REQUEST_SUCCESSFUL"] }, 0, 10))).toEqual(
      ["1"],
    );
    // since is inclusive, until exclusive.
    const range = {
      since: new Date(BASE + 2 * MINUTE),
      until: new Date(BASE + 4 * MINUTE),
    };
    expect(ids(await log.list(a, range, 0, 10))).toEqual(["3", "2"]);
    // An unknown subclass matches no type, but every other filter.
    expect(ids(await log.list(a, { types: ["REQUEST_FAILED"] }, 0, 10))).toEqual(["3"]);
    expect(await log.list(a, { certificateId: "DK404" }, 0, 10)).toEqual({ items: [], total: 0 });
  });

  it("pages the matching events and reports their total", async () => {
    const log = make(20);
    const a = account();
    for (let i = 1; i <= 7; i++) {
      await log.append(event(a, String(i), i, { certificateId: i % 2 === 0 ? "EVEN" : "ODD" }));
    }

    const first = await log.list(a, { certificateId: "ODD" }, 0, 2);
    const second = await log.list(a, { certificateId: "ODD" }, 2, 2);
    const beyond = await log.list(a, { certificateId: "ODD" }, 10, 2);

    expect([ids(first), first.total]).toEqual([["7", "5"], 4]);
    expect([ids(second), second.total]).toEqual([["3", "1"], 4]);
    expect([ids(beyond), beyond.total]).toEqual([[], 4]);
  });
}

describe("createMemoryEventLog", () => {
  behavesLikeAnEventLog(
    max => createMemoryEventLog({ maxPerAccount: max }),
    () => `memory-${randomUUID()}`,
  );

  it("refuses a bound below 1", () => {
    expect(() => createMemoryEventLog({ maxPerAccount: 0 })).toThrow(RangeError);
  });
});

describe("createRedisEventLog with a store that hangs or fails", () => {
  it("reports a call that hangs after timeoutMs and drops the event or answers empty", async () => {
    const hanging = {
      eval: () => new Promise(() => undefined),
      zRange: () => new Promise(() => undefined),
    } as unknown as RedisConnection;
    const errors: Error[] = [];
    const log = createRedisEventLog(hanging, {
      maxPerAccount: 10,
      timeoutMs: 20,
      onError: error => errors.push(error),
    });

    await expect(log.append(event("a", "1", 1))).resolves.toBeUndefined();
    await expect(log.list("a", {}, 0, 10)).resolves.toEqual({ items: [], total: 0 });

    expect(errors.map(e => e.message)).toEqual([
      "event log append timed out after 20 ms",
      "event log range timed out after 20 ms",
    ]);
  });

  it("reports a failing call and never rejects, even when onError throws", async () => {
    const failing = {
      eval: () => Promise.reject(new Error("The client is closed")),
      zRange: () => Promise.reject(new Error("The client is closed")),
    } as unknown as RedisConnection;
    const log = createRedisEventLog(failing, {
      maxPerAccount: 10,
      onError: () => {
        throw new Error("broken logger");
      },
    });

    await expect(log.append(event("a", "1", 1))).resolves.toBeUndefined();
    await expect(log.list("a", {}, 0, 10)).resolves.toEqual({ items: [], total: 0 });
  });
});

describeWithRedis("createRedisEventLog on a real Redis", url => {
  let cache: GatewayCache;
  let probe: ReturnType<typeof createClient>;
  const accounts: string[] = [];
  const account = (): string => {
    const name = `log-${randomUUID()}`;
    accounts.push(name);
    return name;
  };

  beforeAll(async () => {
    cache = createCache({ kind: "redis", url });
    const deadline = Date.now() + 5000;
    while (!(await cache.ping()) && Date.now() < deadline) {
      await new Promise(resolve => setTimeout(resolve, 20));
    }
    probe = createClient({ url });
    await probe.connect();
  });

  afterAll(async () => {
    const keys = accounts.flatMap(a => [
      `gw:v1:events:${accountTag(a)}:index`,
      `gw:v1:events:${accountTag(a)}:data`,
    ]);
    if (keys.length > 0) {
      await probe.del(keys);
    }
    await cache.close();
    probe.destroy();
  });

  behavesLikeAnEventLog(
    max => createRedisEventLog(cache.redisConnection()!, { maxPerAccount: max }),
    account,
  );

  it("keeps the events under the account tag, never the login in clear", async () => {
    const log = createRedisEventLog(cache.redisConnection()!, { maxPerAccount: 2 });
    const a = account();
    for (let i = 1; i <= 3; i++) {
      await log.append(event(a, String(i), i));
    }

    const base = `gw:v1:events:${accountTag(a)}`;
    expect(await probe.zRange(`${base}:index`, 0, -1)).toEqual(["2", "3"]);
    expect((await probe.hKeys(`${base}:data`)).sort()).toEqual(["2", "3"]);
    expect(await probe.keys(`*${a}*`)).toEqual([]);
  });

  it("is shared by the replicas: what one appends, another lists", async () => {
    const other = createCache({ kind: "redis", url });
    try {
      const deadline = Date.now() + 5000;
      while (!(await other.ping()) && Date.now() < deadline) {
        await new Promise(resolve => setTimeout(resolve, 20));
      }
      const a = account();
      await createRedisEventLog(cache.redisConnection()!, { maxPerAccount: 5 }).append(
        event(a, "1", 1),
      );

      const page = await createRedisEventLog(other.redisConnection()!, { maxPerAccount: 5 }).list(
        a,
        {},
        0,
        5,
      );

      expect(ids(page)).toEqual(["1"]);
    } finally {
      await other.close();
    }
  });
});
