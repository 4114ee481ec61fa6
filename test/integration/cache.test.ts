import { createHash } from "node:crypto";
import { print } from "graphql";
import { request } from "undici";
import {
  CertificateClassesDocument,
  CertificateContactDocument,
  CertificateDocument,
  CertificatesDocument,
  CertificateSummaryDocument,
  CreateCertificateContactDocument,
  OrderCertificateDocument,
  QuoteCertificateDocument,
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

function orderInput(domain: string) {
  return {
    class: "ssl123dv",
    domains: [domain],
    csr: makeCsr({ commonName: domain }).csrPem,
    dcvMethod: "DNS_TXT" as const,
    techContact: TECH,
  };
}

describe("the shared store in process (CACHE_URL=memory)", () => {
  let gateway: TestGateway;

  beforeAll(async () => {
    gateway = await startTestGateway({ CACHE_URL: "memory" }, { sandbox: { issuanceDelayMs: 0 } });
  });

  afterAll(async () => {
    await gateway.stop();
  });

  beforeEach(() => {
    gateway.sandbox.resetCalls();
  });

  /** A new contact nobody has read yet (the mutation asks for its id only). */
  async function newContact(): Promise<string> {
    const created = await gateway.queryRaw({
      query:
        "mutation New($input: CreateCertificateContactInput!) { createCertificateContact(input: $input) { id } }",
      variables: { input: { type: "TECH", ...TECH } },
    });
    expect(created.body.errors).toBeUndefined();
    gateway.sandbox.resetCalls();
    return created.body.data.createCertificateContact.id as string;
  }

  async function newCertificate(domain: string): Promise<string> {
    const ordered = await gateway.query(OrderCertificateDocument, { input: orderInput(domain) });
    expect(ordered.errors).toBeUndefined();
    gateway.sandbox.resetCalls();
    return ordered.data!.orderCertificate.id;
  }

  it("answers a repeated query for classes and contacts without any upstream call", async () => {
    const id = await newContact();
    const first = await gateway.query(CertificateContactDocument, { id });
    await gateway.query(CertificateClassesDocument);
    expect(gateway.sandbox.callsTo("StatusCertificateContact")).toHaveLength(1);
    gateway.sandbox.resetCalls();

    const again = await gateway.query(CertificateContactDocument, { id });
    const classes = await gateway.query(CertificateClassesDocument);

    expect(again).toEqual(first);
    expect(classes.data?.certificateClasses.length).toBeGreaterThan(5);
    expect(gateway.sandbox.calls).toEqual([]);
  });

  it("answers a certificate in a final state from the store", async () => {
    const id = await newCertificate("final.example.com");
    await gateway.query(RevokeCertificateDocument, { id });
    const first = await gateway.query(CertificateDocument, { id });
    gateway.sandbox.resetCalls();

    const again = await gateway.query(CertificateDocument, { id });

    expect(again.data?.certificate?.status).toBe(first.data?.certificate?.status);
    expect(gateway.sandbox.callsTo("StatusCertificate")).toEqual([]);
  });

  it("shows the new state in the first read after a mutation", async () => {
    const id = await newCertificate("after-write.example.com");
    const before = await gateway.query(CertificateSummaryDocument, { id });
    await gateway.query(CertificateSummaryDocument, { id });
    expect(before.data?.certificate?.status).toBe("ACTIVE");

    const revoked = await gateway.query(RevokeCertificateDocument, { id });
    const after = await gateway.query(CertificateSummaryDocument, { id });

    expect(revoked.errors).toBeUndefined();
    expect(after.data?.certificate?.status).toMatch(/^REVOKE(D|_PROCESSING)$/);
    expect(after.data?.certificate?.status).toBe(revoked.data?.revokeCertificate.status);
  });

  it("drops the cached list pages of the account when it orders", async () => {
    const listed = await gateway.query(CertificatesDocument, { first: 100 });
    await gateway.query(CertificatesDocument, { first: 100 });
    expect(gateway.sandbox.callsTo("QueryCertificateList")).toHaveLength(1);

    const id = await newCertificate("listed.example.com");
    const relisted = await gateway.query(CertificatesDocument, { first: 100 });

    expect(listed.data?.certificates.edges.map(e => e.node.id)).not.toContain(id);
    expect(relisted.data?.certificates.edges.map(e => e.node.id)).toContain(id);
  });

  it("sends one upstream read for concurrent misses of the same contact", async () => {
    const id = await newContact();
    gateway.sandbox.delayNext("StatusCertificateContact", 200);

    const results = await Promise.all(
      [1, 2, 3].map(() => gateway.query(CertificateContactDocument, { id })),
    );

    expect(results.map(r => r.data?.certificateContact?.id)).toEqual([id, id, id]);
    expect(gateway.sandbox.callsTo("StatusCertificateContact")).toHaveLength(1);
  });

  it("counts the store's hits and misses", () => {
    const stats = gateway.gateway.cache.stats();

    expect(stats.kind).toBe("memory");
    expect(stats.byNamespace.contact.hits).toBeGreaterThan(0);
    expect(stats.byNamespace.certificate.misses).toBeGreaterThan(0);
  });

  describe("Cache-Control", () => {
    async function cacheControl(document: Parameters<typeof print>[0], variables?: unknown) {
      const response = await gateway.queryRaw({ query: print(document), variables });
      expect(response.body.errors).toBeUndefined();
      return response.headers["cache-control"];
    }

    it("lets any cache keep the catalogue for an hour", async () => {
      await expect(cacheControl(CertificateClassesDocument)).resolves.toBe("max-age=3600, public");
    });

    it("keeps account data private and short-lived", async () => {
      const contact = await newContact();
      const certificate = await newCertificate("headers.example.com");

      await expect(cacheControl(CertificateContactDocument, { id: contact })).resolves.toBe(
        "max-age=300, private",
      );
      await expect(cacheControl(CertificateDocument, { id: certificate })).resolves.toBe(
        "max-age=10, private",
      );
      await expect(cacheControl(CertificatesDocument, { first: 5 })).resolves.toBe(
        "max-age=10, private",
      );
    });

    it("never lets a mutation, a quote or an error be stored", async () => {
      const input = orderInput("no-store.example.com");

      await expect(
        cacheControl(CreateCertificateContactDocument, { input: { type: "TECH", ...TECH } }),
      ).resolves.toBe("no-store");
      await expect(cacheControl(QuoteCertificateDocument, { input })).resolves.toBe("no-store");
      const failed = await gateway.queryRaw({
        query: print(RevokeCertificateDocument),
        variables: { id: "DK99999999" },
      });
      expect(failed.body.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
      expect(failed.headers["cache-control"]).toBe("no-store");
    });
  });

  it("accepts automatic persisted queries", async () => {
    const query = "query PersistedClasses { certificateClasses { name } }";
    const persistedQuery = {
      version: 1,
      sha256Hash: createHash("sha256").update(query).digest("hex"),
    };

    const unknown = await gateway.queryRaw({ extensions: { persistedQuery } });
    const registered = await gateway.queryRaw({ query, extensions: { persistedQuery } });
    const byHash = await gateway.queryRaw({ extensions: { persistedQuery } });

    expect(unknown.body.errors?.[0]?.extensions?.code).toBe("PERSISTED_QUERY_NOT_FOUND");
    expect(registered.body.errors).toBeUndefined();
    expect(byHash.body).toEqual(registered.body);
  });

  it("reports the store on /readyz", async () => {
    const response = await request(new URL("/readyz", gateway.url));

    expect(response.statusCode).toBe(200);
    expect(await response.body.json()).toEqual({
      status: "ready",
      checks: { upstream: "ok", store: "ok" },
    });
  });
});
