import { randomUUID } from "node:crypto";
import { createClient } from "@keyv/redis";
import { accountTag, createCache, type GatewayCache } from "../../src/cache";
import {
  createMemoryEventBus,
  createRedisEventBus,
  type RedisEventBus,
} from "../../src/live/event-bus";
import { createMemoryEventClaims, createRedisEventClaims } from "../../src/live/event-claims";
import { createMemoryEventLog, createRedisEventLog } from "../../src/live/event-log";
import { createEventPipeline } from "../../src/live/event-pipeline";
import { createEventPoller, type EventPoller, type PollResult } from "../../src/live/event-poller";
import { createMemoryLease, createRedisLease } from "../../src/live/lease";
import { type CertificateEvent, type EventBus, type Lease } from "../../src/live/types";
import { type SandboxAccount, type SandboxHandle, startSandbox } from "../../src/sandbox/server";
import { createUpstreamClient, type UpstreamClient } from "../../src/upstream/client";
import { rows } from "../../src/upstream/codec";
import { makeCsr } from "../helpers/pki";
import { describeWithRedis } from "../helpers/redis";

const DAY = 86_400_000;
const START = new Date("2026-06-01T10:00:00Z");
const ISSUANCE_DELAY_MS = 3000;

describe("live events against the sandbox", () => {
  let sandbox: SandboxHandle;
  let now = START;
  const clients: UpstreamClient[] = [];
  const accounts: SandboxAccount[] = [
    "solo",
    "expiry",
    `pair-${randomUUID()}`,
    `split-${randomUUID()}`,
  ].map(login => ({ login, password: `${login}-password` }));
  const [solo, expiry, pair, split] = accounts as [
    SandboxAccount,
    SandboxAccount,
    SandboxAccount,
    SandboxAccount,
  ];

  beforeAll(async () => {
    sandbox = await startSandbox({
      port: 0,
      accounts,
      now: () => now,
      issuanceDelayMs: ISSUANCE_DELAY_MS,
    });
  }, 30_000);

  afterAll(async () => {
    await Promise.all(clients.map(c => c.close()));
    await sandbox.stop();
  });

  function upstreamOf(account: SandboxAccount): UpstreamClient {
    const client = createUpstreamClient({
      url: sandbox.url,
      login: account.login,
      password: account.password,
      retries: 0,
    });
    clients.push(client);
    return client;
  }

  /** Orders a certificate for `domain` and lets its validation pass (the clock moves on). */
  async function orderIssued(upstream: UpstreamClient, domain: string) {
    const reply = await upstream.call("AddCertificate", {
      class: "ssl123dv",
      domain: [domain],
      csr: makeCsr({ commonName: domain }).csrPem,
      techcontact: ["P-ABC123"],
    });
    const [certificate] = reply.properties.get("certificate") ?? [];
    const [order] = reply.properties.get("order") ?? [];
    now = new Date(now.getTime() + ISSUANCE_DELAY_MS);
    return { certificate: certificate!, order: order! };
  }

  async function upstreamEvents(upstream: UpstreamClient): Promise<string[]> {
    return rows(await upstream.call("QueryEventList", {})).map(row => row.event ?? "");
  }

  it("processes REQUEST_SUCCESSFUL once issued: invalidated, logged, published, deleted upstream", async () => {
    const upstream = upstreamOf(solo);
    const cache = createCache({ kind: "memory", url: "" });
    const log = createMemoryEventLog({ maxPerAccount: 100 });
    const bus = createMemoryEventBus();
    const heard: CertificateEvent[] = [];
    bus.subscribe(solo.login, e => heard.push(e));
    const pipeline = createEventPipeline({
      cache,
      log,
      bus,
      claims: createMemoryEventClaims(),
      now: () => now,
    });
    const poller = createEventPoller({
      account: solo.login,
      upstream,
      pipeline,
      lease: createMemoryLease({ now: () => now.getTime() }),
      holder: "replica-a",
      intervalMs: 1000,
      now: () => now,
    });

    const { certificate, order } = await orderIssued(upstream, "live.example.com");
    // A stale copy of the certificate, cached while it was processing.
    await cache.readThrough("certificate", solo.login, [certificate], () =>
      Promise.resolve(new Map([[certificate, "processing"]])),
    );

    const result = await poller.pollOnce();

    expect(result).toEqual({ leader: true, processed: 1, duplicates: 0, deleted: 1, expiring: 0 });
    expect(heard).toEqual([
      {
        id: expect.stringMatching(/^\d+$/) as string,
        account: solo.login,
        eventClass: "CERTIFICATE_REQUEST",
        subclass: "REQUEST_SUCCESSFUL",
        objectId: certificate,
        certificateId: certificate,
        orderId: order,
        date: "2026-06-01T10:00:03.000Z",
        info: "The CA issued the certificate and it is now available via StatusCertificate",
        data: expect.objectContaining({
          certificate,
          certificateorder: order,
          class: "ssl123dv",
          status: "active",
        }) as Record<string, string>,
        source: "upstream",
        receivedAt: now.toISOString(),
      },
    ]);
    expect((await log.list(solo.login, { certificateId: certificate }, 0, 10)).items).toEqual(
      heard,
    );
    expect(await upstreamEvents(upstream)).toEqual([]);
    expect(sandbox.callsTo("DeleteEvent").map(c => c.params.event)).toEqual([heard[0]?.id]);
    // The cached copy is gone: the next read loads the certificate again.
    const reread = await cache.readThrough("certificate", solo.login, [certificate], () =>
      Promise.resolve(new Map([[certificate, "active"]])),
    );
    expect(reread.get(certificate)).toBe("active");

    expect(await poller.pollOnce()).toMatchObject({ processed: 0, deleted: 0 });
    await cache.close();
  });

  it("raises the 30, 14 and 3-day expiry warnings once each as time passes", async () => {
    now = START;
    const upstream = upstreamOf(expiry);
    const log = createMemoryEventLog({ maxPerAccount: 100 });
    const poller = createEventPoller({
      account: expiry.login,
      upstream,
      pipeline: createEventPipeline({
        cache: createCache({ kind: "off", url: "" }),
        log,
        bus: createMemoryEventBus(),
        claims: createMemoryEventClaims({ now: () => now.getTime() }),
        now: () => now,
      }),
      lease: createMemoryLease({ now: () => now.getTime() }),
      holder: "replica-a",
      intervalMs: 60_000,
      expiry: { thresholdsDays: [30, 14, 3], scanIntervalMs: 60 * 60 * 1000 },
      now: () => now,
    });
    const { certificate } = await orderIssued(upstream, "expiry.example.com");
    // 199 days from issuance (CA/B Forum schedule from March 2026), as the sandbox issues it.
    const notAfter = new Date("2026-12-17T10:00:03Z").getTime();
    const at = async (time: number): Promise<PollResult> => {
      now = new Date(time);
      return poller.pollOnce();
    };

    expect(await at(now.getTime())).toMatchObject({ processed: 1, expiring: 0 });
    expect((await at(notAfter - 31 * DAY)).expiring).toBe(0);
    expect((await at(notAfter - 30 * DAY)).expiring).toBe(1);
    expect((await at(notAfter - 29 * DAY)).expiring).toBe(0);
    expect((await at(notAfter - 20 * DAY)).expiring).toBe(0);
    expect((await at(notAfter - 14 * DAY + 1000)).expiring).toBe(1);
    expect((await at(notAfter - 10 * DAY)).expiring).toBe(0);
    expect((await at(notAfter - 2 * DAY)).expiring).toBe(1);
    expect((await at(notAfter - 1 * DAY)).expiring).toBe(0);
    expect((await at(notAfter + 1000)).expiring).toBe(0);

    const warnings = await log.list(expiry.login, { types: ["EXPIRING"] }, 0, 10);
    expect(warnings.items.map(e => [e.id, e.data.thresholdDays, e.data.daysLeft])).toEqual([
      [`expiring:${certificate}:3d:2026-12-17`, "3", "2"],
      [`expiring:${certificate}:14d:2026-12-17`, "14", "13"],
      [`expiring:${certificate}:30d:2026-12-17`, "30", "30"],
    ]);
    expect(warnings.items.every(e => e.source === "gateway" && e.objectId === certificate)).toBe(
      true,
    );
    // The scans asked for active certificates only.
    expect(
      sandbox
        .callsTo("QueryCertificateList")
        .filter(c => c.account === expiry.login)
        .every(c => c.params.status === "ACTIVE" && c.params.wide === "1"),
    ).toBe(true);
  });

  describeWithRedis("replicas sharing one Redis", url => {
    interface Replica {
      cache: GatewayCache;
      bus: RedisEventBus;
      heard: CertificateEvent[];
      poller: EventPoller;
    }
    const replicas: Replica[] = [];
    let probe: ReturnType<typeof createClient>;

    beforeAll(async () => {
      probe = createClient({ url });
      await probe.connect();
    });

    afterAll(async () => {
      for (const replica of replicas) {
        await replica.poller.stop();
        await replica.bus.close();
        await replica.cache.close();
      }
      for (const account of [pair, split]) {
        const keys = await probe.keys(`gw:v1:*${accountTag(account.login)}*`);
        if (keys.length > 0) {
          await probe.del(keys);
        }
      }
      probe.destroy();
    });

    /** One replica of the gateway for `account`: its own connection, stores and poller. */
    async function replica(
      account: SandboxAccount,
      holder: string,
      lease: (cache: GatewayCache) => Lease,
    ): Promise<Replica> {
      const cache = createCache({ kind: "redis", url });
      const deadline = Date.now() + 5000;
      while (!(await cache.ping()) && Date.now() < deadline) {
        await new Promise(resolve => setTimeout(resolve, 20));
      }
      const redis = cache.redisConnection()!;
      const bus = createRedisEventBus(redis);
      const heard: CertificateEvent[] = [];
      bus.subscribe(account.login, e => heard.push(e));
      await bus.ready();
      const made: Replica = {
        cache,
        bus,
        heard,
        poller: createEventPoller({
          account: account.login,
          upstream: upstreamOf(account),
          pipeline: createEventPipeline({
            cache,
            log: createRedisEventLog(redis, { maxPerAccount: 100 }),
            claims: createRedisEventClaims(redis),
            bus,
            now: () => now,
          }),
          lease: lease(cache),
          holder,
          intervalMs: 1000,
          now: () => now,
        }),
      };
      replicas.push(made);
      return made;
    }

    /** Waits until every replica heard a sentinel published after everything else. */
    async function settled(bus: EventBus, account: string, all: Replica[]): Promise<void> {
      const id = `sentinel-${randomUUID()}`;
      await bus.publish({ ...sentinel(account), id });
      const deadline = Date.now() + 5000;
      while (!all.every(r => r.heard.some(e => e.id === id))) {
        if (Date.now() > deadline) {
          throw new Error("the sentinel never arrived");
        }
        await new Promise(resolve => setTimeout(resolve, 5));
      }
    }

    const real = (heard: CertificateEvent[]) =>
      heard.filter(e => !e.id.startsWith("sentinel-")).map(e => e.id);

    it("lets one replica lead, processes every event once, and hands over when it stops", async () => {
      const redisLease = (cache: GatewayCache) => createRedisLease(cache.redisConnection()!);
      const a = await replica(pair, "replica-a", redisLease);
      const b = await replica(pair, "replica-b", redisLease);
      const upstream = upstreamOf(pair);
      for (let i = 0; i < 3; i++) {
        await orderIssued(upstream, `pair${i}.example.com`);
      }

      const results = await Promise.all([a.poller.pollOnce(), b.poller.pollOnce()]);
      const again = await Promise.all([a.poller.pollOnce(), b.poller.pollOnce()]);

      expect(results.filter(r => r.leader)).toHaveLength(1);
      expect(again.map(r => r.leader)).toEqual(results.map(r => r.leader));
      expect([...results, ...again].reduce((sum, r) => sum + r.processed, 0)).toBe(3);
      await settled(a.bus, pair.login, [a, b]);
      expect(real(a.heard)).toHaveLength(3);
      expect(real(b.heard)).toEqual(real(a.heard));
      expect(await upstreamEvents(upstream)).toEqual([]);

      const [leader, follower] = results[0]?.leader ? [a, b] : [b, a];
      await leader.poller.stop();
      await orderIssued(upstream, "pair-after.example.com");

      expect(await follower.poller.pollOnce()).toMatchObject({ leader: true, processed: 1 });
      await settled(follower.bus, pair.login, [a, b]);
      expect(real(follower.heard)).toHaveLength(4);
      expect(real(leader.heard)).toEqual(real(follower.heard));
      expect(await upstreamEvents(upstream)).toEqual([]);
    });

    it("processes each event once even when two replicas poll at the same time (claims)", async () => {
      // Each replica believes it leads (a lease of its own): only the claims keep them apart.
      const ownLease = () => createMemoryLease();
      const a = await replica(split, "replica-a", ownLease);
      const b = await replica(split, "replica-b", ownLease);
      const upstream = upstreamOf(split);
      for (let i = 0; i < 5; i++) {
        await orderIssued(upstream, `split${i}.example.com`);
      }

      const results: PollResult[] = [];
      for (let round = 0; round < 3; round++) {
        results.push(...(await Promise.all([a.poller.pollOnce(), b.poller.pollOnce()])));
      }

      expect(results.reduce((sum, r) => sum + r.processed, 0)).toBe(5);
      await settled(a.bus, split.login, [a, b]);
      expect(new Set(real(a.heard)).size).toBe(5);
      expect(real(a.heard)).toHaveLength(5);
      expect(real(b.heard).sort()).toEqual(real(a.heard).sort());
      expect(await upstreamEvents(upstream)).toEqual([]);
      const log = createRedisEventLog(a.cache.redisConnection()!, { maxPerAccount: 100 });
      expect((await log.list(split.login, {}, 0, 100)).total).toBe(5);
    });
  });
});

function sentinel(account: string): CertificateEvent {
  return {
    id: "sentinel",
    account,
    eventClass: "TEST",
    subclass: "SENTINEL",
    objectId: "",
    certificateId: null,
    orderId: null,
    date: START.toISOString(),
    info: "",
    data: {},
    source: "gateway",
    receivedAt: START.toISOString(),
  };
}
