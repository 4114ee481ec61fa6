import { type LookupAddress } from "node:dns";
import { MockAgent } from "undici";
import { type CertificateEvent } from "../../../src/live/types";
import { verifyWebhookSignature } from "../../../src/live/webhook-signing";
import { WebhookUrlError } from "../../../src/live/webhook-target";
import {
  createWebhookService,
  DEFAULT_WEBHOOK_MAX_AGE_MS,
  DEFAULT_WEBHOOK_RETRY_DELAYS_MS,
  type ManagedWebhookService,
  nextWebhookAttemptAt,
  WebhookLimitError,
  webhookRetrySchedule,
  type WebhookServiceOptions,
} from "../../../src/live/webhooks";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const ORIGIN = "https://hooks.example.com";
const START = Date.UTC(2025, 4, 1, 12, 0, 0);

const publicDns = (): Promise<readonly LookupAddress[]> =>
  Promise.resolve([{ address: "93.184.216.34", family: 4 }]);

function event(changes: Partial<CertificateEvent> = {}): CertificateEvent {
  return {
    id: "1001",
    account: "acme-login",
    eventClass: "CERTIFICATE_REQUEST",
    subclass: "REQUEST_SUCCESSFUL",
    objectId: "CERT-1",
    certificateId: "CERT-1",
    orderId: "ORD-1",
    date: "2025-05-01T11:59:00.000Z",
    info: "certificate issued",
    data: { certificateorder: "ORD-1" },
    source: "upstream",
    receivedAt: "2025-05-01T12:00:00.000Z",
    ...changes,
  };
}

describe("nextWebhookAttemptAt / webhookRetrySchedule", () => {
  const policy = {
    retryDelaysMs: DEFAULT_WEBHOOK_RETRY_DELAYS_MS,
    maxAgeMs: DEFAULT_WEBHOOK_MAX_AGE_MS,
  };

  it("backs off 30 s, 2 min, 10 min, ... and makes the last attempt at the one-day deadline", () => {
    const schedule = webhookRetrySchedule(policy);
    expect(schedule.slice(0, 5)).toEqual([0, 30_000, 150_000, 750_000, 2_550_000]);
    expect(schedule).toHaveLength(11);
    expect(schedule[schedule.length - 1]).toBe(DAY);
    expect(schedule[schedule.length - 2]).toBe(23 * HOUR + 42.5 * MINUTE);
    for (let index = 1; index < schedule.length; index += 1) {
      expect(schedule[index]!).toBeGreaterThan(schedule[index - 1]!);
    }
  });

  it("repeats the last pause, and gives up once the deadline has passed", () => {
    expect(nextWebhookAttemptAt(policy, 0, 9, 10 * HOUR)).toBe(18 * HOUR);
    expect(nextWebhookAttemptAt(policy, 0, 20, 20 * HOUR)).toBe(DAY);
    expect(nextWebhookAttemptAt(policy, 0, 11, DAY)).toBeNull();
    expect(nextWebhookAttemptAt(policy, 0, 1, DAY + 1)).toBeNull();
  });

  it("follows a custom policy", () => {
    expect(webhookRetrySchedule({ retryDelaysMs: [10, 20], maxAgeMs: 75 })).toEqual([
      0, 10, 30, 50, 70, 75,
    ]);
  });
});

describe("createWebhookService (memory, MockAgent)", () => {
  let agent: MockAgent;
  let clock: number;
  let service: ManagedWebhookService;

  const build = (changes: Partial<WebhookServiceOptions> = {}): ManagedWebhookService =>
    createWebhookService({
      allowPrivateTargets: false,
      dispatcher: agent,
      resolve: publicDns,
      now: () => clock,
      ...changes,
    });

  beforeEach(() => {
    clock = START;
    agent = new MockAgent();
    agent.disableNetConnect();
    service = build();
  });

  afterEach(async () => {
    await service.stop();
    await agent.close();
  });

  it("registers a webhook, returning its secret once; lists it without the secret", async () => {
    const { webhook, secret } = await service.create("key-a", "acme-login", `${ORIGIN}/ssl`, [
      "REQUEST_FAILED",
      "REQUEST_SUCCESSFUL",
      "REQUEST_FAILED",
    ]);
    expect(secret).toMatch(/^whsec_/);
    expect(webhook).toEqual({
      id: expect.stringMatching(/^wh_/),
      owner: "key-a",
      account: "acme-login",
      url: `${ORIGIN}/ssl`,
      events: ["REQUEST_SUCCESSFUL", "REQUEST_FAILED"],
      createdAt: new Date(START).toISOString(),
    });
    const listed = await service.list("key-a");
    expect(listed).toEqual([webhook]);
    expect(JSON.stringify(listed)).not.toContain(secret);
    expect(await service.list("key-b")).toEqual([]);
  });

  it("refuses bad URLs with a WebhookUrlError and enforces the per-owner limit", async () => {
    await expect(service.create("k", "a", "http://127.0.0.1/", [])).rejects.toBeInstanceOf(
      WebhookUrlError,
    );
    const limited = build({ maxPerOwner: 2 });
    await limited.create("k", "a", `${ORIGIN}/1`, []);
    await limited.create("k", "a", `${ORIGIN}/2`, []);
    await expect(limited.create("k", "a", `${ORIGIN}/3`, [])).rejects.toBeInstanceOf(
      WebhookLimitError,
    );
    await expect(limited.create("other", "a", `${ORIGIN}/3`, [])).resolves.toBeDefined();
  });

  it("queues an event only for the account's webhooks that want its kind, once", async () => {
    const all = await service.create("k", "acme-login", `${ORIGIN}/all`, []);
    const failures = await service.create("k", "acme-login", `${ORIGIN}/f`, ["REQUEST_FAILED"]);
    const otherAccount = await service.create("k", "other-login", `${ORIGIN}/o`, []);

    await service.enqueue(event());
    await service.enqueue(event()); // a pipeline retry: no second delivery
    await service.enqueue(event({ id: "1002", subclass: "SOMETHING_NEW" }));

    const page = await service.deliveries("k", all.webhook.id, 0, 10);
    expect(page?.total).toBe(2);
    expect(page?.items.map(item => [item.eventId, item.eventType, item.state])).toEqual([
      ["1002", "SOMETHING_NEW", "pending"],
      ["1001", "REQUEST_SUCCESSFUL", "pending"],
    ]);
    expect((await service.deliveries("k", failures.webhook.id, 0, 10))?.total).toBe(0);
    expect((await service.deliveries("k", otherAccount.webhook.id, 0, 10))?.total).toBe(0);
    expect(await service.deliveries("someone-else", all.webhook.id, 0, 10)).toBeNull();
    expect(await service.deliveries("k", "wh_missing", 0, 10)).toBeNull();
  });

  it("POSTs the signed JSON body and records the delivery as delivered", async () => {
    const { webhook, secret } = await service.create("k", "acme-login", `${ORIGIN}/ssl`, []);
    const seen: { body: string; headers: Record<string, string> }[] = [];
    agent
      .get(ORIGIN)
      .intercept({ path: "/ssl", method: "POST" })
      .reply(200, options => {
        seen.push({
          body: typeof options.body === "string" ? options.body : "",
          headers: options.headers as Record<string, string>,
        });
        return "ok";
      });

    await service.enqueue(event());
    clock += 1500;
    expect(await service.deliverDue()).toBe(1);

    expect(seen).toHaveLength(1);
    const [{ body, headers }] = seen as [(typeof seen)[number]];
    expect(verifyWebhookSignature({ secret, body, headers, now: clock })).toBe(true);
    expect(headers["webhook-timestamp"]).toBe(String(Math.floor(clock / 1000)));
    const payload = JSON.parse(body);
    expect(payload).toEqual({
      id: headers["webhook-id"],
      type: "REQUEST_SUCCESSFUL",
      event: {
        id: "1001",
        class: "CERTIFICATE_REQUEST",
        subclass: "REQUEST_SUCCESSFUL",
        certificateId: "CERT-1",
        orderId: "ORD-1",
        date: "2025-05-01T11:59:00.000Z",
        info: "certificate issued",
        data: { certificateorder: "ORD-1" },
      },
      createdAt: new Date(START).toISOString(),
    });
    expect(body).not.toContain("acme-login");
    const page = await service.deliveries("k", webhook.id, 0, 10);
    expect(page?.items[0]).toMatchObject({
      id: payload.id,
      state: "delivered",
      attempts: 1,
      lastStatus: 200,
      lastError: null,
      lastAttemptAt: new Date(clock).toISOString(),
      nextAttemptAt: null,
    });
    expect(await service.deliverDue()).toBe(0);
  });

  it("retries on the schedule and gives up (failed) after the maximum age", async () => {
    const { webhook } = await service.create("k", "acme-login", `${ORIGIN}/ssl`, []);
    agent.get(ORIGIN).intercept({ path: "/ssl", method: "POST" }).reply(503, "down").persist();
    await service.enqueue(event());

    const attemptsAt: number[] = [];
    for (let step = 0; step < 40; step += 1) {
      const page = await service.deliveries("k", webhook.id, 0, 1);
      const delivery = page!.items[0]!;
      if (delivery.state !== "pending") {
        break;
      }
      clock = Date.parse(delivery.nextAttemptAt!);
      if ((await service.deliverDue()) === 1) {
        attemptsAt.push(clock - START);
      }
    }

    expect(attemptsAt).toEqual(
      webhookRetrySchedule({
        retryDelaysMs: DEFAULT_WEBHOOK_RETRY_DELAYS_MS,
        maxAgeMs: DEFAULT_WEBHOOK_MAX_AGE_MS,
      }),
    );
    const [delivery] = (await service.deliveries("k", webhook.id, 0, 1))!.items;
    expect(delivery).toMatchObject({
      state: "failed",
      attempts: 11,
      lastStatus: 503,
      nextAttemptAt: null,
    });
  });

  it("records a connection failure as the error and retries it", async () => {
    const { webhook } = await service.create("k", "acme-login", `${ORIGIN}/ssl`, []);
    agent.get(ORIGIN).intercept({ path: "/ssl", method: "POST" }).replyWithError(new Error("boom"));
    await service.enqueue(event());
    await service.deliverDue();
    const [delivery] = (await service.deliveries("k", webhook.id, 0, 1))!.items;
    expect(delivery).toMatchObject({
      state: "pending",
      attempts: 1,
      lastStatus: null,
      lastError: expect.stringContaining("boom"),
      nextAttemptAt: new Date(START + 30_000).toISOString(),
    });
  });

  it("deleting a webhook drops its pending deliveries and history", async () => {
    const { webhook } = await service.create("k", "acme-login", `${ORIGIN}/ssl`, []);
    await service.enqueue(event());
    expect(await service.delete("someone-else", webhook.id)).toBe(false);
    expect(await service.delete("k", webhook.id)).toBe(true);
    expect(await service.delete("k", webhook.id)).toBe(false);
    expect(await service.list("k")).toEqual([]);
    expect(await service.deliveries("k", webhook.id, 0, 10)).toBeNull();
    expect(await service.deliverDue()).toBe(0); // nothing was sent (net connect is disabled)
  });

  it("keeps the last settled deliveries up to the history bound, newest first", async () => {
    const bounded = build({ deliveryHistory: 3 });
    const { webhook } = await bounded.create("k", "acme-login", `${ORIGIN}/ssl`, []);
    agent.get(ORIGIN).intercept({ path: "/ssl", method: "POST" }).reply(204, "").persist();
    for (let id = 1; id <= 5; id += 1) {
      await bounded.enqueue(event({ id: String(id) }));
      await bounded.deliverDue();
    }
    const page = await bounded.deliveries("k", webhook.id, 0, 10);
    expect(page?.total).toBe(3);
    expect(page?.items.map(item => item.eventId)).toEqual(["5", "4", "3"]);
    expect((await bounded.deliveries("k", webhook.id, 1, 1))?.items.map(i => i.eventId)).toEqual([
      "4",
    ]);
  });

  it("rejects nonsensical options", () => {
    expect(() => build({ retryDelaysMs: [] })).toThrow(RangeError);
    expect(() => build({ timeoutMs: 0 })).toThrow(RangeError);
  });
});
