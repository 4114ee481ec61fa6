import {
  CertificateDocument,
  OrderCertificateDocument,
  type OrderCertificateInput,
  RenewCertificateDocument,
} from "../__generated__/graphql";
import { startTestGateway, type TestGateway } from "../helpers/gateway";
import { makeCsr } from "../helpers/pki";

const TECH = {
  firstName: "Max",
  lastName: "Mustermann",
  email: "max@example.org",
  phone: "+1.5552345678",
};

function input(domain: string, extra: Partial<OrderCertificateInput> = {}): OrderCertificateInput {
  return {
    class: "ssl123dv",
    domains: [domain],
    csr: makeCsr({ commonName: domain.replace(/^\*\./, "") }).csrPem,
    dcvMethod: "DNS_TXT",
    techContact: TECH,
    ...extra,
  };
}

describe("safety with money", () => {
  let gateway: TestGateway;

  beforeAll(async () => {
    gateway = await startTestGateway({}, { sandbox: { issuanceDelayMs: 0 } });
  });

  afterAll(async () => {
    await gateway.stop();
  });

  beforeEach(() => {
    gateway.sandbox.resetCalls();
  });

  describe("Mutation.orderCertificate input checks", () => {
    it.each<[string, OrderCertificateInput, string, string]>([
      [
        "a wildcard for a class without wildcards",
        input("*.example.com", { class: "premiumov" }),
        "domains[0]",
        "WILDCARD_NOT_ALLOWED",
      ],
      [
        "two domains for a single-domain class",
        input("a.example.com", {
          class: "positivessldv",
          domains: ["a.example.com", "b.example.net"],
        }),
        "domains[1]",
        "SAN_NOT_SUPPORTED",
      ],
      [
        "HTTP validation of a wildcard",
        input("*.wild.example.com", { dcvMethod: "HTTP" }),
        "domains[0]",
        "DCV_METHOD_NOT_FOR_WILDCARD",
      ],
      [
        "a DCV method the class does not offer",
        input("a.example.com", { class: "multidomaindv" }),
        "dcvMethod",
        "DCV_METHOD_NOT_SUPPORTED",
      ],
      [
        "no tech contact where the class requires one",
        input("a.example.com", { techContact: null }),
        "techContact",
        "CONTACT_REQUIRED",
      ],
      [
        "EMAIL validation without approver addresses",
        input("a.example.com", { dcvMethod: "EMAIL" }),
        "approverEmails",
        "APPROVER_EMAILS_REQUIRED",
      ],
      [
        "an approver address of another domain",
        input("a.example.com", { dcvMethod: "EMAIL", approverEmails: ["admin@example.org"] }),
        "approverEmails[0]",
        "APPROVER_EMAIL_NOT_ALLOWED",
      ],
      ["a CSR that is not PEM", input("a.example.com", { csr: "hello" }), "csr", "CSR_MALFORMED"],
      [
        "a CSR with a 1024-bit key",
        input("a.example.com", {
          csr: makeCsr({ commonName: "a.example.com", rsaBits: 1024 }).csrPem,
        }),
        "csr",
        "CSR_KEY_TOO_SMALL",
      ],
      [
        "a CSR for another domain",
        input("a.example.com", { csr: makeCsr({ commonName: "b.example.com" }).csrPem }),
        "csr",
        "CSR_COMMON_NAME_MISMATCH",
      ],
      [
        "a class the upstream does not sell",
        input("a.example.com", { class: "nosuchclass" }),
        "class",
        "CLASS_UNKNOWN",
      ],
      [
        "a contact given both by id and by data",
        input("a.example.com", { techContact: { id: "CC-1", ...TECH } }),
        "techContact",
        "CONTACT_ID_WITH_DATA",
      ],
      [
        "a new contact without email",
        input("a.example.com", { techContact: { ...TECH, email: null } }),
        "techContact.email",
        "CONTACT_FIELD_REQUIRED",
      ],
    ])("refuses %s before sending anything", async (_name, order, field, rule) => {
      const result = await gateway.query(OrderCertificateDocument, { input: order });

      expect(result.data).toBeNull();
      const error = result.errors?.[0];
      expect(error?.extensions?.code).toBe("BAD_USER_INPUT");
      expect(error?.extensions?.violations).toEqual(
        expect.arrayContaining([expect.objectContaining({ field, rule })]),
      );
      expect(error?.message).toContain(field);
      expect(gateway.sandbox.callsTo("AddCertificate")).toEqual([]);
    });

    it("lists every violation at once", async () => {
      const result = await gateway.query(OrderCertificateDocument, {
        input: input("*.example.com", { class: "premiumov", techContact: null, dcvMethod: "HTTP" }),
      });

      const rules = (result.errors?.[0]?.extensions?.violations as { rule: string }[]).map(
        v => v.rule,
      );
      expect(rules).toEqual(expect.arrayContaining(["WILDCARD_NOT_ALLOWED", "CONTACT_REQUIRED"]));
      expect(gateway.sandbox.callsTo("AddCertificate")).toEqual([]);
    });

    it("checks renewals against the class too", async () => {
      const placed = await gateway.query(OrderCertificateDocument, {
        input: input("renewcheck.example.com"),
      });
      const id = placed.data!.orderCertificate.id;
      await gateway.query(CertificateDocument, { id });

      const result = await gateway.query(RenewCertificateDocument, {
        input: { id, csr: makeCsr({ commonName: "renewcheck.example.com", rsaBits: 1024 }).csrPem },
      });

      expect(result.errors?.[0]?.extensions).toMatchObject({
        code: "BAD_USER_INPUT",
        field: "csr",
        rule: "CSR_KEY_TOO_SMALL",
      });
      expect(gateway.sandbox.callsTo("RenewCertificate")).toEqual([]);
    });
  });

  describe("idempotency keys", () => {
    it("orders once for a key used twice and answers the same certificate", async () => {
      const order = input("once.example.com");

      const first = await gateway.query(OrderCertificateDocument, {
        input: order,
        idempotencyKey: "key-once",
      });
      const second = await gateway.query(OrderCertificateDocument, {
        input: order,
        idempotencyKey: "key-once",
      });

      expect(first.errors).toBeUndefined();
      expect(second.data?.orderCertificate.id).toBe(first.data?.orderCertificate.id);
      expect(gateway.sandbox.callsTo("AddCertificate")).toHaveLength(1);
    });

    it("orders once when the same key arrives concurrently", async () => {
      const order = input("concurrent.example.com");
      gateway.sandbox.delayNext("AddCertificate", 300);

      const results = await Promise.all(
        Array.from({ length: 5 }, () =>
          gateway.query(OrderCertificateDocument, {
            input: order,
            idempotencyKey: "key-concurrent",
          }),
        ),
      );

      expect(results.map(r => r.errors)).toEqual([
        undefined,
        undefined,
        undefined,
        undefined,
        undefined,
      ]);
      expect(new Set(results.map(r => r.data?.orderCertificate.id)).size).toBe(1);
      expect(gateway.sandbox.callsTo("AddCertificate")).toHaveLength(1);
    });

    it("refuses a key reused with another input and orders nothing more", async () => {
      await gateway.query(OrderCertificateDocument, {
        input: input("first.example.com"),
        idempotencyKey: "key-reused",
      });

      const result = await gateway.query(OrderCertificateDocument, {
        input: input("second.example.com"),
        idempotencyKey: "key-reused",
      });

      expect(result.errors?.[0]?.extensions?.code).toBe("IDEMPOTENCY_KEY_REUSED");
      expect(gateway.sandbox.callsTo("AddCertificate")).toHaveLength(1);
    });

    it("orders twice for two keys", async () => {
      const order = input("twokeys.example.com");

      await gateway.query(OrderCertificateDocument, { input: order, idempotencyKey: "key-a" });
      await gateway.query(OrderCertificateDocument, { input: order, idempotencyKey: "key-b" });

      expect(gateway.sandbox.callsTo("AddCertificate")).toHaveLength(2);
    });

    it("refuses an empty key", async () => {
      const result = await gateway.query(OrderCertificateDocument, {
        input: input("emptykey.example.com"),
        idempotencyKey: "  ",
      });

      expect(result.errors?.[0]?.extensions).toMatchObject({
        code: "BAD_USER_INPUT",
        field: "idempotencyKey",
      });
      expect(gateway.sandbox.callsTo("AddCertificate")).toEqual([]);
    });
  });

  describe("one costly field per operation", () => {
    it("refuses two orders in one operation and sends neither", async () => {
      const result = await gateway.queryRaw({
        query: `mutation Two($a: OrderCertificateInput!, $b: OrderCertificateInput!) {
          a: orderCertificate(input: $a) { id }
          b: orderCertificate(input: $b) { id }
        }`,
        variables: { a: input("two-a.example.com"), b: input("two-b.example.com") },
      });

      expect(result.body.errors?.[0]?.extensions?.code).toBe("OPERATION_LIMIT");
      expect(result.body.errors?.[0]?.message).toMatch(/orderCertificate/);
      expect(gateway.sandbox.callsTo("AddCertificate")).toEqual([]);
    });
  });
});
