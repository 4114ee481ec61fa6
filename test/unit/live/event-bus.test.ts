import { randomUUID } from "node:crypto";
import { createCache, type GatewayCache } from "../../../src/cache";
import {
  createMemoryEventBus,
  createRedisEventBus,
  type RedisEventBus,
} from "../../../src/live/event-bus";
import { type CertificateEvent } from "../../../src/live/types";
import { describeWithRedis } from "../../helpers/redis";

function event(account: string, id: string): CertificateEvent {
  return {
    id,
    account,
    eventClass: "CERTIFICATE_REQUEST",
    subclass: "REQUEST_SUCCESSFUL",
    objectId: "DK1",
    certificateId: "DK1",
    orderId: "O1",
    date: "2026-06-01T10:00:00.000Z",
    info: "issued",
    data: { certificate: "DK1" },
    source: "upstream",
    receivedAt: "2026-06-01T10:00:01.000Z",
  };
}

describe("createMemoryEventBus", () => {
  it("delivers an event to every listener of its account only", async () => {
    const bus = createMemoryEventBus();
    const a1: string[] = [];
    const a2: string[] = [];
    const b: string[] = [];
    bus.subscribe("a", e => a1.push(e.id));
    bus.subscribe("a", e => a2.push(e.id));
    bus.subscribe("b", e => b.push(e.id));

    await bus.publish(event("a", "1"));

    expect([a1, a2, b]).toEqual([["1"], ["1"], []]);
  });

  it("goes on delivering when a listener throws, and reports the error", async () => {
    const errors: Error[] = [];
    const bus = createMemoryEventBus({ onError: e => errors.push(e) });
    const heard: string[] = [];
    bus.subscribe("a", () => {
      throw new Error("listener broke");
    });
    bus.subscribe("a", e => heard.push(e.id));

    await expect(bus.publish(event("a", "1"))).resolves.toBeUndefined();

    expect(heard).toEqual(["1"]);
    expect(errors.map(e => e.message)).toEqual(["listener broke"]);
  });

  it("stops delivering after unsubscribe and close", async () => {
    const bus = createMemoryEventBus();
    const heard: string[] = [];
    const listener = (e: CertificateEvent) => heard.push(e.id);
    const unsubscribe = bus.subscribe("a", listener);
    bus.subscribe("a", listener); // the same function twice is two subscriptions

    await bus.publish(event("a", "1"));
    unsubscribe();
    unsubscribe();
    await bus.publish(event("a", "2"));
    await bus.close();
    await bus.publish(event("a", "3"));

    expect(heard).toEqual(["1", "1", "2"]);
  });
});

describe("createRedisEventBus while Redis is unreachable", () => {
  it("reports the failed publication and closes without waiting for Redis", async () => {
    // Port 1 on loopback refuses connections: the cache's client keeps retrying in the background.
    const cache = createCache({ kind: "redis", url: "redis://127.0.0.1:1" });
    const errors: Error[] = [];
    const bus = createRedisEventBus(cache.redisConnection()!, {
      timeoutMs: 50,
      onError: e => errors.push(e),
    });
    const heard: CertificateEvent[] = [];
    bus.subscribe("a", e => heard.push(e));

    await expect(bus.publish(event("a", "1"))).resolves.toBeUndefined();
    const started = Date.now();
    await bus.close();
    await cache.close();

    expect(Date.now() - started).toBeLessThan(1000);
    expect(errors.length).toBeGreaterThan(0);
    expect(heard).toEqual([]);
  });
});

describeWithRedis("createRedisEventBus on a real Redis", url => {
  let first: GatewayCache;
  let second: GatewayCache;
  const buses: RedisEventBus[] = [];

  async function connected(): Promise<GatewayCache> {
    const made = createCache({ kind: "redis", url });
    const deadline = Date.now() + 5000;
    while (!(await made.ping()) && Date.now() < deadline) {
      await new Promise(resolve => setTimeout(resolve, 20));
    }
    return made;
  }

  function bus(cache: GatewayCache, onError?: (error: Error) => void): RedisEventBus {
    const made = createRedisEventBus(cache.redisConnection()!, onError ? { onError } : {});
    buses.push(made);
    return made;
  }

  /** Resolves once `listener` heard the event `id`. */
  function heard(list: CertificateEvent[], id: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const deadline = Date.now() + 5000;
      const check = () => {
        if (list.some(e => e.id === id)) {
          resolve();
        } else if (Date.now() > deadline) {
          reject(new Error(`event ${id} never arrived`));
        } else {
          setTimeout(check, 5);
        }
      };
      check();
    });
  }

  beforeAll(async () => {
    first = await connected();
    second = await connected();
  });

  afterAll(async () => {
    await Promise.all(buses.map(b => b.close()));
    await first.close();
    await second.close();
  });

  it("fans an event out to the listeners of both replicas, once each", async () => {
    const account = `bus-${randomUUID()}`;
    const mine = bus(first);
    const theirs = bus(second);
    const onMine: CertificateEvent[] = [];
    const onTheirs: CertificateEvent[] = [];
    mine.subscribe(account, e => onMine.push(e));
    theirs.subscribe(account, e => onTheirs.push(e));
    await Promise.all([mine.ready(), theirs.ready()]);

    await mine.publish(event(account, "1"));
    // Messages of one channel arrive in order: once the last is heard, any double would be too.
    await theirs.publish(event(account, "sentinel"));
    await Promise.all([heard(onMine, "sentinel"), heard(onTheirs, "sentinel")]);

    expect(onMine.map(e => e.id)).toEqual(["1", "sentinel"]);
    expect(onTheirs.map(e => e.id)).toEqual(["1", "sentinel"]);
    expect(onTheirs[0]).toEqual(event(account, "1"));
  });

  it("delivers only the account's events, and none after unsubscribe", async () => {
    const account = `bus-${randomUUID()}`;
    const other = `bus-${randomUUID()}`;
    const publisher = bus(first);
    const listener = bus(second);
    const kept: string[] = [];
    const dropped: string[] = [];
    const otherHeard: CertificateEvent[] = [];
    listener.subscribe(account, e => kept.push(e.id));
    const unsubscribe = listener.subscribe(account, e => dropped.push(e.id));
    listener.subscribe(other, e => otherHeard.push(e));
    await listener.ready();

    await publisher.publish(event(account, "1"));
    await publisher.publish(event(other, "o1"));
    await heard(otherHeard, "o1");
    unsubscribe();
    await listener.ready();
    await publisher.publish(event(account, "2"));
    await publisher.publish(event(other, "o2"));
    await heard(otherHeard, "o2");

    expect(kept).toEqual(["1", "2"]);
    expect(dropped).toEqual(["1"]);
    expect(otherHeard.map(e => e.id)).toEqual(["o1", "o2"]);
  });

  it("goes on delivering when a listener throws, and reports the error", async () => {
    const account = `bus-${randomUUID()}`;
    const errors: Error[] = [];
    const listener = bus(second, e => errors.push(e));
    const received: CertificateEvent[] = [];
    listener.subscribe(account, () => {
      throw new Error("listener broke");
    });
    listener.subscribe(account, e => received.push(e));
    await listener.ready();

    await bus(first).publish(event(account, "1"));
    await heard(received, "1");

    expect(errors.map(e => e.message)).toEqual(["listener broke"]);
  });

  it("closes its subscriber connection and hears nothing afterwards", async () => {
    const account = `bus-${randomUUID()}`;
    const listener = bus(second);
    const received: string[] = [];
    listener.subscribe(account, e => received.push(e.id));
    await listener.ready();

    await listener.close();
    await bus(first).publish(event(account, "1"));
    const probe = bus(first);
    const probed: CertificateEvent[] = [];
    probe.subscribe(account, e => probed.push(e));
    await probe.ready();
    await bus(first).publish(event(account, "2"));
    await heard(probed, "2");

    expect(received).toEqual([]);
    expect(listener.subscribe(account, () => undefined)).toEqual(expect.any(Function));
  });
});
