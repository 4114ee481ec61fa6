import {
  CancelCertificateOrderDocument,
  CertificateOrderDocument,
  CertificateOrdersDocument,
  CheckCertificateDocument,
  OrderCertificateDocument,
  type OrderCertificateInput,
  ReissueCertificateDocument,
  ResendCertificateValidationDocument,
  RevokeCertificateOrderDocument,
} from "../__generated__/graphql";
import { startTestGateway, type TestGateway } from "../helpers/gateway";
import { makeCsr } from "../helpers/pki";

const TECH = {
  firstName: "Erika",
  lastName: "Muster",
  email: "erika@example.org",
  phone: "+49.301234567",
};

describe("certificate orders (validation pending for an hour)", () => {
  let gateway: TestGateway;

  beforeAll(async () => {
    gateway = await startTestGateway({}, { sandbox: { issuanceDelayMs: 60 * 60 * 1000 } });
  });

  afterAll(async () => {
    await gateway.stop();
  });

  async function order(domain: string, extra: Partial<OrderCertificateInput> = {}) {
    const result = await gateway.query(OrderCertificateDocument, {
      input: {
        class: "ssl123dv",
        domains: [domain],
        csr: makeCsr({ commonName: domain }).csrPem,
        dcvMethod: "DNS_TXT",
        techContact: TECH,
        ...extra,
      },
    });
    expect(result.errors).toBeUndefined();
    return result.data!.orderCertificate;
  }

  it("looks an order up with its class and certificates", async () => {
    const cert = await order("lookup.example.com");

    const result = await gateway.query(CertificateOrderDocument, { id: cert.order.id });

    expect(result.errors).toBeUndefined();
    expect(result.data?.certificateOrder).toMatchObject({
      id: cert.order.id,
      status: "PROCESSING",
      ca: "DigiCert",
      class: { name: "ssl123dv", refundOnCancel: true },
      certificates: [
        { id: cert.id, status: "PROCESSING", expiresAt: null, commonName: "lookup.example.com" },
      ],
    });
    expect(Date.parse(result.data!.certificateOrder!.paidUntil!)).toBeGreaterThan(Date.now());
  });

  it("reads an unknown order as null", async () => {
    const result = await gateway.query(CertificateOrderDocument, { id: "DK000000000" });

    expect(result.errors).toBeUndefined();
    expect(result.data?.certificateOrder).toBeNull();
  });

  it("pages through orders with opaque cursors and filters them", async () => {
    await order("page1.example.com");
    await order("page2.example.com");
    await order("rapid.example.com", { class: "rapidssldv" });

    const first = await gateway.query(CertificateOrdersDocument, { first: 2 });
    const total = first.data!.certificateOrders.totalCount;
    const rest = await gateway.query(CertificateOrdersDocument, {
      first: 100,
      after: first.data!.certificateOrders.pageInfo.endCursor,
    });
    const rapid = await gateway.query(CertificateOrdersDocument, {
      filter: { class: "RAPIDSSLDV" },
    });
    const processing = await gateway.query(CertificateOrdersDocument, {
      filter: { status: "PROCESSING" },
    });

    expect(first.data!.certificateOrders.pageInfo).toMatchObject({
      hasNextPage: true,
      hasPreviousPage: false,
    });
    expect(rest.data!.certificateOrders.pageInfo).toMatchObject({
      hasNextPage: false,
      hasPreviousPage: true,
    });
    const ids = [...first.data!.certificateOrders.edges, ...rest.data!.certificateOrders.edges].map(
      e => e.node.id,
    );
    expect(new Set(ids).size).toBe(total);
    expect(rapid.data!.certificateOrders.edges.map(e => e.node.class.name)).toEqual(["rapidssldv"]);
    expect(
      processing.data!.certificateOrders.edges.every(e => e.node.status === "PROCESSING"),
    ).toBe(true);
  });

  it("asks the CA to validate again", async () => {
    const cert = await order("resend.example.com");
    gateway.sandbox.resetCalls();

    const result = await gateway.query(ResendCertificateValidationDocument, { id: cert.id });

    expect(result.errors).toBeUndefined();
    expect(result.data?.resendCertificateValidation.id).toBe(cert.id);
    expect(gateway.sandbox.callsTo("ResendNotification").map(c => c.params)).toEqual([
      expect.objectContaining({ type: "certificate", object: cert.id }),
    ]);
  });

  it("refuses to reissue a certificate that was never issued, without sending anything", async () => {
    const cert = await order("unissued.example.com");
    gateway.sandbox.resetCalls();

    const result = await gateway.query(ReissueCertificateDocument, { input: { id: cert.id } });

    expect(result.errors?.[0]?.extensions).toMatchObject({
      code: "BAD_USER_INPUT",
      field: "id",
      rule: "CERTIFICATE_NOT_ISSUED",
    });
    expect(gateway.sandbox.callsTo("ReissueCertificate")).toEqual([]);
  });

  it("cancels an order before issuance", async () => {
    const cert = await order("cancel.example.com");

    const result = await gateway.query(CancelCertificateOrderDocument, { id: cert.order.id });

    expect(result.errors).toBeUndefined();
    expect(result.data?.cancelCertificateOrder.status).toMatch(/^CANCEL(ED|_PROCESSING)$/);
    expect(result.data?.cancelCertificateOrder.certificates[0]?.status).toMatch(
      /^CANCEL(ED|_PROCESSING)$/,
    );
  });

  it("answers a refused cancellation with the upstream's code and description", async () => {
    const cert = await order("twice.example.com");
    await gateway.query(CancelCertificateOrderDocument, { id: cert.order.id });

    const result = await gateway.query(CancelCertificateOrderDocument, { id: cert.order.id });

    expect(result.errors?.[0]?.extensions).toMatchObject({
      code: "UPSTREAM_REJECTED",
      command: "CancelCertificateOrder",
      upstreamCode: 547,
      upstreamDescription: expect.stringContaining("canceled"),
    });
  });

  it("issues immediately with a DCV token from checkCertificate, then revokes the order", async () => {
    const domain = "instant.example.com";
    const csr = makeCsr({ commonName: domain, keySlot: "instant" }).csrPem;
    const check = await gateway.query(CheckCertificateDocument, {
      input: { csr, class: "ssl123dv", domains: [domain], generateDcvToken: true },
    });
    expect(check.errors).toBeUndefined();
    const dcvToken = check.data!.checkCertificate.dcvToken!;
    expect(dcvToken).toEqual(expect.any(String));

    const cert = await order(domain, { csr, dcvToken });

    expect(cert.status).toBe("ACTIVE");
    expect(cert.crt).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(cert.x509?.subjectAltNames).toContain(domain);

    const revoked = await gateway.query(RevokeCertificateOrderDocument, { id: cert.order.id });

    expect(revoked.errors).toBeUndefined();
    expect(revoked.data?.revokeCertificateOrder.status).toMatch(/^REVOKE(D|_PROCESSING)$/);
    expect(revoked.data?.revokeCertificateOrder.certificates[0]?.status).toMatch(
      /^REVOKE(D|_PROCESSING)$/,
    );
  });
});
