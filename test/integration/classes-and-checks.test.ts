import {
  CertificateClassDocument,
  CertificateClassesDocument,
  CheckCertificateDocument,
  QuoteCertificateDocument,
} from "../__generated__/graphql";
import { startTestGateway, type TestGateway } from "../helpers/gateway";
import { makeCsr, makeSelfSignedCertificate } from "../helpers/pki";

describe("classes, checks and quotes", () => {
  let gateway: TestGateway;

  beforeAll(async () => {
    gateway = await startTestGateway();
  });

  afterAll(async () => {
    await gateway.stop();
  });

  beforeEach(() => {
    gateway.sandbox.resetCalls();
  });

  describe("Query.certificateClasses", () => {
    it("lists every class with its rules, each class fetched once", async () => {
      const result = await gateway.query(CertificateClassesDocument);

      expect(result.errors).toBeUndefined();
      const classes = result.data!.certificateClasses;
      expect(classes.length).toBe(20);
      expect(classes.map(c => c.name)).toEqual(
        expect.arrayContaining(["ssl123dv", "rapidssldv", "multidomainev"]),
      );
      const infos = gateway.sandbox
        .callsTo("GetCertificateInfo")
        .map(c => c.params.class ?? "(list)");
      expect(infos).toHaveLength(21);
      expect(new Set(infos).size).toBe(21);
    });
  });

  describe("Query.certificateClass", () => {
    it("answers the product matrix of a class, whatever the case of its name", async () => {
      const result = await gateway.query(CertificateClassDocument, { name: "SSL123DV" });

      expect(result.data?.certificateClass).toMatchObject({
        name: "ssl123dv",
        brand: "DigiCert",
        validationType: "DV",
        wildcard: true,
        multiDomain: true,
        maxFreeAlternatives: 3,
        dcvMethods: ["EMAIL", "DNS_TXT", "DNS_CNAME", "HTTP", "HTTPS"],
        techContact: "MANDATORY",
        organizationContact: "NO",
        evApproverContact: "NO",
        periods: ["1y"],
        immediateIssuance: true,
        idPrefix: "DK",
      });
      expect(gateway.sandbox.callsTo("GetCertificateInfo")[0]?.params.class).toBe("ssl123dv");
    });

    it("reads an unknown class as null", async () => {
      const result = await gateway.query(CertificateClassDocument, { name: "nosuchclass" });

      expect(result.errors).toBeUndefined();
      expect(result.data?.certificateClass).toBeNull();
    });
  });

  describe("Query.checkCertificate", () => {
    it("answers the upstream's reading of a CSR", async () => {
      const { csrPem } = makeCsr({
        commonName: "check.example.com",
        organization: "Example Corp",
        country: "DE",
      });

      const result = await gateway.query(CheckCertificateDocument, { input: { csr: csrPem } });

      expect(result.errors).toBeUndefined();
      expect(result.data?.checkCertificate).toMatchObject({
        csr: {
          commonName: "check.example.com",
          keyAlgorithm: "rsaEncryption",
          keySize: 2048,
          organization: "Example Corp",
          country: "DE",
        },
        crt: null,
        approverEmails: [],
        dcvToken: null,
      });
      expect(gateway.sandbox.callsTo("CheckCertificate")).toHaveLength(1);
    });

    it("answers the upstream's reading of a certificate", async () => {
      const { certPem } = makeSelfSignedCertificate({
        commonName: "crt.example.com",
        altNames: ["crt.example.com"],
      });

      const result = await gateway.query(CheckCertificateDocument, { input: { crt: certPem } });

      expect(result.errors).toBeUndefined();
      const crt = result.data!.checkCertificate.crt!;
      expect(crt.subjectAltNames).toEqual(["crt.example.com"]);
      expect(crt.subject).toContain("crt.example.com");
      expect(Date.parse(crt.notAfter)).toBeGreaterThan(Date.parse(crt.notBefore));
      expect(crt.fingerprintSha256).toMatch(/^[0-9A-F:]+$/);
    });

    it("lists the approver addresses of each domain", async () => {
      const result = await gateway.query(CheckCertificateDocument, {
        input: { domains: ["example.com", "shop.example.org"], class: "ssl123dv" },
      });

      expect(result.errors).toBeUndefined();
      const emails = result.data!.checkCertificate.approverEmails;
      expect(emails).toEqual(
        expect.arrayContaining([{ domain: "example.com", email: "admin@example.com" }]),
      );
      expect(emails.filter(e => e.domain === "shop.example.org").map(e => e.email)).toContain(
        "admin@example.org",
      );
    });

    it.each([
      [{ csr: "garbage" }, "csr", "CSR_MALFORMED"],
      [
        { generateDcvToken: true, domains: ["example.com"] },
        "generateDcvToken",
        "DCV_TOKEN_NEEDS_CSR_AND_CLASS",
      ],
      [{}, "input", "NOTHING_TO_CHECK"],
    ])("refuses %j without asking the upstream", async (input, field, rule) => {
      const result = await gateway.query(CheckCertificateDocument, { input });

      expect(result.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field, rule });
      expect(gateway.sandbox.callsTo("CheckCertificate")).toEqual([]);
    });
  });

  describe("Query.quoteCertificate", () => {
    it("quotes exactly the domains given when autofill is off", async () => {
      const result = await gateway.query(QuoteCertificateDocument, {
        input: {
          class: "ssl123dv",
          domains: ["a.example.com", "b.example.com", "c.example.com"],
          csr: makeCsr({ commonName: "a.example.com" }).csrPem,
          dcvMethod: "DNS_CNAME",
          autofillDomains: false,
          techContact: { id: "P-ABC123" },
        },
      });

      expect(result.errors).toBeUndefined();
      expect(result.data?.quoteCertificate.domains).toEqual([
        "a.example.com",
        "b.example.com",
        "c.example.com",
      ]);
      expect(result.data?.quoteCertificate.lines).toEqual(
        expect.arrayContaining([{ billingType: "ssl123dv-san", count: 2 }]),
      );
      expect(gateway.sandbox.callsTo("AddCertificate")[0]?.params).toMatchObject({
        checkonly: "1",
        noautofilldomains: "1",
      });
    });

    it("checks a quote like an order", async () => {
      const result = await gateway.query(QuoteCertificateDocument, {
        input: {
          class: "ssl123dv",
          domains: ["*.example.com"],
          csr: makeCsr({ commonName: "example.com" }).csrPem,
          dcvMethod: "HTTP",
          techContact: { id: "P-ABC123" },
        },
      });

      expect(result.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT" });
      expect(gateway.sandbox.callsTo("AddCertificate")).toEqual([]);
    });
  });
});
