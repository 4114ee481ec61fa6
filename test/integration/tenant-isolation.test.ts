import { randomUUID } from "node:crypto";
import { type SandboxHandle } from "../../src/sandbox/server";
import {
  CertificateContactDocument,
  CertificateContactsDocument,
  CertificateDocument,
  CertificateOrderDocument,
  CertificateOrdersDocument,
  CertificatesDocument,
  CreateCertificateContactDocument,
  OrderCertificateDocument,
  type OrderCertificateInput,
  RevokeCertificateDocument,
} from "../__generated__/graphql";
import { startTestGateway, type TestGateway } from "../helpers/gateway";
import { makeCsr } from "../helpers/pki";
import { describeWithRedis } from "../helpers/redis";

const TECH = {
  firstName: "Max",
  lastName: "Mustermann",
  email: "max@example.org",
  phone: "+1.5552345678",
};

function orderInput(domain: string): OrderCertificateInput {
  return {
    class: "ssl123dv",
    domains: [domain],
    csr: makeCsr({ commonName: domain, keyType: "ec" }).csrPem,
    dcvMethod: "DNS_TXT",
    techContact: TECH,
  };
}

/** Orders placed for real, by account (a quote is AddCertificate with CHECKONLY=1). */
const ordersBy = (sandbox: SandboxHandle, account: string) =>
  sandbox
    .callsTo("AddCertificate")
    .filter(call => call.params.checkonly !== "1" && call.account === account);

const basic = (login: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${login}:${password}`).toString("base64")}`,
});

/** Polls `condition` every 20 ms until it holds; fails after `timeoutMs`. */
async function until(condition: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) {
      throw new Error("condition not met in time");
    }
    await new Promise(resolve => setTimeout(resolve, 20));
  }
}

/**
 * Two resellers on one pass-through gateway: whatever alice creates, reads (and so caches) or
 * claims with an idempotency key, bob never gets, with any cache.
 */
function isolationSuite(cacheUrl: () => string): void {
  /** Unique per run: a long-lived Redis keeps the entries of earlier runs. */
  const run = randomUUID().slice(0, 8);
  const alice = { login: `alice-${run}`, password: "a-pass" };
  const bob = { login: `bob-${run}`, password: "b-pass" };
  let gateway: TestGateway;

  beforeAll(async () => {
    gateway = await startTestGateway(
      { GATEWAY_AUTH: "passthrough", CACHE_URL: cacheUrl() },
      { sandbox: { issuanceDelayMs: 0, accounts: [alice, bob] } },
    );
    await until(async () => gateway.gateway.cache.kind !== "redis" || gateway.gateway.cache.ping());
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  const asAlice = basic(alice.login, alice.password);
  const asBob = basic(bob.login, bob.password);

  /** Alice's certificate, order and contact, each read once by her (so cached, if caching). */
  async function aliceObjects() {
    const ordered = await gateway.query(
      OrderCertificateDocument,
      { input: orderInput(`alice-${run}.example.com`) },
      asAlice,
    );
    expect(ordered.errors).toBeUndefined();
    const certificate = ordered.data!.orderCertificate;
    const contact = await gateway.query(
      CreateCertificateContactDocument,
      { input: { type: "TECH", ...TECH } },
      asAlice,
    );
    expect(contact.errors).toBeUndefined();
    const contactId = contact.data!.createCertificateContact.id;
    for (const [document, variables] of [
      [CertificateDocument, { id: certificate.id }],
      [CertificateOrderDocument, { id: certificate.order.id }],
      [CertificateContactDocument, { id: contactId }],
      [CertificatesDocument, { first: 100 }],
      [CertificateOrdersDocument, { first: 100 }],
      [CertificateContactsDocument, { first: 100 }],
    ] as const) {
      const read = await gateway.query(
        document as typeof CertificateDocument,
        variables as never,
        asAlice,
      );
      expect(read.errors).toBeUndefined();
    }
    return { certificateId: certificate.id, orderId: certificate.order.id, contactId };
  }

  it("never shows bob alice's certificates, orders or contacts, read by id or listed", async () => {
    const mine = await aliceObjects();
    gateway.sandbox.resetCalls();

    const certificate = await gateway.query(CertificateDocument, { id: mine.certificateId }, asBob);
    const order = await gateway.query(CertificateOrderDocument, { id: mine.orderId }, asBob);
    const contact = await gateway.query(CertificateContactDocument, { id: mine.contactId }, asBob);
    const certificates = await gateway.query(CertificatesDocument, { first: 100 }, asBob);
    const orders = await gateway.query(CertificateOrdersDocument, { first: 100 }, asBob);
    const contacts = await gateway.query(CertificateContactsDocument, { first: 100 }, asBob);

    expect(certificate.data?.certificate).toBeNull();
    expect(order.data?.certificateOrder).toBeNull();
    expect(contact.data?.certificateContact).toBeNull();
    expect(certificates.data?.certificates.edges.map(e => e.node.id)).not.toContain(
      mine.certificateId,
    );
    expect(orders.data?.certificateOrders.edges.map(e => e.node.id)).not.toContain(mine.orderId);
    expect(contacts.data?.certificateContacts.nodes.map(n => n.id)).not.toContain(mine.contactId);
    // Everything bob got, he got from the upstream as himself: nothing from alice's entries.
    expect(new Set(gateway.sandbox.calls.map(call => call.account))).toEqual(new Set([bob.login]));
  });

  it("lets bob change nothing of alice's, sending nothing", async () => {
    const mine = await aliceObjects();
    gateway.sandbox.resetCalls();

    const revoked = await gateway.query(
      RevokeCertificateDocument,
      { id: mine.certificateId },
      asBob,
    );
    const after = await gateway.query(CertificateDocument, { id: mine.certificateId }, asAlice);

    expect(revoked.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    expect(gateway.sandbox.callsTo("RevokeCertificate")).toEqual([]);
    expect(after.data?.certificate?.status).toBe("ACTIVE");
  });

  it("keeps the same idempotency key of alice and bob apart, each ordering once", async () => {
    const idempotencyKey = randomUUID();
    const input = orderInput(`same-key-${run}.example.com`);
    gateway.sandbox.resetCalls();

    const first = {
      alice: await gateway.query(OrderCertificateDocument, { input, idempotencyKey }, asAlice),
      bob: await gateway.query(OrderCertificateDocument, { input, idempotencyKey }, asBob),
    };
    const again = {
      alice: await gateway.query(OrderCertificateDocument, { input, idempotencyKey }, asAlice),
      bob: await gateway.query(OrderCertificateDocument, { input, idempotencyKey }, asBob),
    };
    const bobsView = await gateway.query(
      CertificateDocument,
      { id: first.alice.data!.orderCertificate.id },
      asBob,
    );

    expect(first.alice.errors).toBeUndefined();
    expect(first.bob.errors).toBeUndefined();
    expect(first.bob.data?.orderCertificate.id).not.toBe(first.alice.data?.orderCertificate.id);
    expect(again.alice.data?.orderCertificate.id).toBe(first.alice.data?.orderCertificate.id);
    expect(again.bob.data?.orderCertificate.id).toBe(first.bob.data?.orderCertificate.id);
    expect(bobsView.data?.certificate).toBeNull();
    expect(ordersBy(gateway.sandbox, alice.login)).toHaveLength(1);
    expect(ordersBy(gateway.sandbox, bob.login)).toHaveLength(1);
  });
}

describe("tenant isolation in pass-through mode (memory cache)", () => {
  isolationSuite(() => "memory");
});

describeWithRedis("tenant isolation in pass-through mode (Redis)", redisUrl => {
  isolationSuite(() => redisUrl);
});
