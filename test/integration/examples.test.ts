import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type TypedDocumentNode } from "@graphql-typed-document-node/core";
import { Kind, parse } from "graphql";
import {
  CancelCertificateOrderDocument,
  CertificateDocument,
  CheckCsrDocument,
  ContactsDocument,
  CreateContactDocument,
  DashboardDocument,
  GenerateDcvTokenDocument,
  OrderWithDcvTokenDocument,
  OrderWithDnsValidationDocument,
  OrderWithEmailValidationDocument,
  OrderWithHttpValidationDocument,
  ProductsDocument,
  QuoteCertificateDocument,
  ReissueCertificateDocument,
  RenewCertificateDocument,
  ResendValidationDocument,
  RevokeCertificateDocument,
  RevokeCertificateOrderDocument,
} from "../../sdk/src/__generated__/graphql";
import { EXAMPLE_FILES } from "../../src/explorer-document.generated";
import { startTestGateway, type TestGateway } from "../helpers/gateway";
import { makeCsr } from "../helpers/pki";

const EXAMPLES_DIR = join(__dirname, "../../examples");
const exampleNames = readdirSync(EXAMPLES_DIR)
  .filter(name => name.endsWith(".graphql"))
  .sort();

const TECH = {
  firstName: "Ada",
  lastName: "Lovelace",
  email: "ada@example.com",
  phone: "+44.2071234567",
};

describe("examples/", () => {
  it("holds the fifteen workflows, each a named operation with a manual section and a next step", () => {
    expect(exampleNames).toHaveLength(15);
    const operationNames: string[] = [];
    for (const name of exampleNames) {
      const source = readFileSync(join(EXAMPLES_DIR, name), "utf8");
      const definitions = parse(source).definitions;

      expect(name).toMatch(/^\d{2}-[a-z0-9-]+\.graphql$/);
      expect(source).toMatch(/^# Manual \d(\.\d)* /);
      expect(source).toMatch(/^# Next: /m);
      // Each file runs alone when pasted into any client: no fragments to bring along.
      expect(definitions.every(d => d.kind === Kind.OPERATION_DEFINITION && d.name)).toBe(true);
      operationNames.push(
        ...definitions.flatMap(d => (d.kind === Kind.OPERATION_DEFINITION ? [d.name!.value] : [])),
      );
    }
    expect(new Set(operationNames).size).toBe(operationNames.length);
  });

  it("lists every file in examples/README.md", () => {
    const readme = readFileSync(join(EXAMPLES_DIR, "README.md"), "utf8");

    for (const name of exampleNames) {
      expect(readme).toContain(`(${name})`);
    }
  });

  it("matches the copy the explorer opens with (else run npm run codegen)", () => {
    const current = exampleNames.map(name => ({
      path: `examples/${name}`,
      source: readFileSync(join(EXAMPLES_DIR, name), "utf8"),
    }));

    expect(EXAMPLE_FILES).toEqual(current);
  });
});

describe("the workflows of examples/, in order, on the sandbox", () => {
  let gateway: TestGateway;

  beforeAll(async () => {
    // Validation passes only when asked for (08) or after a minute, as a CA takes its time.
    gateway = await startTestGateway({}, { sandbox: { issuanceDelayMs: 60_000 } });
  });

  afterAll(async () => {
    await gateway.stop();
  });

  /** Runs an example operation and answers its data, expecting no errors. */
  async function run<TResult, TVariables>(
    document: TypedDocumentNode<TResult, TVariables>,
    variables: TVariables,
  ): Promise<TResult> {
    const result = await gateway.query(document, variables);
    expect(result.errors).toBeUndefined();
    return result.data!;
  }

  function csrFor(domain: string, keySlot = domain) {
    return makeCsr({ commonName: domain, keySlot }).csrPem;
  }

  /** 04 then 08: an ordered and issued certificate, as most workflows start from one. */
  async function issuedCertificate(domain: string) {
    const { orderCertificate } = await run(OrderWithDnsValidationDocument, {
      class: "ssl123dv",
      domains: [domain],
      csr: csrFor(domain),
      techContact: TECH,
    });
    const { resendCertificateValidation } = await run(ResendValidationDocument, {
      id: orderCertificate.id,
    });
    expect(resendCertificateValidation.status).toBe("ACTIVE");
    return orderCertificate;
  }

  it("01 CheckCsr reads the CSR and lists the approver addresses of each domain", async () => {
    const data = await run(CheckCsrDocument, {
      csr: makeCsr({ commonName: "check.example.com", altNames: ["check.example.com"] }).csrPem,
      class: "ssl123dv",
      domains: ["check.example.com"],
    });

    expect(data.checkCertificate.csr).toEqual({
      commonName: "check.example.com",
      subjectAltNames: ["check.example.com"],
      keyAlgorithm: "rsaEncryption",
      keySize: 2048,
      signatureAlgorithm: expect.stringMatching(/sha256/i),
      signatureValid: true,
    });
    const emails = data.checkCertificate.approverEmails;
    expect(emails.map(e => e.email)).toEqual(
      expect.arrayContaining(["admin@check.example.com", "hostmaster@example.com"]),
    );
    expect(new Set(emails.map(e => e.domain))).toEqual(new Set(["check.example.com"]));
  });

  it("02 QuoteCertificate answers domains and price, and orders nothing", async () => {
    gateway.sandbox.resetCalls();

    const data = await run(QuoteCertificateDocument, {
      class: "ssl123dv",
      domains: ["quote.example.com"],
      csr: csrFor("quote.example.com"),
      techContact: TECH,
    });

    expect(data.quoteCertificate).toMatchObject({
      class: { name: "ssl123dv", validationType: "DV" },
      domains: ["quote.example.com", "www.quote.example.com"],
      lines: [{ billingType: "ssl123dv-base", count: 1 }],
    });
    expect(Number(data.quoteCertificate.price)).toBeGreaterThan(0);
    expect(gateway.sandbox.callsTo("AddCertificate").map(c => c.params.checkonly)).toEqual(["1"]);
  });

  it("03 OrderWithEmailValidation names an approver per domain and is issued once approved", async () => {
    const { orderCertificate: ordered } = await run(OrderWithEmailValidationDocument, {
      class: "ssl123dv",
      domains: ["mail.example.com"],
      csr: csrFor("mail.example.com"),
      approverEmails: ["admin@example.com"],
      techContact: TECH,
      idempotencyKey: "examples-03",
    });

    expect(ordered.status).toBe("PROCESSING");
    expect(ordered.validations).toEqual([
      {
        domain: "mail.example.com",
        validationDomain: "mail.example.com",
        method: "EMAIL",
        email: "admin@example.com",
      },
      // A free alternative is validated through the domain it was added for.
      {
        domain: "www.mail.example.com",
        validationDomain: "mail.example.com",
        method: "EMAIL",
        email: "admin@example.com",
      },
    ]);
    expect(ordered.order.status).toBe("PROCESSING");
    const { resendCertificateValidation } = await run(ResendValidationDocument, { id: ordered.id });
    expect(resendCertificateValidation.status).toBe("ACTIVE");
  });

  it("04 OrderWithDnsValidation answers the record to publish, once per idempotency key", async () => {
    const variables = {
      class: "ssl123dv",
      domains: ["dns.example.com"],
      csr: csrFor("dns.example.com"),
      techContact: TECH,
      idempotencyKey: "examples-04",
    };
    gateway.sandbox.resetCalls();

    const { orderCertificate: ordered } = await run(OrderWithDnsValidationDocument, variables);
    const { orderCertificate: again } = await run(OrderWithDnsValidationDocument, variables);
    const cname = await run(OrderWithDnsValidationDocument, {
      ...variables,
      dcvMethod: "DNS_CNAME",
      idempotencyKey: "examples-04-cname",
    });

    expect(ordered.status).toBe("PROCESSING");
    expect(ordered.domains).toEqual(["dns.example.com", "www.dns.example.com"]);
    expect(ordered.validations.map(v => [v.method, v.dnsRecord])).toEqual([
      ["DNS_TXT", expect.stringMatching(/^@ 3600 IN TXT \S+$/)],
      ["DNS_TXT", expect.stringMatching(/^@ 3600 IN TXT \S+$/)],
    ]);
    expect(again.id).toBe(ordered.id);
    expect(cname.orderCertificate.validations[0]).toMatchObject({
      method: "DNS_CNAME",
      dnsRecord: expect.stringMatching(/ IN CNAME /),
    });
    expect(gateway.sandbox.callsTo("AddCertificate")).toHaveLength(2);
  });

  it("05 OrderWithHttpValidation answers the file to serve at each domain", async () => {
    const { orderCertificate: ordered } = await run(OrderWithHttpValidationDocument, {
      class: "ssl123dv",
      domains: ["web.example.com"],
      csr: csrFor("web.example.com"),
      techContact: TECH,
    });

    expect(ordered.status).toBe("PROCESSING");
    for (const validation of ordered.validations) {
      expect(validation).toMatchObject({
        method: "HTTP",
        fileUrl: expect.stringMatching(
          new RegExp(`^https?://${validation.validationDomain}/\\.well-known/pki-validation/`),
        ),
        fileContents: expect.any(String),
      });
    }
  });

  it("06 GenerateDcvToken then OrderWithDcvToken answers the issued certificate at once", async () => {
    const csr = csrFor("now.example.com");
    const { checkCertificate } = await run(GenerateDcvTokenDocument, { csr, class: "ssl123dv" });
    const dcvToken = checkCertificate.dcvToken!;

    const { orderCertificate: issued } = await run(OrderWithDcvTokenDocument, {
      class: "ssl123dv",
      domains: ["now.example.com"],
      csr,
      dcvToken,
      techContact: TECH,
    });

    expect(dcvToken).toMatch(/^\S{16,}$/);
    expect(issued.status).toBe("ACTIVE");
    expect(issued.validations[0]?.dnsRecord).toBe(`@ 3600 IN TXT ${dcvToken}`);
    expect(issued.chain).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(issued.expiresAt).not.toBeNull();
  });

  it("07 Certificate follows a certificate from PROCESSING to ACTIVE and downloads it", async () => {
    const { orderCertificate: ordered } = await run(OrderWithDnsValidationDocument, {
      class: "ssl123dv",
      domains: ["follow.example.com"],
      csr: csrFor("follow.example.com"),
      techContact: TECH,
    });
    const before = await run(CertificateDocument, { id: ordered.id });
    await run(ResendValidationDocument, { id: ordered.id });

    const after = await run(CertificateDocument, { id: ordered.id });

    expect(before.certificate).toMatchObject({ status: "PROCESSING", crt: null, x509: null });
    const cert = after.certificate!;
    expect(cert.status).toBe("ACTIVE");
    expect(cert.chain).toBe(`${cert.crt!}${cert.intermediate!}`);
    expect(cert.chain!.match(/-----BEGIN CERTIFICATE-----/g)!.length).toBeGreaterThanOrEqual(2);
    expect(cert.x509).toMatchObject({
      subject: expect.stringMatching(/CN ?= ?follow\.example\.com/),
      subjectAltNames: expect.arrayContaining(["follow.example.com", "www.follow.example.com"]),
      notAfter: cert.expiresAt,
    });
    expect(cert.order.status).toBe("ACTIVE");
  });

  it("08 ResendValidation has the CA validate now, and is refused once issued", async () => {
    const { id } = await issuedCertificate("resend.example.com");

    const result = await gateway.query(ResendValidationDocument, { id });

    expect(result.errors?.[0]?.extensions?.code).toBe("UPSTREAM_REJECTED");
  });

  it("09 ReissueCertificate makes a new certificate in the same order with a new key", async () => {
    const original = await issuedCertificate("reissue.example.com");

    const { reissueCertificate: reissued } = await run(ReissueCertificateDocument, {
      id: original.id,
      csr: csrFor("reissue.example.com", "reissue-new-key"),
      idempotencyKey: "examples-09",
    });
    await run(ResendValidationDocument, { id: reissued.id });
    const { certificate } = await run(CertificateDocument, { id: reissued.id });

    expect(reissued.id).not.toBe(original.id);
    expect(reissued.status).toBe("PROCESSING");
    expect(reissued.order.id).toBe(original.order.id);
    expect(reissued.order.certificates.map(c => c.id)).toEqual([original.id, reissued.id]);
    expect(certificate?.status).toBe("ACTIVE");
    expect(certificate?.x509?.fingerprintSha256).not.toBe(
      (await run(CertificateDocument, { id: original.id })).certificate?.x509?.fingerprintSha256,
    );
  });

  it("10 RenewCertificate orders a new certificate in a new order, paid from the old one's end", async () => {
    const original = await issuedCertificate("renew.example.com");

    const { renewCertificate: renewed } = await run(RenewCertificateDocument, {
      id: original.id,
      csr: csrFor("renew.example.com", "renew-new-key"),
      idempotencyKey: "examples-10",
    });

    expect(renewed.id).not.toBe(original.id);
    expect(renewed.order.id).not.toBe(original.order.id);
    expect(renewed.domains).toEqual(original.domains);
    expect(renewed.validations.map(v => v.method)).toEqual(["DNS_TXT", "DNS_TXT"]);
    expect(Date.parse(renewed.order.paidUntil!)).toBeGreaterThan(
      Date.parse(original.order.paidUntil!),
    );
  });

  it("11 RevokeCertificate revokes one certificate, RevokeCertificateOrder the whole order", async () => {
    const single = await issuedCertificate("revoke.example.com");
    const whole = await issuedCertificate("revoke-order.example.com");

    const { revokeCertificate } = await run(RevokeCertificateDocument, { id: single.id });
    const { revokeCertificateOrder } = await run(RevokeCertificateOrderDocument, {
      orderId: whole.order.id,
    });

    expect(revokeCertificate).toEqual({
      id: single.id,
      status: "REVOKED",
      order: { id: single.order.id, status: expect.any(String) },
    });
    expect(revokeCertificateOrder).toEqual({
      id: whole.order.id,
      status: "REVOKED",
      certificates: [{ id: whole.id, status: "REVOKED" }],
    });
  });

  it("12 CancelCertificateOrder withdraws an order being validated, and not an issued one", async () => {
    const { orderCertificate: pending } = await run(OrderWithDnsValidationDocument, {
      class: "ssl123dv",
      domains: ["cancel.example.com"],
      csr: csrFor("cancel.example.com"),
      techContact: TECH,
    });
    const issued = await issuedCertificate("cancel-issued.example.com");

    const { cancelCertificateOrder } = await run(CancelCertificateOrderDocument, {
      orderId: pending.order.id,
    });
    const refused = await gateway.query(CancelCertificateOrderDocument, {
      orderId: issued.order.id,
    });

    expect(cancelCertificateOrder).toEqual({
      id: pending.order.id,
      status: "CANCELED",
      class: { name: "ssl123dv", refundOnCancel: true },
      certificates: [{ id: pending.id, status: "CANCELED" }],
    });
    expect(refused.errors?.[0]?.extensions?.code).toBe("UPSTREAM_REJECTED");
  });

  it("13 CreateContact makes a contact that orders name by id, and Contacts lists it", async () => {
    const { createCertificateContact: contact } = await run(CreateContactDocument, {
      contact: { type: "TECH", ...TECH, email: "contacts@example.com" },
    });
    const { orderCertificate } = await run(OrderWithDnsValidationDocument, {
      class: "ssl123dv",
      domains: ["contact.example.com"],
      csr: csrFor("contact.example.com"),
      techContact: { id: contact.id },
    });
    const { certificateContacts } = await run(ContactsDocument, {
      first: 100,
      contactType: "TECH",
    });

    expect(contact).toMatchObject({ id: expect.stringMatching(/^CC-/), type: "TECH" });
    expect(orderCertificate.status).toBe("PROCESSING");
    expect(certificateContacts.nodes.map(c => c.id)).toContain(contact.id);
    expect(certificateContacts.nodes.every(c => c.type === "TECH")).toBe(true);
  });

  it("14 Dashboard lists the account's certificates, Products the classes and their rules", async () => {
    const { id } = await issuedCertificate("dashboard.example.com");

    const all = await run(DashboardDocument, { first: 100 });
    const active = await run(DashboardDocument, { first: 100, status: "ACTIVE" });
    const { certificateClasses } = await run(ProductsDocument, {});

    expect(all.certificates.nodes.map(c => c.id)).toContain(id);
    expect(all.certificates.totalCount).toBeGreaterThan(active.certificates.totalCount);
    expect(active.certificates.nodes.every(c => c.status === "ACTIVE")).toBe(true);
    expect(active.certificates.nodes.find(c => c.id === id)).toMatchObject({
      commonName: "dashboard.example.com",
      class: { name: "ssl123dv", validationType: "DV" },
      order: { status: "ACTIVE" },
    });
    expect(certificateClasses).toHaveLength(20);
    expect(certificateClasses.find(c => c.name === "ssl123dv")).toMatchObject({
      dcvMethods: expect.arrayContaining(["EMAIL", "DNS_TXT", "HTTP"]),
      immediateIssuance: true,
      techContact: "MANDATORY",
      refundOnCancel: true,
    });
  });
});
