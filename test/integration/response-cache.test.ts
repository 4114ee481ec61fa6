import { randomUUID } from "node:crypto";
import { startTestGateway, type TestGateway } from "../helpers/gateway";

/**
 * Whole responses served from the shared store (src/response-cache.ts): a repeated query costs no
 * upstream command and runs no resolver, yet never outlives a change made through the gateway,
 * never carries an error, and never crosses accounts.
 */
const SUMMARY = `query Summary($id: ID!) {
  certificate(id: $id) { id status expiresAt class { name } }
}`;
const PAGE = `query Page { certificates(first: 5) { totalCount nodes { id status } } }`;

const basic = (login: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${login}:${password}`).toString("base64")}`,
});

describe("response cache (memory store)", () => {
  let gateway: TestGateway;
  let activeId: string;

  beforeAll(async () => {
    gateway = await startTestGateway({ CACHE_URL: "memory" }, { sandbox: { seed: 12 } });
    const list = await gateway.queryRaw({
      query: `{ certificates(first: 50, filter: { status: ACTIVE }) { nodes { id } } }`,
    });
    activeId = (list.body as { data: { certificates: { nodes: { id: string }[] } } }).data
      .certificates.nodes[0]!.id;
  });

  afterAll(async () => {
    await gateway.stop();
  });

  beforeEach(() => {
    gateway.sandbox.resetCalls();
  });

  it("answers a repeated query from the stored response, without any upstream command", async () => {
    const first = await gateway.queryRaw({ query: PAGE });
    const callsAfterFirst = gateway.sandbox.calls.length;
    const second = await gateway.queryRaw({ query: PAGE });

    expect(first.body).toEqual(second.body);
    expect(gateway.sandbox.calls).toHaveLength(callsAfterFirst);
    expect(second.headers.age).toBeDefined();
    expect(second.headers["cache-control"]).toMatch(/private/);
    expect(gateway.gateway.cache.stats().byNamespace.response.hits).toBeGreaterThan(0);
  });

  it("keys responses by variables: another id is another answer", async () => {
    const list = await gateway.queryRaw({ query: PAGE });
    const [a, b] = (list.body as { data: { certificates: { nodes: { id: string }[] } } }).data
      .certificates.nodes;
    const one = await gateway.queryRaw({ query: SUMMARY, variables: { id: a!.id } });
    const other = await gateway.queryRaw({ query: SUMMARY, variables: { id: b!.id } });

    expect(one.body).toMatchObject({ data: { certificate: { id: a!.id } } });
    expect(other.body).toMatchObject({ data: { certificate: { id: b!.id } } });
  });

  it("never serves a response from before a mutation of the account", async () => {
    const before = await gateway.queryRaw({ query: SUMMARY, variables: { id: activeId } });
    expect(before.body).toMatchObject({ data: { certificate: { status: "ACTIVE" } } });

    const revoked = await gateway.queryRaw({
      query: `mutation Revoke($id: ID!) { revokeCertificate(id: $id) { id status } }`,
      variables: { id: activeId },
    });
    expect((revoked.body as { errors?: unknown }).errors).toBeUndefined();
    const after = await gateway.queryRaw({ query: SUMMARY, variables: { id: activeId } });

    expect(after.body).toMatchObject({ data: { certificate: { status: "REVOKED" } } });
  });

  it("never stores an answer with errors", async () => {
    const list = await gateway.queryRaw({ query: PAGE });
    const id = (list.body as { data: { certificates: { nodes: { id: string }[] } } }).data
      .certificates.nodes[2]!.id;
    const query = `query Failing($id: ID!) { certificate(id: $id) { id domains } }`;
    gateway.sandbox.failNext("StatusCertificate", { code: 421, description: "Command failed" });
    gateway.sandbox.failNext("StatusCertificate", { code: 421, description: "Command failed" });
    gateway.sandbox.failNext("StatusCertificate", { code: 421, description: "Command failed" });
    const failed = await gateway.queryRaw({ query, variables: { id } });
    expect((failed.body as { errors?: unknown[] }).errors).toBeDefined();

    const retried = await gateway.queryRaw({ query, variables: { id } });

    expect((retried.body as { errors?: unknown }).errors).toBeUndefined();
    expect(retried.body).toMatchObject({ data: { certificate: { id } } });
  });

  it("does not store mutations", async () => {
    const quote = `mutation Contact($input: CreateCertificateContactInput!) {
      createCertificateContact(input: $input) { id }
    }`;
    const input = {
      type: "TECH",
      firstName: "Ada",
      lastName: "Lovelace",
      email: "ada@example.com",
      phone: "+44.2071234567",
    };
    const a = await gateway.queryRaw({ query: quote, variables: { input } });
    const b = await gateway.queryRaw({ query: quote, variables: { input } });

    expect(a.body).not.toEqual(b.body);
    expect(gateway.sandbox.callsTo("AddCertificateContact")).toHaveLength(2);
  });
});

describe("response cache across accounts (pass-through)", () => {
  const run = randomUUID().slice(0, 8);
  const alice = { login: `alice-${run}`, password: "a-pass" };
  const bob = { login: `bob-${run}`, password: "b-pass" };
  let gateway: TestGateway;

  beforeAll(async () => {
    gateway = await startTestGateway(
      { GATEWAY_AUTH: "passthrough", CACHE_URL: "memory" },
      { sandbox: { seed: 3, accounts: [alice, bob] } },
    );
  });

  afterAll(async () => {
    await gateway.stop();
  });

  it("never answers one account's query with another's stored response", async () => {
    const asAlice = await gateway.queryRaw({ query: PAGE }, basic(alice.login, alice.password));
    const asAliceAgain = await gateway.queryRaw(
      { query: PAGE },
      basic(alice.login, alice.password),
    );
    gateway.sandbox.resetCalls();
    const asBob = await gateway.queryRaw({ query: PAGE }, basic(bob.login, bob.password));

    expect(asAliceAgain.body).toEqual(asAlice.body);
    const ids = (body: unknown) =>
      (body as { data: { certificates: { nodes: { id: string }[] } } }).data.certificates.nodes.map(
        n => n.id,
      );
    expect(ids(asBob.body)).not.toEqual(ids(asAlice.body));
    expect(gateway.sandbox.calls.some(c => c.account === bob.login)).toBe(true);
  });
});
