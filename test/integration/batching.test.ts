import { type SandboxCall } from "../../src/sandbox/server";
import {
  CertificateDocument,
  CertificatesDocument,
  CertificatesWithDetailsDocument,
  OrderCertificateDocument,
  RevokeCertificateDocument,
} from "../__generated__/graphql";
import { startTestGateway, type TestGateway } from "../helpers/gateway";
import { makeCsr } from "../helpers/pki";

/** What a call asks for: the object of a Status command, or the command and its parameters. */
function objectOf(call: SandboxCall): string {
  switch (call.command) {
    case "StatusCertificate":
      return `certificate ${call.params.certificate}`;
    case "StatusCertificateOrder":
      return `order ${call.params.certificateorder}`;
    case "StatusCertificateContact":
      return `contact ${call.params.certificatecontact}`;
    case "GetCertificateInfo":
      return `class ${call.params.class ?? "(list)"}`;
    default:
      return `${call.command} ${JSON.stringify(call.params)}`;
  }
}

function askedTwice(calls: readonly SandboxCall[]): string[] {
  const seen = new Set<string>();
  const twice: string[] = [];
  for (const object of calls.map(objectOf)) {
    if (seen.has(object)) {
      twice.push(object);
    }
    seen.add(object);
  }
  return twice;
}

const LATENCY_MS = 120;
const CONCURRENCY = 3;

describe("batching within one request", () => {
  let gateway: TestGateway;

  beforeAll(async () => {
    gateway = await startTestGateway(
      { GATEWAY_FETCH_CONCURRENCY: String(CONCURRENCY) },
      { sandbox: { seed: 12, latencyMs: LATENCY_MS } },
    );
  });

  afterAll(async () => {
    await gateway.stop();
  });

  beforeEach(() => {
    gateway.sandbox.resetCalls();
  });

  it("answers a list of row fields with exactly one QueryCertificateList", async () => {
    const result = await gateway.query(CertificatesDocument, { first: 50 });

    expect(result.errors).toBeUndefined();
    expect(result.data?.certificates.edges.length).toBeGreaterThanOrEqual(12);
    expect(result.data?.certificates.edges[0]?.node.class.name).toMatch(/^[a-z0-9]+$/);
    expect(gateway.sandbox.calls.map(c => c.command)).toEqual(["QueryCertificateList"]);
  });

  it("fetches each full record once, concurrently, at most fetchConcurrency at a time", async () => {
    const result = await gateway.query(CertificatesWithDetailsDocument, { first: 50 });

    expect(result.errors).toBeUndefined();
    const nodes = result.data?.certificates.nodes ?? [];
    const reads = gateway.sandbox.callsTo("StatusCertificate");
    expect(reads.map(c => c.params.certificate).sort()).toEqual(nodes.map(n => n.id).sort());

    // Arrival times at the sandbox, which holds every reply LATENCY_MS: the first wave arrives
    // together (concurrent), and no window shorter than a reply holds more than the bound.
    const arrivals = reads.map(c => c.at.getTime()).sort((a, b) => a - b);
    const first = arrivals[0] ?? 0;
    expect(arrivals.filter(t => t - first < LATENCY_MS / 2)).toHaveLength(CONCURRENCY);
    for (const start of arrivals) {
      expect(
        arrivals.filter(t => t >= start && t - start < LATENCY_MS / 2).length,
      ).toBeLessThanOrEqual(CONCURRENCY);
    }
  });

  it("fetches orders and classes once per distinct id, and all contacts in one list", async () => {
    const result = await gateway.query(CertificatesWithDetailsDocument, { first: 50 });

    expect(result.errors).toBeUndefined();
    const nodes = result.data?.certificates.nodes ?? [];
    const orders = new Set(nodes.map(n => n.order.id));
    const contacts = new Set(nodes.flatMap(n => (n.techContact ? [n.techContact.id] : [])));
    const classes = new Set(nodes.map(n => n.class.name));
    expect(contacts.size).toBeLessThan(nodes.filter(n => n.techContact).length);
    expect(gateway.sandbox.callsTo("StatusCertificateOrder")).toHaveLength(orders.size);
    // Many contacts at once: one contact list, started together with the certificate list.
    expect(gateway.sandbox.callsTo("StatusCertificateContact")).toHaveLength(0);
    expect(gateway.sandbox.callsTo("QueryCertificateContactList")).toHaveLength(1);
    expect(gateway.sandbox.callsTo("GetCertificateInfo")).toHaveLength(classes.size);
    expect(gateway.sandbox.callsTo("QueryCertificateList")).toHaveLength(1);
    expect(askedTwice(gateway.sandbox.calls)).toEqual([]);
  });

  it("answers a dashboard page with the list, one status per certificate and one contact list", async () => {
    const result = await gateway.queryRaw({
      query: `query Dashboard {
        certificates(first: 50) {
          nodes { id status expiresAt class { name } order { id paidUntil } techContact { id email } }
        }
      }`,
    });

    expect(result.body.errors).toBeUndefined();
    const nodes = result.body.data.certificates.nodes as {
      id: string;
      order: { paidUntil: string | null };
      techContact: { email: string | null } | null;
    }[];
    expect(nodes.length).toBeGreaterThanOrEqual(12);
    expect(nodes.every(n => n.order.paidUntil !== null)).toBe(true);
    expect(nodes.some(n => n.techContact?.email)).toBe(true);
    // paidUntil comes with StatusCertificate ("order paid until"): no order command at all.
    const commands = gateway.sandbox.calls.map(c => c.command).sort();
    expect(commands.filter(c => c !== "StatusCertificate")).toEqual([
      "QueryCertificateContactList",
      "QueryCertificateList",
    ]);
    expect(gateway.sandbox.callsTo("StatusCertificate")).toHaveLength(nodes.length);
  });

  it("reads a single contact by its own record, not by the list", async () => {
    const list = await gateway.query(CertificatesWithDetailsDocument, { first: 50 });
    const id = list.data?.certificates.nodes.find(n => n.techContact)?.id;
    expect(id).toBeDefined();
    gateway.sandbox.resetCalls();

    const result = await gateway.queryRaw({
      query: `query One($id: ID!) { certificate(id: $id) { techContact { email } } }`,
      variables: { id },
    });

    expect(result.body.errors).toBeUndefined();
    expect(result.body.data.certificate.techContact.email).toMatch(/@/);
    expect(gateway.sandbox.callsTo("QueryCertificateContactList")).toHaveLength(0);
    expect(gateway.sandbox.callsTo("StatusCertificateContact")).toHaveLength(1);
  });

  it("serves the certificates an order lists from what the order says", async () => {
    const list = await gateway.query(CertificatesDocument, { first: 50 });
    const perOrder = new Map<string, number>();
    for (const edge of list.data?.certificates.edges ?? []) {
      perOrder.set(edge.node.order.id, (perOrder.get(edge.node.order.id) ?? 0) + 1);
    }
    const [orderId, count] = [...perOrder].find(([, n]) => n >= 2) ?? ["", 0];
    gateway.sandbox.resetCalls();

    const result = await gateway.queryRaw({
      query: `query Order($id: ID!) { certificateOrder(id: $id) { id certificates { id status } } }`,
      variables: { id: orderId },
    });

    expect(result.body.errors).toBeUndefined();
    expect(result.body.data.certificateOrder.certificates).toHaveLength(count);
    expect(gateway.sandbox.calls.map(c => c.command)).toEqual(["StatusCertificateOrder"]);
  });

  it("never asks for one object twice, whatever the query shape", async () => {
    const list = await gateway.query(CertificatesDocument, { first: 3 });
    const id = list.data?.certificates.edges[0]?.node.id ?? "";
    gateway.sandbox.resetCalls();

    const result = await gateway.queryRaw({
      query: `query Twice($id: ID!) {
        a: certificate(id: $id) { id status domains order { id status } class { name displayName } }
        b: certificate(id: $id) { id commonName csr order { id certificates { id status domains } } }
        c: certificates(first: 5) { nodes { id status order { id } } }
        d: certificates(first: 5) { nodes { id serverType class { name maxDomains } } }
      }`,
      variables: { id },
    });

    expect(result.body.errors).toBeUndefined();
    expect(askedTwice(gateway.sandbox.calls)).toEqual([]);
  });

  it("primes the certificate from the order's reply and reads nothing back", async () => {
    const { csrPem } = makeCsr({ commonName: "batching.example.com" });

    const result = await gateway.query(OrderCertificateDocument, {
      input: {
        class: "ssl123dv",
        domains: ["batching.example.com"],
        csr: csrPem,
        dcvMethod: "DNS_TXT",
        techContact: { id: "P-ABC123" },
      },
    });

    expect(result.errors).toBeUndefined();
    expect(result.data?.orderCertificate.domains).toEqual([
      "batching.example.com",
      "www.batching.example.com",
    ]);
    expect(gateway.sandbox.callsTo("AddCertificate")).toHaveLength(1);
    expect(gateway.sandbox.callsTo("StatusCertificate")).toEqual([]);
    expect(askedTwice(gateway.sandbox.calls)).toEqual([]);
  });

  it("forgets what a mutation changed and reads it again afterwards", async () => {
    const list = await gateway.query(CertificatesDocument, {
      first: 50,
      filter: { status: "ACTIVE" },
    });
    const id = list.data?.certificates.edges[0]?.node.id ?? "";
    await gateway.query(CertificateDocument, { id });
    gateway.sandbox.resetCalls();

    const result = await gateway.query(RevokeCertificateDocument, { id });

    expect(result.errors).toBeUndefined();
    expect(result.data?.revokeCertificate.status).toMatch(/^REVOKE/);
    expect(gateway.sandbox.calls.map(c => c.command)).toEqual([
      "StatusCertificate",
      "RevokeCertificate",
      "StatusCertificate",
      "StatusCertificateOrder",
    ]);
  });
});
