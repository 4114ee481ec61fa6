import { timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ApolloServer, HeaderMap } from "@apollo/server";
import { buildSchema, OperationTypeNode, parse } from "graphql";
import {
  accountRateKey,
  type AuthResult,
  AuthenticationError,
  authenticate,
  checkScopes,
  checkStartupAuth,
  createAuthenticator,
  createCredentialVerifier,
  createScopePlugin,
  ForbiddenError,
  hashApiKey,
  isLoopbackHost,
  MIN_API_KEY_LENGTH,
  openModeAllowed,
  OpenModeRefusedError,
  parseApiKeys,
  parseApiKeysFile,
  requiredScope,
  ROOT_FIELD_SCOPES,
  type Scope,
  type AuthSettings,
  withPassthroughAuth,
} from "../../src/auth";
import { type WireReply } from "../../src/upstream/codec";
import { UpstreamError } from "../../src/upstream/errors";

jest.mock("node:crypto", () => {
  const actual = jest.requireActual<Record<string, unknown>>("node:crypto");
  return {
    ...actual,
    timingSafeEqual: jest.fn(actual.timingSafeEqual as (a: Buffer, b: Buffer) => boolean),
  };
});

const SHOP_KEY = "shop-key-0123456789abcdef";
const PARTNER_KEY = "partner-key-fedcba9876543210";
const KEYS_TEXT = `shop:read:${SHOP_KEY},partner:read+order+manage:${PARTNER_KEY}`;

function keysSettings(text = KEYS_TEXT): AuthSettings {
  const { keys, problems } = parseApiKeys(text);
  expect(problems).toEqual([]);
  return { mode: "keys", apiKeys: keys };
}

function bearer(key: string): Record<string, string> {
  return { authorization: `Bearer ${key}` };
}

function basic(login: string, password: string): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`${login}:${password}`).toString("base64")}` };
}

function deniedError(result: AuthResult): AuthenticationError {
  if (result.kind !== "denied") {
    throw new Error(`expected a denial, got ${result.kind}`);
  }
  return result.error;
}

function authError(code: number, description = "Authentication failed"): UpstreamError {
  return new UpstreamError({
    code: "UPSTREAM_AUTHENTICATION",
    command: "QueryCertificateContactList",
    message: "refused",
    retryable: false,
    upstreamCode: code,
    upstreamDescription: description,
  });
}

describe("parseApiKeys", () => {
  it("reads name:scopes:key entries and keeps only SHA-256 digests", () => {
    const { keys, problems } = parseApiKeys(` ${KEYS_TEXT} `);

    expect(problems).toEqual([]);
    expect(keys).toEqual([
      { name: "shop", scopes: ["read"], sha256: hashApiKey(SHOP_KEY) },
      { name: "partner", scopes: ["read", "order", "manage"], sha256: hashApiKey(PARTNER_KEY) },
    ]);
    expect(JSON.stringify(keys)).not.toContain(SHOP_KEY);
  });

  it("orders scopes from least to most powerful and merges repeats", () => {
    const { keys } = parseApiKeys(`ops:manage+read+manage:${SHOP_KEY}`);

    expect(keys[0]?.scopes).toEqual(["read", "manage"]);
  });

  it("keeps colons inside the key", () => {
    const { keys } = parseApiKeys("ops:read:abc:def:0123456789");

    expect(keys[0]?.sha256).toBe(hashApiKey("abc:def:0123456789"));
  });

  it.each([
    ["nocolons", /entry 1 must be name:scopes:key/],
    ["name:read", /entry 1 must be name:scopes:key/],
    [`:read:${SHOP_KEY}`, /entry 1 must be name:scopes:key/],
    [`bad name:read:${SHOP_KEY}`, /entry 1: the name must be/],
    [`shop:write:${SHOP_KEY}`, /entry 1 \("shop"\): unknown scope "write"/],
    [`shop::${SHOP_KEY}`, /entry 1 \("shop"\): unknown scope ""/],
    ["shop:read:short", /entry 1 \("shop"\): the key must be at least 16 characters/],
    [`shop:read:${SHOP_KEY},`, /entry 2 must be name:scopes:key/],
  ])("reports %s", (text, problem) => {
    const { problems } = parseApiKeys(text);

    expect(problems).toEqual([expect.stringMatching(problem)]);
  });

  it("refuses a name or a key used twice", () => {
    const { problems } = parseApiKeys(
      `shop:read:${SHOP_KEY},shop:order:${PARTNER_KEY},other:read:${SHOP_KEY}`,
    );

    expect(problems).toEqual([
      'GATEWAY_API_KEYS: the name "shop" is used twice',
      'GATEWAY_API_KEYS: "shop" and "other" have the same key',
    ]);
  });

  it("never echoes a key in its problems", () => {
    const secret = "k3y-that-must-not-leak";
    const { problems } = parseApiKeys(
      `a:nope:${secret},b c:read:${secret},c:read:${secret.slice(0, 8)},${secret}`,
    );

    expect(problems).toHaveLength(4);
    expect(problems.join("\n")).not.toContain(secret);
    expect(problems.join("\n")).not.toContain(secret.slice(0, 8));
  });

  it("asks for keys of at least MIN_API_KEY_LENGTH characters", () => {
    expect(MIN_API_KEY_LENGTH).toBe(16);
    expect(parseApiKeys(`a:read:${"x".repeat(16)}`).problems).toEqual([]);
    expect(parseApiKeys(`a:read:${"x".repeat(15)}`).problems).toHaveLength(1);
  });
});

describe("parseApiKeysFile", () => {
  it("reads a JSON list of name, scopes and sha256", () => {
    const digest = hashApiKey(SHOP_KEY);
    const { keys, problems } = parseApiKeysFile(
      JSON.stringify([
        { name: "shop", scopes: ["read"], sha256: digest.toUpperCase() },
        { name: "partner", scopes: "read+order", sha256: hashApiKey(PARTNER_KEY) },
      ]),
    );

    expect(problems).toEqual([]);
    expect(keys).toEqual([
      { name: "shop", scopes: ["read"], sha256: digest },
      { name: "partner", scopes: ["read", "order"], sha256: hashApiKey(PARTNER_KEY) },
    ]);
  });

  it.each([
    ["{", /not valid JSON/],
    ['{"name":"x"}', /must hold a JSON array/],
    ["[1]", /entry 1 must be an object/],
    ['[{"name":"x","scopes":["read"],"key":"clear"}]', /clear-text "key"/],
    ['[{"name":"a b","scopes":["read"],"sha256":"00"}]', /"name" must be/],
    ['[{"name":"x","scopes":7,"sha256":"00"}]', /"scopes" must be/],
    ['[{"name":"x","scopes":["read"],"sha256":"00"}]', /"sha256" must be 64 hex digits/],
    [`[{"name":"x","scopes":[],"sha256":"${"0".repeat(64)}"}]`, /at least one scope/],
  ])("reports %s", (json, problem) => {
    expect(parseApiKeysFile(json).problems).toEqual([expect.stringMatching(problem)]);
  });

  it("does not echo a clear-text key found in the file", () => {
    const { problems } = parseApiKeysFile(
      JSON.stringify([{ name: "x", scopes: ["read"], key: SHOP_KEY }]),
    );

    expect(problems.join("\n")).not.toContain(SHOP_KEY);
  });
});

describe("authenticate (keys)", () => {
  it("accepts a configured key with its name, scopes and rate key", () => {
    const result = authenticate(bearer(PARTNER_KEY), keysSettings());

    expect(result).toEqual({
      kind: "key",
      name: "partner",
      scopes: ["read", "order", "manage"],
      rateKey: "key:partner",
    });
  });

  it("reads Apollo's HeaderMap and any case of the scheme", () => {
    const headers = new HeaderMap([["authorization", `bearer  ${SHOP_KEY}`]]);

    expect(authenticate(headers, keysSettings())).toMatchObject({ kind: "key", name: "shop" });
  });

  it("answers a missing key with 401 UNAUTHENTICATED and a Bearer challenge", () => {
    const error = deniedError(authenticate({}, keysSettings()));

    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error.message).toMatch(/Missing API key/);
    expect(error.extensions.code).toBe("UNAUTHENTICATED");
    const http = error.extensions.http as { status: number; headers: HeaderMap };
    expect(http.status).toBe(401);
    expect(http.headers.get("www-authenticate")).toBe('Bearer realm="rrpproxy"');
  });

  it("answers a wrong key with 401 and invalid_token, without quoting it", () => {
    const error = deniedError(authenticate(bearer("wrong-key-0123456789"), keysSettings()));

    expect(error.message).toBe("Invalid API key");
    expect((error.extensions.http as { headers: HeaderMap }).headers.get("www-authenticate")).toBe(
      'Bearer realm="rrpproxy", error="invalid_token"',
    );
    expect(JSON.stringify(error)).not.toContain("wrong-key");
  });

  it.each([["Basic abc"], ["Bearer"], [`Token ${SHOP_KEY}`], [`Bearer ${SHOP_KEY} extra`]])(
    "refuses the malformed header %s",
    header => {
      const error = deniedError(authenticate({ authorization: header }, keysSettings()));

      expect(error.message).toMatch(/Malformed Authorization header/);
    },
  );

  it("refuses a key that is only a prefix or an extension of a configured one", () => {
    const auth = createAuthenticator(keysSettings());

    expect(auth(bearer(SHOP_KEY.slice(0, -1))).kind).toBe("denied");
    expect(auth(bearer(`${SHOP_KEY}0`)).kind).toBe("denied");
  });

  it("compares the digest with every configured key, even after a match", () => {
    const spy = jest.mocked(timingSafeEqual);
    const auth = createAuthenticator(
      keysSettings(
        `a:read:${SHOP_KEY},b:read:${PARTNER_KEY},c:read:third-key-0123456789,d:read:fourth-key-0123456789`,
      ),
    );
    spy.mockClear();

    expect(auth(bearer(SHOP_KEY))).toMatchObject({ name: "a" });
    expect(spy).toHaveBeenCalledTimes(4);
    spy.mockClear();
    expect(auth(bearer("no-such-key-0123456789")).kind).toBe("denied");
    expect(spy).toHaveBeenCalledTimes(4);
  });

  it("runs open, with every scope, when no key is configured", () => {
    const result = authenticate(bearer("anything"), { mode: "keys", apiKeys: [] });

    expect(result).toEqual({ kind: "open", scopes: ["read", "order", "manage"], rateKey: "open" });
  });
});

describe("authenticate (passthrough)", () => {
  const settings: AuthSettings = { mode: "passthrough", apiKeys: [] };

  it("decodes Basic credentials, with a rate key per account", () => {
    const result = authenticate(basic("reseller", "pa:ss word"), settings);

    expect(result).toMatchObject({
      kind: "passthrough",
      login: "reseller",
      password: "pa:ss word",
      scopes: ["read", "order", "manage"],
      rateKey: accountRateKey("reseller"),
    });
    expect(accountRateKey("reseller")).toMatch(/^account:[0-9a-f]{16}$/);
    expect(accountRateKey("reseller")).not.toBe(accountRateKey("other"));
  });

  it("keeps the password out of JSON and enumeration", () => {
    const result = authenticate(basic("reseller", "hunter2-secret"), settings);

    expect(JSON.stringify(result)).not.toContain("hunter2");
    expect(Object.keys(result)).not.toContain("password");
    expect({ ...result }).not.toHaveProperty("password");
  });

  it.each([
    ["no header", {}],
    ["a bearer key", bearer(SHOP_KEY)],
    ["no colon", { authorization: `Basic ${Buffer.from("reseller").toString("base64")}` }],
    ["an empty password", basic("reseller", "")],
    ["an empty login", basic("", "pw")],
    ["not base64", { authorization: "Basic ***" }],
  ])("refuses %s with 401 and a Basic challenge", (_label, headers) => {
    const error = deniedError(authenticate(headers, settings));

    expect(error.extensions.code).toBe("UNAUTHENTICATED");
    expect((error.extensions.http as { headers: HeaderMap }).headers.get("www-authenticate")).toBe(
      'Basic realm="rrpproxy", charset="UTF-8"',
    );
  });
});

describe("ROOT_FIELD_SCOPES", () => {
  const schema = buildSchema(readFileSync(join(__dirname, "../../schema/schema.graphql"), "utf8"));

  it("names every root field of the schema", () => {
    const queryFields = Object.keys(schema.getQueryType()?.getFields() ?? {}).sort();
    const mutationFields = Object.keys(schema.getMutationType()?.getFields() ?? {}).sort();
    const subscriptionFields = Object.keys(schema.getSubscriptionType()?.getFields() ?? {}).sort();

    expect(Object.keys(ROOT_FIELD_SCOPES.Query).sort()).toEqual(queryFields);
    expect(Object.keys(ROOT_FIELD_SCOPES.Mutation).sort()).toEqual(mutationFields);
    expect(Object.keys(ROOT_FIELD_SCOPES.Subscription).sort()).toEqual(subscriptionFields);
  });

  it.each<[string, Scope]>([
    ["orderCertificate", "order"],
    ["renewCertificate", "order"],
    ["reissueCertificate", "order"],
    ["createCertificateContact", "order"],
    ["resendCertificateValidation", "order"],
    ["revokeCertificate", "manage"],
    ["cancelCertificateOrder", "manage"],
    ["revokeCertificateOrder", "manage"],
    ["createWebhook", "read"],
    ["deleteWebhook", "read"],
  ])("requires %s to have %s", (field, scope) => {
    expect(requiredScope(OperationTypeNode.MUTATION, field)).toBe(scope);
  });

  it("requires read for the certificate subscription and the webhook queries", () => {
    expect(requiredScope(OperationTypeNode.SUBSCRIPTION, "certificateUpdated")).toBe("read");
    expect(requiredScope(OperationTypeNode.QUERY, "certificateEvents")).toBe("read");
    expect(requiredScope(OperationTypeNode.QUERY, "webhooks")).toBe("read");
    expect(requiredScope(OperationTypeNode.QUERY, "webhookDeliveries")).toBe("read");
  });

  it("requires read for every query, quotes and checks included, and fails closed", () => {
    expect(requiredScope(OperationTypeNode.QUERY, "quoteCertificate")).toBe("read");
    expect(requiredScope(OperationTypeNode.QUERY, "checkCertificate")).toBe("read");
    expect(requiredScope(OperationTypeNode.QUERY, "__schema")).toBe("read");
    expect(requiredScope(OperationTypeNode.QUERY, "__typename")).toBeUndefined();
    expect(requiredScope(OperationTypeNode.MUTATION, "somethingNew")).toBe("manage");
    expect(requiredScope(OperationTypeNode.SUBSCRIPTION, "anything")).toBe("manage");
  });
});

describe("checkScopes", () => {
  it("lets a read key query", () => {
    const document = parse("query { certificates { totalCount } certificateClasses { name } }");

    expect(checkScopes(document, undefined, ["read"])).toBeUndefined();
  });

  it("refuses a mutation the key has no scope for, naming the scope", () => {
    const document = parse("mutation Buy { orderCertificate(input: {}) { id } }");

    const error = checkScopes(document, "Buy", ["read"]);

    expect(error).toBeInstanceOf(ForbiddenError);
    expect(error?.extensions).toMatchObject({
      code: "FORBIDDEN",
      requiredScope: "order",
      field: "orderCertificate",
    });
    expect(error?.message).toMatch(/"order" scope/);
  });

  it("finds root fields behind aliases, fragments and inline fragments", () => {
    const document = parse(`
      mutation M { ...Revoke }
      fragment Revoke on Mutation { ... on Mutation { gone: revokeCertificate(id: "1") { id } } }
    `);

    expect(checkScopes(document, "M", ["read", "order"])?.extensions.requiredScope).toBe("manage");
    expect(checkScopes(document, "M", ["manage"])).toBeUndefined();
  });

  it("names the most powerful missing scope first", () => {
    const document = parse(
      'mutation { orderCertificate(input: {}) { id } revokeCertificate(id: "1") { id } }',
    );

    expect(checkScopes(document, null, ["read"])?.requiredScope).toBe("manage");
  });

  it("checks only the operation that runs", () => {
    const document = parse(
      'query Q { certificates { totalCount } } mutation M { revokeCertificate(id: "1") { id } }',
    );

    expect(checkScopes(document, "Q", ["read"])).toBeUndefined();
    expect(checkScopes(document, "M", ["read"])?.requiredScope).toBe("manage");
  });
});

describe("createScopePlugin", () => {
  const typeDefs = `
    type Query { certificates: Int }
    type Mutation { orderCertificate: Int revokeCertificate: Int }
  `;

  async function run(query: string, scopes: readonly Scope[]) {
    const server = new ApolloServer<{ scopes: readonly Scope[] }>({
      typeDefs,
      resolvers: {
        Query: { certificates: () => 1 },
        Mutation: { orderCertificate: () => 2, revokeCertificate: () => 3 },
      },
      plugins: [createScopePlugin(context => context.scopes)],
    });
    await server.start();
    try {
      return await server.executeOperation({ query }, { contextValue: { scopes } });
    } finally {
      await server.stop();
    }
  }

  it("answers 403 FORBIDDEN before anything runs", async () => {
    const response = await run("mutation { orderCertificate }", ["read"]);

    expect(response.http.status).toBe(403);
    expect(response.body.kind === "single" && response.body.singleResult).toMatchObject({
      errors: [{ extensions: { code: "FORBIDDEN", requiredScope: "order" } }],
    });
    expect(response.body.kind === "single" && response.body.singleResult.data).toBeUndefined();
  });

  it("lets a key with the scope through", async () => {
    const response = await run("mutation { orderCertificate }", ["read", "order"]);

    expect(response.body.kind === "single" && response.body.singleResult.data).toEqual({
      orderCertificate: 2,
    });
  });
});

describe("start-up without keys", () => {
  it.each(["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "::ffff:127.0.0.1"])(
    "treats %s as loopback",
    host => {
      expect(isLoopbackHost(host)).toBe(true);
    },
  );

  it.each(["0.0.0.0", "::", "10.0.0.1", "gateway.example", "128.0.0.1", "127.0.0.256"])(
    "does not treat %s as loopback",
    host => {
      expect(isLoopbackHost(host)).toBe(false);
    },
  );

  it("allows open mode on loopback or on the embedded sandbox only", () => {
    expect(openModeAllowed({ host: "127.0.0.1", embeddedSandbox: false })).toBe(true);
    expect(openModeAllowed({ host: "0.0.0.0", embeddedSandbox: true })).toBe(true);
    expect(openModeAllowed({ host: "0.0.0.0", embeddedSandbox: false })).toBe(false);
  });

  it("refuses to start open on a public address, saying what to set", () => {
    const start = () =>
      checkStartupAuth({ mode: "keys", apiKeys: [] }, { host: "0.0.0.0", embeddedSandbox: false });

    expect(start).toThrow(OpenModeRefusedError);
    expect(start).toThrow(/GATEWAY_API_KEYS.*HOST=127\.0\.0\.1/);
  });

  it("says so at start-up when it runs open", () => {
    expect(
      checkStartupAuth({ mode: "keys", apiKeys: [] }, { host: "0.0.0.0", embeddedSandbox: true }),
    ).toEqual({ open: true, notice: expect.stringMatching(/OFF.*embedded sandbox/) });
    expect(
      checkStartupAuth({ mode: "keys", apiKeys: [] }, { host: "::1", embeddedSandbox: false }),
    ).toEqual({ open: true, notice: expect.stringMatching(/OFF.*loopback ::1/) });
  });

  it("names the keys, never the keys themselves, when keys are configured", () => {
    const { notice, open } = checkStartupAuth(keysSettings(), {
      host: "0.0.0.0",
      embeddedSandbox: false,
    });

    expect(open).toBe(false);
    expect(notice).toContain("shop, partner");
    expect(notice).not.toContain(SHOP_KEY);
  });

  it("starts anywhere in pass-through mode", () => {
    expect(
      checkStartupAuth(
        { mode: "passthrough", apiKeys: [] },
        { host: "0.0.0.0", embeddedSandbox: false },
      ).open,
    ).toBe(false);
  });
});

describe("createCredentialVerifier", () => {
  function setup(check: (login: string, password: string) => Promise<void>) {
    let clock = 1_000;
    const spy = jest.fn(check);
    const verifier = createCredentialVerifier({ check: spy, ttlMs: 60_000, now: () => clock });
    return { verifier, check: spy, advance: (ms: number) => (clock += ms) };
  }

  it("asks the upstream once, then believes the success for the TTL", async () => {
    const { verifier, check, advance } = setup(() => Promise.resolve());

    await verifier.verify("reseller", "right");
    await verifier.verify("reseller", "right");
    advance(59_999);
    await verifier.verify("reseller", "right");
    expect(check).toHaveBeenCalledTimes(1);

    advance(1);
    await verifier.verify("reseller", "right");
    expect(check).toHaveBeenCalledTimes(2);
  });

  it("never lets another password of a verified login through from memory", async () => {
    const { verifier, check } = setup((_login, password) =>
      password === "right" ? Promise.resolve() : Promise.reject(authError(530)),
    );
    await verifier.verify("reseller", "right");

    await expect(verifier.verify("reseller", "wrong")).rejects.toBeInstanceOf(AuthenticationError);
    expect(check).toHaveBeenCalledTimes(2);
  });

  it("shares one upstream check between concurrent requests", async () => {
    const { verifier, check } = setup(() => new Promise(resolve => setTimeout(resolve, 5)));

    await Promise.all([1, 2, 3].map(() => verifier.verify("reseller", "right")));

    expect(check).toHaveBeenCalledTimes(1);
  });

  it("turns refused credentials into UNAUTHENTICATED and does not remember them", async () => {
    const { verifier, check } = setup(() => Promise.reject(authError(531)));

    const error = await verifier.verify("reseller", "wrong").catch((e: unknown) => e);
    await verifier.verify("reseller", "wrong").catch(() => undefined);

    expect(error).toBeInstanceOf(AuthenticationError);
    expect((error as AuthenticationError).extensions.code).toBe("UNAUTHENTICATED");
    expect((error as AuthenticationError).message).not.toContain("wrong");
    expect(check).toHaveBeenCalledTimes(2);
  });

  it("passes other failures on unchanged", async () => {
    const unavailable = new UpstreamError({
      code: "UPSTREAM_UNAVAILABLE",
      command: "QueryCertificateContactList",
      message: "down",
      retryable: true,
    });
    const { verifier } = setup(() => Promise.reject(unavailable));

    await expect(verifier.verify("reseller", "right")).rejects.toBe(unavailable);
  });

  it("forgets a success on request", async () => {
    const { verifier, check } = setup(() => Promise.resolve());
    await verifier.verify("reseller", "right");

    verifier.forget("reseller", "right");
    await verifier.verify("reseller", "right");

    expect(check).toHaveBeenCalledTimes(2);
  });
});

describe("withPassthroughAuth", () => {
  const reply: WireReply = {
    code: 200,
    description: "Command completed successfully",
    properties: new Map(),
    columns: [],
  };

  it("turns a later refusal into UNAUTHENTICATED and forgets the credentials", async () => {
    let fail = false;
    const inner = {
      call: jest.fn(() => (fail ? Promise.reject(authError(530)) : Promise.resolve(reply))),
      close: jest.fn(() => Promise.resolve()),
    };
    const check = jest.fn(() => Promise.resolve());
    const verifier = createCredentialVerifier({ check });
    await verifier.verify("reseller", "pw");
    const client = withPassthroughAuth(inner, { login: "reseller", password: "pw" }, verifier);

    await expect(client.call("StatusCertificate", { certificate: "1" })).resolves.toBe(reply);
    fail = true;
    await expect(client.call("StatusCertificate", { certificate: "1" })).rejects.toBeInstanceOf(
      AuthenticationError,
    );
    await verifier.verify("reseller", "pw");
    expect(check).toHaveBeenCalledTimes(2);

    await client.close();
    expect(inner.close).toHaveBeenCalledTimes(1);
  });
});
