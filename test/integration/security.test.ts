import { request } from "undici";
import { loadConfig } from "../../src/config";
import { createGateway } from "../../src/gateway";
import { startTestGateway, type TestGateway } from "../helpers/gateway";

const READ_KEY = "read-key-0123456789abcdef";
const ORDER_KEY = "order-key-0123456789abcdef";
const KEYS = `shop:read:${READ_KEY},partner:read+order+manage:${ORDER_KEY}`;
const QUERY = { query: "{ certificates(first: 1) { totalCount } }" };

describe("API keys over HTTP", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway({
      GATEWAY_API_KEYS: KEYS,
      GATEWAY_RATE_LIMIT: "5",
      GATEWAY_CORS_ORIGINS: "https://shop.example",
      GATEWAY_MAX_TOKENS: "100",
      GATEWAY_MAX_COST: "50",
    });
  });
  afterAll(() => gateway.stop());

  it("answers a missing key with 401, a challenge and UNAUTHENTICATED, sending nothing", async () => {
    const response = await gateway.queryRaw(QUERY);
    expect(response.status).toBe(401);
    expect(response.headers["www-authenticate"]).toBe('Bearer realm="rrpproxy"');
    expect(response.body.errors[0].extensions.code).toBe("UNAUTHENTICATED");
    expect(gateway.sandbox.calls).toEqual([]);
  });

  it("answers a read key's query and refuses its mutation with 403 FORBIDDEN", async () => {
    const ok = await gateway.queryRaw(QUERY, {
      authorization: `Bearer ${READ_KEY}`,
      "x-request-id": "abc-1",
    });
    expect(ok.status).toBe(200);
    expect(ok.headers["x-request-id"]).toBe("abc-1");
    const refused = await gateway.queryRaw(
      { query: 'mutation { revokeCertificate(id: "x") { id } }' },
      { authorization: `Bearer ${READ_KEY}` },
    );
    expect(refused.status).toBe(403);
    expect(refused.body.errors[0].extensions).toMatchObject({
      code: "FORBIDDEN",
      requiredScope: "manage",
    });
  });

  it("limits tokens, cost and batches with 400 and a code", async () => {
    const auth = { authorization: `Bearer ${ORDER_KEY}` };
    const tokens = await gateway.queryRaw(
      { query: `{ ${"certificateClasses { name } ".repeat(30)} }` },
      auth,
    );
    expect([tokens.status, tokens.body.errors[0].extensions.code]).toEqual([400, "TOKEN_LIMIT"]);
    const cost = await gateway.queryRaw(
      { query: "{ certificates(first: 100) { nodes { id } } }" },
      auth,
    );
    expect([cost.status, cost.body.errors[0].extensions.code]).toEqual([400, "COST_LIMIT"]);
    const batch = await gateway.queryRaw([QUERY, QUERY], auth);
    expect([batch.status, batch.body.errors[0].extensions.code]).toEqual([400, "BATCH_LIMIT"]);
  });

  it("answers CORS preflights and tags answers for listed origins", async () => {
    const preflight = await request(gateway.url, {
      method: "OPTIONS",
      headers: { origin: "https://shop.example", "access-control-request-method": "POST" },
    });
    await preflight.body.text();
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers["access-control-allow-credentials"]).toBe("true");
    const actual = await gateway.queryRaw(QUERY, {
      origin: "https://shop.example",
      authorization: `Bearer ${READ_KEY}`,
    });
    expect(actual.headers["access-control-allow-origin"]).toBe("https://shop.example");
    const other = await gateway.queryRaw(QUERY, {
      origin: "https://evil.example",
      authorization: `Bearer ${READ_KEY}`,
    });
    expect(other.headers["access-control-allow-origin"]).toBeUndefined();
  });

  it("answers 429 RATE_LIMITED with Retry-After over the limit", async () => {
    let last;
    for (let i = 0; i < 8; i++) {
      last = await gateway.queryRaw(QUERY, { authorization: `Bearer ${READ_KEY}` });
    }
    expect(last?.status).toBe(429);
    expect(Number(last?.headers["retry-after"])).toBeGreaterThan(0);
    expect(last?.body.errors[0].extensions.code).toBe("RATE_LIMITED");
  });
});

describe("scopes of API keys, for every root field", () => {
  const keys = {
    read: "scope-read-0123456789abcdef",
    order: "scope-order-0123456789abcdef",
    manage: "scope-manage-0123456789abcdef",
    "read+order": "scope-readorder-0123456789abcdef",
  } as const;
  type KeyName = keyof typeof keys;
  let gateway: TestGateway;

  beforeAll(async () => {
    gateway = await startTestGateway({
      GATEWAY_API_KEYS: Object.entries(keys)
        .map(([scopes, key]) => `${scopes.replace("+", "-")}:${scopes}:${key}`)
        .join(","),
      GATEWAY_RATE_LIMIT: "100000",
    });
  });
  afterAll(() => gateway.stop());

  const operations: [field: string, scope: "read" | "order" | "manage", query: string][] = [
    ["certificates", "read", "{ certificates(first: 1) { totalCount } }"],
    ["certificateClasses", "read", "{ certificateClasses { name } }"],
    ["__schema", "read", "{ __schema { queryType { name } } }"],
    [
      "orderCertificate",
      "order",
      'mutation { orderCertificate(input: { class: "ssl123dv", domains: ["a.example.com"], csr: "x", dcvMethod: DNS_TXT }) { id } }',
    ],
    ["renewCertificate", "order", 'mutation { renewCertificate(input: { id: "DK0" }) { id } }'],
    ["reissueCertificate", "order", 'mutation { reissueCertificate(input: { id: "DK0" }) { id } }'],
    [
      "createCertificateContact",
      "order",
      'mutation { createCertificateContact(input: { type: TECH, email: "" }) { id } }',
    ],
    [
      "resendCertificateValidation",
      "order",
      'mutation { resendCertificateValidation(id: "DK0") { id } }',
    ],
    ["revokeCertificate", "manage", 'mutation { revokeCertificate(id: "DK0") { id } }'],
    ["cancelCertificateOrder", "manage", 'mutation { cancelCertificateOrder(id: "O-0") { id } }'],
    ["revokeCertificateOrder", "manage", 'mutation { revokeCertificateOrder(id: "O-0") { id } }'],
  ];
  const cases = operations.flatMap(([field, scope, query]) =>
    (Object.keys(keys) as KeyName[]).map(key => ({
      key,
      field,
      scope,
      query,
      allowed: key.split("+").includes(scope),
    })),
  );

  it.each(cases)(
    "$field needs $scope: a $key key is allowed: $allowed",
    async ({ key, field, scope, query, allowed }) => {
      gateway.sandbox.resetCalls();

      const response = await gateway.queryRaw({ query }, { authorization: `Bearer ${keys[key]}` });

      if (allowed) {
        expect(response.status).not.toBe(403);
        expect(response.body.errors?.[0]?.extensions?.code).not.toBe("FORBIDDEN");
      } else {
        expect(response.status).toBe(403);
        expect(response.body.errors[0].extensions).toMatchObject({
          code: "FORBIDDEN",
          requiredScope: scope,
          field,
        });
        expect(response.body.data).toBeUndefined();
        expect(gateway.sandbox.calls).toEqual([]);
      }
    },
  );
});

describe("pass-through over HTTP", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway({ GATEWAY_AUTH: "passthrough" });
  });
  afterAll(() => gateway.stop());

  const basic = (login: string, password: string) => ({
    authorization: `Basic ${Buffer.from(`${login}:${password}`).toString("base64")}`,
  });

  it("uses the caller's credentials and refuses wrong ones with 401", async () => {
    const account = gateway.sandbox.accounts[0]!;
    const ok = await gateway.queryRaw(QUERY, basic(account.login, account.password));
    expect(ok.status).toBe(200);
    expect(ok.body.data.certificates.totalCount).toEqual(expect.any(Number));
    const wrong = await gateway.queryRaw(QUERY, basic(account.login, "not-the-password"));
    expect(wrong.status).toBe(401);
    expect(wrong.body.errors[0].extensions.code).toBe("UNAUTHENTICATED");
    expect(wrong.headers["www-authenticate"]).toMatch(/^Basic/);
    const none = await gateway.queryRaw(QUERY);
    expect(none.status).toBe(401);
  });
});

describe("start-up", () => {
  it("refuses to run open on a public address", async () => {
    const config = loadConfig({
      NODE_ENV: "test",
      PORT: "0",
      HOST: "0.0.0.0",
      RRPPROXY_URL: "http://127.0.0.1:9/api/call.cgi",
      RRPPROXY_LOGIN: "x",
      RRPPROXY_PASSWORD: "y",
    });
    await expect(createGateway(config)).rejects.toThrow(/No API key is configured/);
  });
});
