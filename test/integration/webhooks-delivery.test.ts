import { randomUUID } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { type AddressInfo } from "node:net";
import { createClient } from "@keyv/redis";
import { createCache, type GatewayCache, type RedisConnection } from "../../src/cache";
import { type CertificateEvent, type WebhookDelivery } from "../../src/live/types";
import { verifyWebhookSignature } from "../../src/live/webhook-signing";
import { createRedisWebhookStore } from "../../src/live/webhook-store";
import { WebhookUrlError } from "../../src/live/webhook-target";
import {
  createWebhookService,
  type ManagedWebhookService,
  type WebhookServiceOptions,
} from "../../src/live/webhooks";
import { describeWithRedis } from "../helpers/redis";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const START = Date.UTC(2025, 4, 1, 12, 0, 0);

interface Received {
  readonly id: string;
  readonly body: string;
  readonly headers: IncomingHttpHeaders;
  /** Whether the signature verified against the test's secret and clock. */
  readonly verified: boolean;
}

/** A webhook receiver on loopback that verifies every signature and fails on request. */
interface Receiver {
  readonly url: string;
  readonly received: Received[];
  /** Answer the next `count` requests with `status` (default 500). */
  failNext(count: number, status?: number): void;
  /** Answer every request with `status` from now on (500 for ever; 200 to heal). */
  failAlways(status: number): void;
  close(): Promise<void>;
}

async function startReceiver(check: {
  secret: () => string;
  now: () => number;
}): Promise<Receiver> {
  const received: Received[] = [];
  let failures = 0;
  let failureStatus = 500;
  let always: number | undefined;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const verified = verifyWebhookSignature({
        secret: check.secret(),
        body,
        headers: req.headers,
        now: check.now(),
      });
      received.push({
        id: String(req.headers["webhook-id"]),
        body,
        headers: req.headers,
        verified,
      });
      let status = verified ? 200 : 401;
      if (always !== undefined) {
        status = always;
      } else if (failures > 0) {
        failures -= 1;
        status = failureStatus;
      }
      res.writeHead(status, { "content-type": "text/plain" }).end(String(status));
    });
  });
  await new Promise<void>(resolve => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/ssl`,
    received,
    failNext: (count, status = 500) => {
      failures = count;
      failureStatus = status;
    },
    failAlways: status => {
      always = status === 200 ? undefined : status;
    },
    close: () =>
      new Promise<void>(resolve => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function event(id: string, changes: Partial<CertificateEvent> = {}): CertificateEvent {
  return {
    id,
    account: "acme-login",
    eventClass: "CERTIFICATE_REQUEST",
    subclass: "REQUEST_SUCCESSFUL",
    objectId: "CERT-1",
    certificateId: "CERT-1",
    orderId: "ORD-1",
    date: "2025-05-01T11:59:00.000Z",
    info: "certificate issued",
    data: {},
    source: "upstream",
    receivedAt: "2025-05-01T12:00:00.000Z",
    ...changes,
  };
}

async function onlyDelivery(
  service: ManagedWebhookService,
  owner: string,
  webhookId: string,
): Promise<WebhookDelivery> {
  const page = await service.deliveries(owner, webhookId, 0, 10);
  expect(page?.total).toBe(1);
  return page!.items[0]!;
}

/**
 * The behaviour every store must have. `build` makes a service on the store under test; for
 * Redis, services built in one test share their keys (replicas).
 */
function deliveryBehaviour(
  build: (options: Partial<WebhookServiceOptions>) => ManagedWebhookService,
) {
  let clock: number;
  let secret: string;
  let receiver: Receiver;
  const services: ManagedWebhookService[] = [];
  const service = (options: Partial<WebhookServiceOptions> = {}): ManagedWebhookService => {
    const built = build({ allowPrivateTargets: true, now: () => clock, ...options });
    services.push(built);
    return built;
  };

  beforeEach(async () => {
    clock = START;
    secret = "";
    receiver = await startReceiver({ secret: () => secret, now: () => clock });
  });

  afterEach(async () => {
    await Promise.all(services.splice(0).map(built => built.stop()));
    await receiver.close();
  });

  it("delivers to a loopback receiver with a valid signature", async () => {
    const hooks = service();
    const created = await hooks.create("key-a", "acme-login", receiver.url, []);
    secret = created.secret;
    await hooks.enqueue(event("2001"));

    expect(await hooks.deliverDue()).toBe(1);

    expect(receiver.received).toHaveLength(1);
    const [request] = receiver.received as [Received];
    expect(request.verified).toBe(true);
    expect(request.headers["content-type"]).toBe("application/json");
    expect(request.headers["user-agent"]).toBe("rrpproxy-ssl-gateway-webhooks/1");
    expect(JSON.parse(request.body)).toMatchObject({
      id: request.id,
      type: "REQUEST_SUCCESSFUL",
      event: { id: "2001", class: "CERTIFICATE_REQUEST", certificateId: "CERT-1" },
    });
    expect(await onlyDelivery(hooks, "key-a", created.webhook.id)).toMatchObject({
      id: request.id,
      eventId: "2001",
      state: "delivered",
      attempts: 1,
      lastStatus: 200,
    });
  });

  it("retries a receiver failing twice: three attempts, same id, each signed anew", async () => {
    const hooks = service();
    const created = await hooks.create("key-a", "acme-login", receiver.url, []);
    secret = created.secret;
    receiver.failNext(2, 503);
    await hooks.enqueue(event("2002"));

    await hooks.deliverDue();
    let delivery = await onlyDelivery(hooks, "key-a", created.webhook.id);
    expect(delivery).toMatchObject({ state: "pending", attempts: 1, lastStatus: 503 });
    expect(delivery.nextAttemptAt).toBe(new Date(START + 30_000).toISOString());

    clock += 29_000;
    expect(await hooks.deliverDue()).toBe(0); // not due yet
    clock += 1_000;
    expect(await hooks.deliverDue()).toBe(1);
    delivery = await onlyDelivery(hooks, "key-a", created.webhook.id);
    expect(delivery).toMatchObject({ state: "pending", attempts: 2, lastStatus: 503 });

    clock = Date.parse(delivery.nextAttemptAt!);
    expect(clock - START).toBe(30_000 + 2 * MINUTE);
    expect(await hooks.deliverDue()).toBe(1);
    expect(await onlyDelivery(hooks, "key-a", created.webhook.id)).toMatchObject({
      state: "delivered",
      attempts: 3,
      lastStatus: 200,
      lastError: null,
      nextAttemptAt: null,
    });

    expect(receiver.received.map(request => request.verified)).toEqual([true, true, true]);
    expect(new Set(receiver.received.map(request => request.id)).size).toBe(1);
    const timestamps = receiver.received.map(request => request.headers["webhook-timestamp"]);
    expect(new Set(timestamps).size).toBe(3);
  });

  it("gives a receiver that always fails up after the maximum age (failed)", async () => {
    const hooks = service();
    const created = await hooks.create("key-a", "acme-login", receiver.url, []);
    secret = created.secret;
    receiver.failAlways(500);
    await hooks.enqueue(event("2003"));

    for (let step = 0; step < 20; step += 1) {
      const delivery = await onlyDelivery(hooks, "key-a", created.webhook.id);
      if (delivery.state !== "pending") {
        break;
      }
      clock = Date.parse(delivery.nextAttemptAt!);
      await hooks.deliverDue();
    }

    const delivery = await onlyDelivery(hooks, "key-a", created.webhook.id);
    expect(delivery).toMatchObject({ state: "failed", lastStatus: 500, nextAttemptAt: null });
    expect(delivery.attempts).toBe(11);
    expect(receiver.received).toHaveLength(11);
    expect(Date.parse(delivery.lastAttemptAt!) - START).toBe(24 * HOUR);
    clock += 48 * HOUR;
    expect(await hooks.deliverDue()).toBe(0);
  });

  it("refuses loopback targets unless private targets are allowed", async () => {
    const strict = service({ allowPrivateTargets: false });
    for (const url of [receiver.url, receiver.url.replace("127.0.0.1", "localhost")]) {
      const error = await strict
        .create("key-a", "acme-login", url, [])
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(WebhookUrlError);
      expect((error as WebhookUrlError).reason).toBe("private-address");
    }
    expect(await strict.list("key-a")).toEqual([]);
  });

  it("refuses at connect time a name that resolves to loopback by then (DNS rebinding)", async () => {
    // Registration sees a public address; the connection resolves localhost for real.
    const strict = service({
      allowPrivateTargets: false,
      resolve: () => Promise.resolve([{ address: "93.184.216.34", family: 4 }]),
    });
    const url = receiver.url.replace("127.0.0.1", "localhost");
    const created = await strict.create("key-a", "acme-login", url, []);
    await strict.enqueue(event("2004"));

    expect(await strict.deliverDue()).toBe(1);

    expect(receiver.received).toHaveLength(0);
    const delivery = await onlyDelivery(strict, "key-a", created.webhook.id);
    expect(delivery).toMatchObject({ state: "failed", attempts: 1, lastStatus: null });
    expect(delivery.lastError).toMatch(/^refused: .*localhost.*GATEWAY_WEBHOOK_ALLOW_PRIVATE/);
  });

  it("deleting a webhook drops its pending deliveries", async () => {
    const hooks = service();
    const created = await hooks.create("key-a", "acme-login", receiver.url, []);
    secret = created.secret;
    receiver.failNext(1);
    await hooks.enqueue(event("2005"));
    await hooks.deliverDue(); // fails once: pending, due in 30 s
    await hooks.enqueue(event("2006")); // queued, never attempted

    expect(await hooks.delete("key-a", created.webhook.id)).toBe(true);
    clock += HOUR;
    expect(await hooks.deliverDue()).toBe(0);
    expect(receiver.received).toHaveLength(1);
    expect(await hooks.deliveries("key-a", created.webhook.id, 0, 10)).toBeNull();
  });

  it("the started worker delivers on its own", async () => {
    clock = Date.now(); // the receiver verifies against the clock the worker signs with
    const hooks = service({ pollIntervalMs: 20, now: Date.now });
    const created = await hooks.create("key-a", "acme-login", receiver.url, ["REQUEST_SUCCESSFUL"]);
    secret = created.secret;
    hooks.start();
    await hooks.enqueue(event("2007"));
    await hooks.enqueue(event("2008", { subclass: "REQUEST_FAILED" })); // not wanted

    const deadline = Date.now() + 5000;
    while (receiver.received.length === 0 && Date.now() < deadline) {
      await new Promise(resolve => setTimeout(resolve, 20));
    }
    await hooks.stop();
    const eventIds = receiver.received.map(
      request => (JSON.parse(request.body) as { event: { id: string } }).event.id,
    );
    expect(eventIds).toEqual(["2007"]);
    expect(receiver.received[0]!.verified).toBe(true);
  });

  return {
    receiver: () => receiver,
    setSecret: (value: string) => {
      secret = value;
    },
    clock: () => clock,
    setClock: (value: number) => {
      clock = value;
    },
    service,
  };
}

describe("webhooks delivery (memory)", () => {
  deliveryBehaviour(options => createWebhookService({ allowPrivateTargets: true, ...options }));
});

describeWithRedis("webhooks delivery (Redis)", url => {
  let cache: GatewayCache;
  let connection: RedisConnection;
  let probe: ReturnType<typeof createClient>;
  let keyPrefix: string;

  beforeAll(async () => {
    cache = createCache({ kind: "redis", url });
    const deadline = Date.now() + 5000;
    while (!(await cache.ping()) && Date.now() < deadline) {
      await new Promise(resolve => setTimeout(resolve, 20));
    }
    connection = cache.redisConnection()!;
    probe = createClient({ url });
    await probe.connect();
  });

  beforeEach(() => {
    keyPrefix = `test:wh:${randomUUID()}`;
  });

  afterEach(async () => {
    const keys: string[] = [];
    for await (const batch of probe.scanIterator({ MATCH: `${keyPrefix}:*`, COUNT: 100 })) {
      keys.push(...batch);
    }
    if (keys.length > 0) {
      await probe.del(keys);
    }
  });

  afterAll(async () => {
    await cache.close();
    probe.destroy();
  });

  const shared = deliveryBehaviour(options =>
    createWebhookService({ allowPrivateTargets: true, redis: connection, keyPrefix, ...options }),
  );

  it("two replicas on one Redis attempt each delivery exactly once", async () => {
    const [a, b] = [shared.service(), shared.service()];
    const created = await a.create("key-a", "acme-login", shared.receiver().url, []);
    shared.setSecret(created.secret);
    const ids = Array.from({ length: 24 }, (_, index) => String(3000 + index));
    for (const id of ids) {
      await (Number(id) % 2 === 0 ? a : b).enqueue(event(id));
    }

    const [byA, byB] = await Promise.all([a.deliverDue(), b.deliverDue()]);

    expect(byA + byB).toBe(ids.length);
    const received = shared.receiver().received;
    expect(received).toHaveLength(ids.length);
    expect(new Set(received.map(request => request.id)).size).toBe(ids.length);
    expect(received.every(request => request.verified)).toBe(true);
    const page = await b.deliveries("key-a", created.webhook.id, 0, 100);
    expect(page?.items.every(item => item.state === "delivered" && item.attempts === 1)).toBe(true);
  });

  it("two started workers on one Redis deliver each event once", async () => {
    const [a, b] = [
      shared.service({ pollIntervalMs: 10, now: Date.now, concurrency: 4 }),
      shared.service({ pollIntervalMs: 10, now: Date.now, concurrency: 4 }),
    ];
    shared.setClock(Date.now());
    const created = await a.create("key-a", "acme-login", shared.receiver().url, []);
    shared.setSecret(created.secret);
    a.start();
    b.start();
    const ids = Array.from({ length: 30 }, (_, index) => String(4000 + index));
    await Promise.all(ids.map(id => a.enqueue(event(id))));

    const deadline = Date.now() + 10_000;
    const received = shared.receiver().received;
    while (received.length < ids.length && Date.now() < deadline) {
      await new Promise(resolve => setTimeout(resolve, 20));
    }
    await new Promise(resolve => setTimeout(resolve, 200)); // room for a duplicate to show
    await Promise.all([a.stop(), b.stop()]);

    expect(received).toHaveLength(ids.length);
    expect(new Set(received.map(request => request.id)).size).toBe(ids.length);
    expect(received.every(request => request.verified)).toBe(true);
  });

  it("a delivery claimed by a replica that died is attempted again once the claim lapses", async () => {
    const hooks = shared.service({ timeoutMs: 2000 });
    const created = await hooks.create("key-a", "acme-login", shared.receiver().url, []);
    shared.setSecret(created.secret);
    await hooks.enqueue(event("5001"));
    // A replica claims it and dies before attempting it.
    const dead = createRedisWebhookStore(connection, { history: 100, keyPrefix });
    expect(await dead.claimDue(shared.clock(), shared.clock() + 7000, 10)).toHaveLength(1);

    expect(await hooks.deliverDue()).toBe(0);
    shared.setClock(shared.clock() + 7000);
    expect(await hooks.deliverDue()).toBe(1);
    expect(shared.receiver().received).toHaveLength(1);
    expect(await onlyDelivery(hooks, "key-a", created.webhook.id)).toMatchObject({
      state: "delivered",
      attempts: 1,
    });
  });

  it("a replica without private targets refuses, at connect time, a loopback target", async () => {
    const lenient = shared.service();
    const strict = shared.service({ allowPrivateTargets: false });
    const created = await lenient.create("key-a", "acme-login", shared.receiver().url, []);
    await lenient.enqueue(event("5002"));

    expect(await strict.deliverDue()).toBe(1);

    expect(shared.receiver().received).toHaveLength(0);
    const delivery = await onlyDelivery(lenient, "key-a", created.webhook.id);
    expect(delivery).toMatchObject({ state: "failed", attempts: 1 });
    expect(delivery.lastError).toMatch(/^refused: .*127\.0\.0\.1/);
  });

  it("keeps no login in clear in its keys or values", async () => {
    const hooks = shared.service();
    await hooks.create("key-a", "acme-login", shared.receiver().url, []);
    await hooks.enqueue(event("5003"));
    const keys: string[] = [];
    for await (const batch of probe.scanIterator({ MATCH: `${keyPrefix}:*`, COUNT: 100 })) {
      keys.push(...batch);
    }
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.join(" ")).not.toContain("acme-login");
    const due = await probe.zRange(`${keyPrefix}:due`, 0, -1);
    expect(due).toHaveLength(1);
  });
});
