import {
  CertificateDocument,
  CertificateOrderDocument,
  CreateCertificateContactDocument,
  type DcvMethod,
  OrderCertificateDocument,
  type OrderCertificateInput,
  QuoteCertificateDocument,
  ReissueCertificateDocument,
  RenewCertificateDocument,
  RevokeCertificateDocument,
} from "../__generated__/graphql";
import { startTestGateway, type TestGateway } from "../helpers/gateway";
import { makeCsr } from "../helpers/pki";

const TECH = {
  firstName: "Max",
  lastName: "Mustermann",
  email: "max@example.org",
  phone: "+1.5552345678",
};

describe("certificate life cycle (validation passes at once)", () => {
  let gateway: TestGateway;

  beforeAll(async () => {
    gateway = await startTestGateway({}, { sandbox: { issuanceDelayMs: 0 } });
  });

  afterAll(async () => {
    await gateway.stop();
  });

  function orderInput(
    domain: string,
    extra: Partial<OrderCertificateInput> = {},
  ): OrderCertificateInput {
    return {
      class: "ssl123dv",
      domains: [domain],
      csr: makeCsr({ commonName: domain }).csrPem,
      dcvMethod: "DNS_TXT",
      techContact: TECH,
      ...extra,
    };
  }

  async function order(domain: string, extra: Partial<OrderCertificateInput> = {}) {
    const result = await gateway.query(OrderCertificateDocument, {
      input: orderInput(domain, extra),
    });
    expect(result.errors).toBeUndefined();
    return result.data!.orderCertificate;
  }

  it("quotes an order with its free alternatives and orders nothing", async () => {
    const input = orderInput("quote.example.com", {
      domains: ["quote.example.com", "quote.example.net"],
    });
    gateway.sandbox.resetCalls();

    const result = await gateway.query(QuoteCertificateDocument, {
      input: { ...input, csr: makeCsr({ commonName: "quote.example.com" }).csrPem },
    });

    expect(result.errors).toBeUndefined();
    const quote = result.data!.quoteCertificate;
    expect(quote.class).toEqual({ name: "ssl123dv", displayName: "SSL123DV" });
    expect(quote.domains).toEqual(
      expect.arrayContaining(["quote.example.com", "quote.example.net", "www.quote.example.com"]),
    );
    expect(quote.lines.map(line => line.billingType)).toContain("ssl123dv-base");
    expect(quote.price).toMatch(/^\d+(\.\d+)?$/);
    expect(quote.vat).toMatch(/^\d+(\.\d+)?$/);
    expect(gateway.sandbox.callsTo("AddCertificate").map(c => c.params.checkonly)).toEqual(["1"]);
  });

  it("creates a tech contact and orders with it by id", async () => {
    const contact = await gateway.query(CreateCertificateContactDocument, {
      input: { type: "TECH", ...TECH },
    });
    expect(contact.errors).toBeUndefined();
    const id = contact.data!.createCertificateContact.id;
    expect(contact.data!.createCertificateContact).toMatchObject({
      type: "TECH",
      firstName: "Max",
    });

    const cert = await order("contact.example.com", { techContact: { id } });

    expect(cert.techContact?.id).toBe(id);
  });

  it("creates the contact the order gives inline", async () => {
    const cert = await order("inline.example.com");

    expect(cert.techContact).toMatchObject({ id: expect.stringMatching(/^CC-/), firstName: "Max" });
  });

  it("orders an EV certificate with organization and EV approver given inline", async () => {
    const cert = await order("ev.example.com", {
      class: "securesiteflexev",
      techContact: null,
      organizationContact: {
        organization: {
          name: "Example Corp",
          street: "Example Street 1",
          zip: "12345",
          city: "Exampletown",
          country: "DE",
          phone: "+49.301234567",
          email: "office@example.com",
        },
      },
      evApproverContact: {
        firstName: "Eva",
        lastName: "Approver",
        email: "eva@example.com",
        phone: "+49.301234568",
        jobTitle: "CFO",
      },
    });

    expect(cert.class).toEqual({ name: "securesiteflexev", validationType: "EV" });
    expect(cert.techContact).toBeNull();
    expect(cert.organizationContact).toMatchObject({
      id: expect.stringMatching(/^CC-/),
      organization: { name: "Example Corp" },
    });
    expect(cert.evApproverContact).toMatchObject({
      id: expect.stringMatching(/^CC-/),
      firstName: "Eva",
    });
  });

  it.each<
    [
      DcvMethod,
      (v: {
        email: string | null;
        dnsRecord: string | null;
        fileUrl: string | null;
        fileContents: string | null;
      }) => void,
    ]
  >([
    ["EMAIL", v => expect(v.email).toBe("admin@example.com")],
    ["DNS_TXT", v => expect(v.dnsRecord).toMatch(/IN TXT/)],
    ["DNS_CNAME", v => expect(v.dnsRecord).toMatch(/IN CNAME/)],
    // The manual's own example (9.1.18) answers an https:// URL for HTTP validation.
    [
      "HTTP",
      v =>
        expect([v.fileUrl, v.fileContents]).toEqual([
          expect.stringMatching(/^https?:\/\//),
          expect.any(String),
        ]),
    ],
    [
      "HTTPS",
      v =>
        expect([v.fileUrl, v.fileContents]).toEqual([
          expect.stringMatching(/^https:\/\//),
          expect.any(String),
        ]),
    ],
  ])("orders with %s validation and says how to validate each domain", async (method, check) => {
    const domain = `${method.toLowerCase().replace("_", "-")}.example.com`;

    const cert = await order(domain, {
      dcvMethod: method,
      ...(method === "EMAIL" ? { approverEmails: ["admin@example.com"] } : {}),
    });

    expect(cert.status).toBe("PROCESSING");
    expect(cert.domains).toEqual([domain, `www.${domain}`]);
    expect(cert.validations.map(v => v.method)).toEqual([method, method]);
    for (const validation of cert.validations) {
      check(validation);
    }
    expect(cert.crt).toBeNull();
    expect(cert.x509).toBeNull();
    expect(cert.csrDetails?.commonName).toBe(domain);
  });

  it("shows the issued certificate, its chain and its parsed details once validation passed", async () => {
    const { id } = await order("issued.example.com");

    const result = await gateway.query(CertificateDocument, { id });

    expect(result.errors).toBeUndefined();
    const cert = result.data!.certificate!;
    expect(cert.status).toBe("ACTIVE");
    expect(cert.crt).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(cert.chain).toBe(`${cert.crt!}${cert.intermediate!}`);
    expect(cert.root).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(cert.x509?.subjectAltNames).toEqual(expect.arrayContaining(cert.domains));
    expect(cert.x509?.notAfter).toBe(cert.expiresAt);
    expect(cert.x509?.fingerprintSha256).toMatch(/^[0-9A-F:]+$/);
    expect(cert.order.status).toBe("ACTIVE");
  });

  it("reissues into a new certificate of the same order, listed after the original", async () => {
    const original = await order("reissue.example.com");
    await gateway.query(CertificateDocument, { id: original.id });
    const csr = makeCsr({ commonName: "reissue.example.com", keySlot: "reissue" }).csrPem;

    const result = await gateway.query(ReissueCertificateDocument, {
      input: { id: original.id, csr },
    });

    expect(result.errors).toBeUndefined();
    const reissue = result.data!.reissueCertificate;
    expect(reissue.id).not.toBe(original.id);
    expect(reissue.order.id).toBe(original.order.id);
    expect(reissue.csr).toBe(csr);
    const orderResult = await gateway.query(CertificateOrderDocument, { id: original.order.id });
    expect(orderResult.data?.certificateOrder?.certificates.map(c => c.id)).toEqual([
      original.id,
      reissue.id,
    ]);
  });

  it("renews into a new certificate with the same domains", async () => {
    const original = await order("renew.example.com");
    await gateway.query(CertificateDocument, { id: original.id });

    const result = await gateway.query(RenewCertificateDocument, {
      input: {
        id: original.id,
        csr: makeCsr({ commonName: "renew.example.com", keySlot: "renew" }).csrPem,
      },
    });

    expect(result.errors).toBeUndefined();
    const renewal = result.data!.renewCertificate;
    expect(renewal.id).not.toBe(original.id);
    expect(renewal.domains).toEqual(original.domains);
    expect(renewal.status).toBe("PROCESSING");
  });

  it("revokes an issued certificate", async () => {
    const cert = await order("revoke.example.com");
    await gateway.query(CertificateDocument, { id: cert.id });

    const result = await gateway.query(RevokeCertificateDocument, { id: cert.id });

    expect(result.errors).toBeUndefined();
    expect(result.data?.revokeCertificate.status).toMatch(/^REVOKE(D|_PROCESSING)$/);
  });

  it("answers NOT_FOUND for a mutation on a certificate that does not exist", async () => {
    const result = await gateway.query(RevokeCertificateDocument, { id: "DK99999999" });

    expect(result.errors?.[0]?.extensions).toMatchObject({ code: "NOT_FOUND", id: "DK99999999" });
    expect(
      gateway.sandbox
        .callsTo("RevokeCertificate")
        .filter(c => c.params.certificate === "DK99999999"),
    ).toEqual([]);
  });
});
