import { request } from "undici";
import WebSocket from "ws";
import {
  CertificateEventsDocument,
  CertificateHistoryDocument,
  CertificateSummaryDocument,
  CertificateUpdatedDocument,
  OrderCertificateDocument,
} from "../__generated__/graphql";
import { startTestGateway, type TestGateway } from "../helpers/gateway";
import { makeCsr } from "../helpers/pki";
import {
  openWsClient,
  subscribeWith,
  type TestWsClient,
  waitUntil,
  wsUrlOf,
} from "../helpers/subscriptions";

const READ_KEY = "read-key-0123456789abcdef";
const ORDER_KEY = "order-key-0123456789abcdef";
const KEYS = `shop:read:${READ_KEY},partner:read+order+manage:${ORDER_KEY}`;
const AS_PARTNER = { authorization: `Bearer ${ORDER_KEY}` };
const POLL_MS = 250;
const ISSUANCE_DELAY_MS = 400;

const TECH = {
  firstName: "Ada",
  lastName: "Lovelace",
  email: "ada@example.com",
  phone: "+44.2071234567",
};

function orderInput(domain: string) {
  return {
    class: "ssl123dv",
    domains: [domain],
    csr: makeCsr({ commonName: domain }).csrPem,
    dcvMethod: "DNS_TXT" as const,
    techContact: TECH,
  };
}

describe("Subscription.certificateUpdated over graphql-ws", () => {
  let gateway: TestGateway;
  const clients: TestWsClient[] = [];
  const open = (options: Parameters<typeof openWsClient>[1] = {}): TestWsClient => {
    const client = openWsClient(gateway.url, options);
    clients.push(client);
    return client;
  };
  const subscriptionsRunning = (): number => gateway.gateway.subscriptions?.subscriptions() ?? 0;

  async function order(domain: string): Promise<string> {
    const ordered = await gateway.query(
      OrderCertificateDocument,
      { input: orderInput(domain) },
      AS_PARTNER,
    );
    expect(ordered.errors).toBeUndefined();
    return ordered.data!.orderCertificate.id;
  }

  beforeAll(async () => {
    gateway = await startTestGateway(
      {
        GATEWAY_API_KEYS: KEYS,
        // The memory cache: the certificate read while PROCESSING must not be served afterwards.
        CACHE_URL: "memory",
        GATEWAY_EVENTS_POLL_MS: String(POLL_MS),
        GATEWAY_CORS_ORIGINS: "https://shop.example",
      },
      { sandbox: { issuanceDelayMs: ISSUANCE_DELAY_MS } },
    );
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map(client => client.dispose()));
    await waitUntil(() => subscriptionsRunning() === 0, 5_000, "subscriptions ended");
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  it("tells a subscriber of an issuance within one poll interval, with the certificate as it is now", async () => {
    const client = open({ connectionParams: { authorization: `Bearer ${READ_KEY}` } });
    const everything = subscribeWith(client.client, CertificateUpdatedDocument, {});
    await waitUntil(() => subscriptionsRunning() === 1, 5_000, "subscription running");

    const orderedAt = Date.now();
    const id = await order("live.example.com");
    // Read (and cache) the certificate while the CA is still validating.
    const before = await gateway.query(CertificateSummaryDocument, { id }, AS_PARTNER);
    expect(before.data?.certificate?.status).toBe("PROCESSING");

    const result = await everything.next(
      r => r.data?.certificateUpdated.certificate?.id === id,
      ISSUANCE_DELAY_MS + 10 * POLL_MS,
    );
    const receivedAt = Date.now();

    expect(result.errors).toBeUndefined();
    expect(result.data?.certificateUpdated).toMatchObject({
      class: "CERTIFICATE_REQUEST",
      subclass: "REQUEST_SUCCESSFUL",
      type: "REQUEST_SUCCESSFUL",
      objectId: id,
      source: "UPSTREAM",
      certificate: { id, status: "ACTIVE" },
    });
    // Issued ISSUANCE_DELAY_MS after the order; seen at the next poll (plus processing time).
    expect(receivedAt - orderedAt).toBeLessThan(ISSUANCE_DELAY_MS + POLL_MS + 1_500);
    const after = await gateway.query(CertificateSummaryDocument, { id }, AS_PARTNER);
    expect(after.data?.certificate?.status).toBe("ACTIVE");
  });

  it("delivers only the events of the certificate asked for", async () => {
    const client = open({ connectionParams: { authorization: `Bearer ${READ_KEY}` } });
    const first = await order("first.example.com");
    const second = await order("second.example.com");
    const onlyFirst = subscribeWith(client.client, CertificateUpdatedDocument, { id: first });
    const onlySecond = subscribeWith(client.client, CertificateUpdatedDocument, { id: second });
    await waitUntil(() => subscriptionsRunning() === 2, 5_000, "subscriptions running");

    await onlyFirst.next(undefined, ISSUANCE_DELAY_MS + 10 * POLL_MS);
    await onlySecond.next(undefined, ISSUANCE_DELAY_MS + 10 * POLL_MS);
    await gateway.gateway.events.pollOnce();

    expect(onlyFirst.results.map(r => r.data?.certificateUpdated.certificate?.id)).toEqual([first]);
    expect(onlySecond.results.map(r => r.data?.certificateUpdated.certificate?.id)).toEqual([
      second,
    ]);
  });

  it("lists the event in certificateEvents and Certificate.events afterwards", async () => {
    const id = await order("history.example.com");
    await waitUntil(
      async () => {
        await gateway.gateway.events.pollOnce();
        const page = await gateway.query(
          CertificateEventsDocument,
          { filter: { certificateId: id } },
          AS_PARTNER,
        );
        return (page.data?.certificateEvents.totalCount ?? 0) > 0;
      },
      ISSUANCE_DELAY_MS + 10 * POLL_MS,
      "the event recorded",
    );

    const all = await gateway.query(CertificateEventsDocument, { first: 100 }, AS_PARTNER);
    const history = await gateway.query(CertificateHistoryDocument, { id }, AS_PARTNER);
    const failures = await gateway.query(
      CertificateHistoryDocument,
      { id, types: ["REQUEST_FAILED"] },
      AS_PARTNER,
    );

    expect(all.errors).toBeUndefined();
    const event = all.data?.certificateEvents.nodes.find(node => node.certificate?.id === id);
    expect(event).toMatchObject({ type: "REQUEST_SUCCESSFUL", certificate: { status: "ACTIVE" } });
    expect(event?.order?.id).toEqual(expect.any(String));
    // Newest first.
    const dates = all.data!.certificateEvents.nodes.map(node => node.receivedAt);
    expect([...dates].sort().reverse()).toEqual(dates);
    expect(history.data?.certificate?.events.nodes).toEqual([
      { id: event?.id, type: "REQUEST_SUCCESSFUL" },
    ]);
    expect(failures.data?.certificate?.events.totalCount).toBe(0);
  });

  it("refuses a connection with a wrong key or none with 4401", async () => {
    const wrong = open({ connectionParams: { authorization: "Bearer not-a-key-0123456789" } });
    const none = open();

    expect(await wrong.closed).toMatchObject({ code: 4401 });
    expect(await none.closed).toMatchObject({ code: 4401 });
  });

  it("accepts the key in the upgrade request's Authorization header", async () => {
    const client = open({ headers: { authorization: `Bearer ${READ_KEY}` } });

    await expect(client.connected).resolves.toBeUndefined();
  });

  it("refuses queries over WebSocket and subscriptions over HTTP", async () => {
    const client = open({ connectionParams: { authorization: `Bearer ${READ_KEY}` } });
    const query = subscribeWith(client.client, CertificateSummaryDocument, { id: "x" });
    await query.ended;
    const overHttp = await gateway.queryRaw(
      { query: "subscription { certificateUpdated { id } }" },
      AS_PARTNER,
    );

    expect(query.errors).toEqual([
      [expect.objectContaining({ extensions: { code: "BAD_REQUEST" } })],
    ]);
    expect(overHttp.status).toBe(400);
    expect(overHttp.body.errors[0].extensions.code).toBe("BAD_REQUEST");
  });

  it("applies the HTTP API's validation and limits to subscriptions", async () => {
    const client = open({ connectionParams: { authorization: `Bearer ${READ_KEY}` } });
    const ask = async (query: string): Promise<unknown[]> => {
      const errors: unknown[] = [];
      await new Promise<void>(resolve => {
        client.client.subscribe(
          { query },
          {
            next: () => undefined,
            error: error => (errors.push(error), resolve()),
            complete: resolve,
          },
        );
      });
      return errors;
    };

    const invalid = await ask("subscription { certificateUpdated { nope } }");
    const tooDeep = await ask(
      `subscription { certificateUpdated { certificate { order { certificates { order {
        certificates { order { certificates { order { certificates { order { certificates { id }
        } } } } } } } } } } } }`,
    );

    expect(invalid).toEqual([
      [expect.objectContaining({ extensions: { code: "GRAPHQL_VALIDATION_FAILED" } })],
    ]);
    expect(tooDeep).toEqual([
      [
        expect.objectContaining({
          extensions: expect.objectContaining({ code: "QUERY_DEPTH_LIMIT" }),
        }),
      ],
    ]);
  });

  it("refuses a browser origin that CORS does not allow, and other paths", async () => {
    const refused = await upgradeStatus(gateway.url, { origin: "https://evil.example" });
    const allowed = await upgradeStatus(gateway.url, { origin: "https://shop.example" });
    const elsewhere = await upgradeStatus(gateway.url.replace("/graphql", "/other"), {});

    expect(refused).toBe(403);
    expect(allowed).toBe(101);
    expect(elsewhere).toBe(404);
  });

  it("leaves HTTP queries as they were", async () => {
    const response = await request(gateway.url, {
      method: "POST",
      headers: { "content-type": "application/json", ...AS_PARTNER },
      body: JSON.stringify({ query: "{ certificateClasses { name } }" }),
    });

    expect(response.statusCode).toBe(200);
    expect(((await response.body.json()) as { errors?: unknown }).errors).toBeUndefined();
  });
});

describe("Subscription.certificateUpdated on a gateway without keys", () => {
  let gateway: TestGateway;

  beforeAll(async () => {
    gateway = await startTestGateway({ GATEWAY_EVENTS_POLL_MS: "0" });
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  it("closes open WebSockets with 1001 on stop", async () => {
    const client = openWsClient(gateway.url);
    subscribeWith(client.client, CertificateUpdatedDocument, {});
    await waitUntil(() => gateway.gateway.subscriptions?.subscriptions() === 1);

    await gateway.stop();

    expect(await client.closed).toMatchObject({ code: 1001 });
    expect(gateway.gateway.subscriptions?.subscriptions()).toBe(0);
    await client.dispose();
  });
});

/** The status the gateway answers a WebSocket upgrade of `url` with (101: switched). */
function upgradeStatus(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(wsUrlOf(url), "graphql-transport-ws", { headers });
    socket.once("open", () => {
      socket.close();
      resolve(101);
    });
    socket.once("unexpected-response", (_request, response) => {
      resolve(response.statusCode ?? 0);
      socket.terminate();
    });
    socket.once("error", error => {
      if (!/Unexpected server response/.test(error.message)) {
        reject(error);
      }
    });
  });
}
