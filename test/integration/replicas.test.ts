import { createHash, randomUUID } from "node:crypto";
import { request } from "undici";
import { type SandboxHandle, startSandbox } from "../../src/sandbox/server";
import {
  CertificateClassesDocument,
  CertificateContactDocument,
  CertificateDocument,
  CertificatesDocument,
  CertificateSummaryDocument,
  OrderCertificateDocument,
  RevokeCertificateDocument,
} from "../__generated__/graphql";
import { startTestGateway, type TestGateway } from "../helpers/gateway";
import { makeCsr } from "../helpers/pki";
import { describeWithRedis, hasRedisServer, startRedisServer } from "../helpers/redis";

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

/** Logins unique to this run: a long-lived Redis may hold entries of earlier runs. */
const login = (name: string): string => `${name}-${randomUUID()}`;

/** A contact nobody has read yet (the mutation asks for its id only). */
async function newContact(gateway: TestGateway): Promise<string> {
  const created = await gateway.queryRaw({
    query:
      "mutation New($input: CreateCertificateContactInput!) { createCertificateContact(input: $input) { id } }",
    variables: { input: { type: "TECH", ...TECH } },
  });
  expect(created.body.errors).toBeUndefined();
  return created.body.data.createCertificateContact.id as string;
}

async function newCertificate(gateway: TestGateway, domain: string): Promise<string> {
  const ordered = await gateway.query(OrderCertificateDocument, { input: orderInput(domain) });
  expect(ordered.errors).toBeUndefined();
  return ordered.data!.orderCertificate.id;
}

/** Orders placed for real (quotes are AddCertificate with CHECKONLY=1). */
const ordersAt = (sandbox: SandboxHandle) =>
  sandbox.callsTo("AddCertificate").filter(call => call.params.checkonly !== "1");

describeWithRedis("gateway replicas sharing one Redis", redisUrl => {
  const alpha = login("alpha");
  const beta = login("beta");
  let sandbox: SandboxHandle;
  let one: TestGateway;
  let two: TestGateway;
  /** The same Redis and sandbox, another upstream account. */
  let other: TestGateway;

  beforeAll(async () => {
    sandbox = await startSandbox({
      port: 0,
      issuanceDelayMs: 0,
      accounts: [
        { login: alpha, password: "secret-a" },
        { login: beta, password: "secret-b" },
      ],
    });
    const env = { CACHE_URL: redisUrl };
    one = await startTestGateway(env, { attachTo: sandbox, login: alpha });
    two = await startTestGateway(env, { attachTo: sandbox, login: alpha });
    other = await startTestGateway(env, { attachTo: sandbox, login: beta });
    // The cache connects in the background: wait until every replica has its Redis.
    for (const gateway of [one, two, other]) {
      await until(async () => (await gateway.gateway.cache.ping()) === true);
    }
  });

  afterAll(async () => {
    await Promise.all([one, two, other].map(gateway => gateway?.stop()));
    await sandbox?.stop();
  });

  beforeEach(() => {
    sandbox.resetCalls();
  });

  it("serves a contact read through one replica from the other with no upstream call", async () => {
    const id = await newContact(one);
    const first = await one.query(CertificateContactDocument, { id });
    expect(sandbox.callsTo("StatusCertificateContact")).toHaveLength(1);
    sandbox.resetCalls();

    const second = await two.query(CertificateContactDocument, { id });

    expect(second).toEqual(first);
    expect(sandbox.calls).toEqual([]);
  });

  it("shows a revoke through one replica at once through the other", async () => {
    const id = await newCertificate(one, "replicas.example.com");
    const before = await two.query(CertificateSummaryDocument, { id });
    await one.query(CertificateSummaryDocument, { id });
    expect(before.data?.certificate?.status).toBe("ACTIVE");
    sandbox.resetCalls();
    await two.query(CertificateSummaryDocument, { id });
    expect(sandbox.callsTo("StatusCertificate")).toEqual([]);

    const revoked = await one.query(RevokeCertificateDocument, { id });
    const after = await two.query(CertificateSummaryDocument, { id });

    expect(revoked.errors).toBeUndefined();
    expect(after.data?.certificate?.status).toMatch(/^REVOKE(D|_PROCESSING)$/);
  });

  it("shows a new order through one replica in the other's list at once", async () => {
    await two.query(CertificatesDocument, { first: 100 });

    const id = await newCertificate(one, "listed-replicas.example.com");
    const listed = await two.query(CertificatesDocument, { first: 100 });

    expect(listed.data?.certificates.edges.map(edge => edge.node.id)).toContain(id);
  });

  it("accepts on one replica a persisted query registered through the other", async () => {
    const query = `query Persisted${randomUUID().replace(/-/g, "")} { certificateClasses { name } }`;
    const persistedQuery = {
      version: 1,
      sha256Hash: createHash("sha256").update(query).digest("hex"),
    };

    const unknown = await two.queryRaw({ extensions: { persistedQuery } });
    const registered = await one.queryRaw({ query, extensions: { persistedQuery } });
    const byHash = await two.queryRaw({ extensions: { persistedQuery } });

    expect(unknown.body.errors?.[0]?.extensions?.code).toBe("PERSISTED_QUERY_NOT_FOUND");
    expect(registered.body.errors).toBeUndefined();
    expect(byHash.body).toEqual(registered.body);
  });

  it("lets an idempotency key claimed on one replica block a concurrent duplicate on the other", async () => {
    const input = orderInput("once-across-replicas.example.com");
    const idempotencyKey = randomUUID();
    sandbox.delayNext("AddCertificate", 300);

    const [first, second] = await Promise.all([
      one.query(OrderCertificateDocument, { input, idempotencyKey }),
      two.query(OrderCertificateDocument, { input, idempotencyKey }),
    ]);
    const later = await two.query(OrderCertificateDocument, { input, idempotencyKey });

    expect(first.errors).toBeUndefined();
    expect(second.errors).toBeUndefined();
    expect(second.data?.orderCertificate.id).toBe(first.data?.orderCertificate.id);
    expect(later.data?.orderCertificate.id).toBe(first.data?.orderCertificate.id);
    expect(ordersAt(sandbox)).toHaveLength(1);
  });

  describe("two upstream accounts on one Redis", () => {
    it("never serves one account's cached records or lists to the other", async () => {
      const id = await newCertificate(one, "alpha-only.example.com");
      const mine = await one.query(CertificateDocument, { id });
      const myList = await one.query(CertificatesDocument, { first: 100 });
      expect(mine.data?.certificate?.id).toBe(id);
      sandbox.resetCalls();

      const theirs = await other.query(CertificateDocument, { id });
      const theirList = await other.query(CertificatesDocument, { first: 100 });

      expect(theirs.data?.certificate).toBeNull();
      expect(theirList.data?.certificates.edges.map(edge => edge.node.id)).not.toContain(id);
      expect(myList.data?.certificates.edges.map(edge => edge.node.id)).toContain(id);
      // Both were asked upstream, as the other account: nothing came from the first's entries.
      expect(sandbox.calls.map(call => [call.account, call.command])).toEqual(
        expect.arrayContaining([
          [beta, "StatusCertificate"],
          [beta, "QueryCertificateList"],
        ]),
      );
      expect(sandbox.calls.filter(call => call.account === alpha)).toEqual([]);
    });

    it("does not share cached classes between accounts", async () => {
      await one.query(CertificateClassesDocument);
      sandbox.resetCalls();

      await other.query(CertificateClassesDocument);

      expect(sandbox.callsTo("GetCertificateInfo").every(call => call.account === beta)).toBe(true);
      expect(sandbox.callsTo("GetCertificateInfo").length).toBeGreaterThan(0);
    });

    it("keeps idempotency keys of different accounts apart", async () => {
      const idempotencyKey = randomUUID();

      const mine = await one.query(OrderCertificateDocument, {
        input: orderInput("same-key-alpha.example.com"),
        idempotencyKey,
      });
      const theirs = await other.query(OrderCertificateDocument, {
        input: orderInput("same-key-alpha.example.com"),
        idempotencyKey,
      });

      expect(mine.errors).toBeUndefined();
      expect(theirs.errors).toBeUndefined();
      expect(theirs.data?.orderCertificate.id).not.toBe(mine.data?.orderCertificate.id);
      expect(ordersAt(sandbox).map(call => call.account)).toEqual([alpha, beta]);
    });
  });

  describe("when Redis stops", () => {
    const withServer = hasRedisServer() ? it : it.skip;

    withServer(
      "keeps answering queries (misses go upstream) and refuses keyed orders",
      async () => {
        const redis = await startRedisServer();
        const env = { CACHE_URL: redis.url };
        const account = login("outage");
        const own = await startSandbox({
          port: 0,
          issuanceDelayMs: 0,
          accounts: [{ login: account, password: "secret" }],
        });
        const first = await startTestGateway(env, { attachTo: own });
        const second = await startTestGateway(env, { attachTo: own });
        try {
          await until(
            async () => (await first.gateway.cache.ping()) && second.gateway.cache.ping(),
          );
          const id = await newContact(first);
          const before = await first.query(CertificateContactDocument, { id });
          own.resetCalls();
          expect(await second.query(CertificateContactDocument, { id })).toEqual(before);
          expect(own.calls).toEqual([]);

          await redis.stop();
          const during = await second.query(CertificateContactDocument, { id });
          const order = await second.query(OrderCertificateDocument, {
            input: orderInput("during-outage.example.com"),
            idempotencyKey: randomUUID(),
          });
          const ready = await request(new URL("/readyz", second.url));

          expect(during).toEqual(before);
          expect(own.callsTo("StatusCertificateContact")).toHaveLength(1);
          expect(order.errors?.[0]?.extensions?.code).toBe("IDEMPOTENCY_UNAVAILABLE");
          expect(ordersAt(own)).toEqual([]);
          expect(ready.statusCode).toBe(200);
          expect(await ready.body.json()).toEqual({
            status: "ready",
            checks: { upstream: "ok", store: "down" },
          });
        } finally {
          await first.stop();
          await second.stop();
          await own.stop();
          await redis.stop();
        }
      },
    );
  });
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
