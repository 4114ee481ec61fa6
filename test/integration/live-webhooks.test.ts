import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { type AddressInfo } from "node:net";
import { verifyWebhookSignature } from "../../src/live/webhook-signing";
import {
  CreateWebhookDocument,
  DeleteWebhookDocument,
  OrderCertificateDocument,
  WebhookDeliveriesDocument,
  WebhooksDocument,
} from "../__generated__/graphql";
import { startTestGateway, type TestGateway } from "../helpers/gateway";
import { makeCsr } from "../helpers/pki";
import { waitUntil } from "../helpers/subscriptions";

const SHOP_KEY = "shop-key-0123456789abcdef";
const PARTNER_KEY = "partner-key-0123456789abcdef";
const KEYS = `shop:read:${SHOP_KEY},partner:read+order:${PARTNER_KEY}`;
const AS_SHOP = { authorization: `Bearer ${SHOP_KEY}` };
const AS_PARTNER = { authorization: `Bearer ${PARTNER_KEY}` };

interface Received {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** A loopback endpoint that records every POST and answers 204. */
async function startReceiver(): Promise<{ url: string; received: Received[]; server: Server }> {
  const received: Received[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      received.push({ headers: request.headers, body: Buffer.concat(chunks).toString("utf8") });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>(resolve => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hooks/rrpproxy`, received, server };
}

describe("webhooks through GraphQL", () => {
  let gateway: TestGateway;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;

  beforeAll(async () => {
    receiver = await startReceiver();
    gateway = await startTestGateway({
      GATEWAY_API_KEYS: KEYS,
      GATEWAY_WEBHOOK_ALLOW_PRIVATE: "on",
      GATEWAY_WEBHOOK_TIMEOUT_MS: "2000",
      GATEWAY_EVENTS_POLL_MS: "200",
    });
  });

  afterAll(async () => {
    await gateway?.stop();
    await new Promise(resolve => receiver?.server.close(resolve));
  });

  it("registers a webhook per key, delivers signed events to it and records the outcome", async () => {
    const created = await gateway.query(CreateWebhookDocument, { url: receiver.url }, AS_PARTNER);
    const unwanted = await gateway.query(
      CreateWebhookDocument,
      { url: `${receiver.url}?only=reissues`, events: ["REISSUE_SUCCESSFUL"] },
      AS_PARTNER,
    );
    expect(created.errors).toBeUndefined();
    const { webhook, secret } = created.data!.createWebhook;
    expect(secret).toMatch(/^whsec_/);
    expect(webhook).toMatchObject({ url: receiver.url, events: [] });

    const partners = await gateway.query(WebhooksDocument, {}, AS_PARTNER);
    const shops = await gateway.query(WebhooksDocument, {}, AS_SHOP);
    expect(partners.data?.webhooks.map(w => w.id).sort()).toEqual(
      [webhook.id, unwanted.data!.createWebhook.webhook.id].sort(),
    );
    expect(shops.data?.webhooks).toEqual([]);

    const ordered = await gateway.query(
      OrderCertificateDocument,
      {
        input: {
          class: "ssl123dv",
          domains: ["hooks.example.com"],
          csr: makeCsr({ commonName: "hooks.example.com" }).csrPem,
          dcvMethod: "DNS_TXT",
          techContact: {
            firstName: "Ada",
            lastName: "Lovelace",
            email: "ada@example.com",
            phone: "+44.2071234567",
          },
        },
      },
      AS_PARTNER,
    );
    expect(ordered.errors).toBeUndefined();
    const id = ordered.data!.orderCertificate.id;
    await waitUntil(() => receiver.received.length > 0, 10_000, "a delivery");

    const [delivery] = receiver.received;
    expect(
      verifyWebhookSignature({ secret, body: delivery!.body, headers: delivery!.headers }),
    ).toBe(true);
    expect(
      verifyWebhookSignature({
        secret: "whsec_wrong",
        body: delivery!.body,
        headers: delivery!.headers,
      }),
    ).toBe(false);
    expect(JSON.parse(delivery!.body)).toMatchObject({
      type: "REQUEST_SUCCESSFUL",
      event: { certificateId: id, class: "CERTIFICATE_REQUEST" },
    });
    expect(delivery!.headers["webhook-id"]).toEqual(expect.stringMatching(/^whd_/));

    await waitUntil(
      async () => {
        const page = await gateway.query(
          WebhookDeliveriesDocument,
          { webhookId: webhook.id },
          AS_PARTNER,
        );
        return page.data?.webhookDeliveries.nodes[0]?.state === "DELIVERED";
      },
      5_000,
      "the delivery recorded",
    );
    const deliveries = await gateway.query(
      WebhookDeliveriesDocument,
      { webhookId: webhook.id },
      AS_PARTNER,
    );
    const skipped = await gateway.query(
      WebhookDeliveriesDocument,
      { webhookId: unwanted.data!.createWebhook.webhook.id },
      AS_PARTNER,
    );
    expect(deliveries.data?.webhookDeliveries).toMatchObject({
      totalCount: 1,
      nodes: [
        { eventType: "REQUEST_SUCCESSFUL", state: "DELIVERED", attempts: 1, lastStatus: 204 },
      ],
    });
    expect(skipped.data?.webhookDeliveries.totalCount).toBe(0);
    expect(receiver.received).toHaveLength(1);
  });

  it("hides one key's webhooks from another and answers NOT_FOUND for them", async () => {
    const created = await gateway.query(
      CreateWebhookDocument,
      { url: `${receiver.url}?owner=partner` },
      AS_PARTNER,
    );
    const id = created.data!.createWebhook.webhook.id;

    const peek = await gateway.query(WebhookDeliveriesDocument, { webhookId: id }, AS_SHOP);
    const steal = await gateway.query(DeleteWebhookDocument, { id }, AS_SHOP);
    const deleted = await gateway.query(DeleteWebhookDocument, { id }, AS_PARTNER);
    const again = await gateway.query(DeleteWebhookDocument, { id }, AS_PARTNER);
    const listed = await gateway.query(WebhooksDocument, {}, AS_PARTNER);

    expect(peek.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    expect(steal.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    expect(deleted.data?.deleteWebhook).toBe(true);
    expect(again.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    expect(listed.data?.webhooks.map(w => w.id)).not.toContain(id);
  });

  it("refuses a URL that is not http(s)", async () => {
    const refused = await gateway.query(
      CreateWebhookDocument,
      { url: "ftp://hooks.example.com/in" },
      AS_PARTNER,
    );

    expect(refused.errors?.[0]?.extensions).toMatchObject({
      code: "WEBHOOK_URL_REFUSED",
      field: "url",
      reason: "scheme",
    });
  });
});

describe("webhooks to private addresses", () => {
  let gateway: TestGateway;

  beforeAll(async () => {
    gateway = await startTestGateway({ GATEWAY_API_KEYS: KEYS });
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  it("refuses a loopback target unless GATEWAY_WEBHOOK_ALLOW_PRIVATE is on", async () => {
    const refused = await gateway.query(
      CreateWebhookDocument,
      { url: "http://127.0.0.1:8080/hooks" },
      AS_PARTNER,
    );
    const listed = await gateway.query(WebhooksDocument, {}, AS_PARTNER);

    expect(refused.data).toBeNull();
    expect(refused.errors?.[0]).toMatchObject({
      message: expect.any(String),
      extensions: { code: "WEBHOOK_URL_REFUSED", field: "url", reason: "private-address" },
    });
    expect(listed.data?.webhooks).toEqual([]);
  });
});
