import { ApolloServer, HeaderMap } from "@apollo/server";
import {
  createLogger,
  createRequestLogPlugin,
  createUpstreamCallLogger,
  currentLogger,
  type Logger,
  type LogLevel,
  logUpstreamCall,
  REDACTED,
  requestId,
  runWithLogger,
  scrub,
  scrubText,
} from "../../src/logger";
import { UpstreamError } from "../../src/upstream/errors";

/** A logger writing into an array of parsed lines. */
function capture(level: LogLevel = "trace"): {
  logger: Logger;
  lines: Record<string, any>[];
  raw: string[];
} {
  const raw: string[] = [];
  const lines: Record<string, any>[] = [];
  const destination = {
    write: (line: string) => {
      raw.push(line);
      lines.push(JSON.parse(line) as Record<string, any>);
    },
  };
  return { logger: createLogger({ level, destination }), raw, lines };
}

const SECRETS = {
  password: "Upstream-Pa55word!",
  sessionId: "sess-7f3a9c1d2e",
  apiKey: "gw-api-key-0123456789abcdef",
  basic: Buffer.from("reseller:Upstream-Pa55word!").toString("base64"),
  privateKeyBody: "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7",
  csrBody: "MIICvDCCAaQCAQAwdzELMAkGA1UEBhMCVVMxDTALBgNVBAgMBFV0YWgx",
};

const PRIVATE_KEY = `-----BEGIN PRIVATE KEY-----\n${SECRETS.privateKeyBody}\n-----END PRIVATE KEY-----`;
const CSR = `-----BEGIN CERTIFICATE REQUEST-----\n${SECRETS.csrBody}\n-----END CERTIFICATE REQUEST-----`;

function expectNoSecret(text: string): void {
  for (const secret of Object.values(SECRETS)) {
    expect(text).not.toContain(secret);
  }
  expect(text).not.toContain(encodeURIComponent(SECRETS.password));
}

describe("createLogger redaction", () => {
  it("never writes passwords, API keys, session ids, CSRs or private keys", () => {
    const { logger, raw, lines } = capture();

    logger.info(
      {
        req: {
          method: "POST",
          headers: {
            authorization: `Bearer ${SECRETS.apiKey}`,
            "proxy-authorization": `Basic ${SECRETS.basic}`,
            "x-api-key": SECRETS.apiKey,
            cookie: `session=${SECRETS.sessionId}`,
            "content-type": "application/json",
          },
        },
        upstream: {
          form: `s_login=reseller&s_pw=${encodeURIComponent(SECRETS.password)}&command=StatusCertificate`,
          s_pw: SECRETS.password,
          s_sessionid: SECRETS.sessionId,
          credentials: { login: "reseller", password: SECRETS.password },
        },
        deep: {
          a: { b: { c: { d: { apiKey: SECRETS.apiKey, note: `token=${SECRETS.apiKey}` } } } },
        },
        input: { csr: CSR, domains: ["example.com"], notes: `key follows ${PRIVATE_KEY}` },
        list: [{ privateKey: PRIVATE_KEY }, `password: ${SECRETS.password}`],
        map: new Map([["sessionid", SECRETS.sessionId]]),
      },
      `request with Authorization: Basic ${SECRETS.basic} and s_sessionid=${SECRETS.sessionId}`,
    );

    expect(raw).toHaveLength(1);
    expectNoSecret(raw.join("\n"));
    const [line] = lines;
    expect(line?.req.headers).toEqual({
      authorization: REDACTED,
      "proxy-authorization": REDACTED,
      "x-api-key": REDACTED,
      cookie: REDACTED,
      "content-type": "application/json",
    });
    expect(line?.upstream.credentials).toEqual({ login: "reseller", password: REDACTED });
    expect(line?.upstream.form).toBe(`s_login=reseller&s_pw=${REDACTED}&command=StatusCertificate`);
    expect(line?.input.domains).toEqual(["example.com"]);
    expect(line?.input.csr).toBe(REDACTED);
    expect(line?.msg).toBe(
      `request with Authorization: Basic ${REDACTED} and s_sessionid=${REDACTED}`,
    );
  });

  it("scrubs errors, their causes and messages taken from them", () => {
    const { logger, raw, lines } = capture();
    const cause = new Error(`connect failed for s_pw=${SECRETS.password}`);
    const error = Object.assign(new Error(`bad header Bearer ${SECRETS.apiKey}`, { cause }), {
      code: "E_TEST",
    });

    logger.error(error);
    logger.error({ err: error, attempt: 2 }, "call failed");
    logger.warn(error, `while sending password=${SECRETS.password}`);

    expectNoSecret(raw.join("\n"));
    expect(lines[0]).toMatchObject({
      level: "error",
      msg: `bad header Bearer ${REDACTED}`,
      err: { type: "Error", code: "E_TEST", message: `bad header Bearer ${REDACTED}` },
    });
    expect(lines[0]?.err.cause.message).toBe(`connect failed for s_pw=${REDACTED}`);
    expect(lines[1]).toMatchObject({ attempt: 2, msg: "call failed" });
    expect(lines[2]?.msg).toBe(`while sending password=${REDACTED}`);
  });

  it("keeps upstream errors readable (they are redacted at construction)", () => {
    const { logger, lines } = capture();
    const error = new UpstreamError({
      code: "UPSTREAM_REJECTED",
      command: "AddCertificate",
      message: "AddCertificate was rejected by the upstream (504 missing domain)",
      retryable: false,
      upstreamCode: 504,
    });

    logger.warn({ err: error }, "upstream refused");

    expect(lines[0]?.err).toMatchObject({
      type: "UpstreamError",
      message: "AddCertificate was rejected by the upstream (504 missing domain)",
    });
  });

  it("scrubs the bindings of child loggers", () => {
    const { logger, raw, lines } = capture();

    logger.child({ requestId: "r-1", authorization: `Bearer ${SECRETS.apiKey}` }).info("hello");

    expectNoSecret(raw.join(""));
    expect(lines[0]).toMatchObject({ requestId: "r-1", authorization: REDACTED, msg: "hello" });
  });

  it("writes JSON lines with a level label, ISO time and the service name", () => {
    const { logger, lines } = capture();

    logger.info("started");

    expect(lines[0]).toMatchObject({
      level: "info",
      name: "rrpproxy-ssl-gateway",
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      msg: "started",
    });
  });

  it("writes nothing when silent", () => {
    const { logger, raw } = capture("silent");

    logger.error({ password: "x" }, "boom");

    expect(raw).toEqual([]);
  });
});

describe("scrub", () => {
  it("cuts cycles and very deep nesting", () => {
    const cyclic: Record<string, unknown> = { name: "a" };
    cyclic.self = cyclic;
    let deep: Record<string, unknown> = { leaf: true };
    for (let i = 0; i < 20; i++) {
      deep = { inner: deep };
    }

    expect(scrub(cyclic)).toEqual({ name: "a", self: "[...]" });
    expect(JSON.stringify(scrub(deep))).toContain('"[...]"');
  });

  it("leaves text without secrets alone", () => {
    const text = "StatusCertificate answered 545 Entity reference not found in 12.5 ms";

    expect(scrubText(text)).toBe(text);
  });
});

describe("requestId", () => {
  it.each(["abc-123", "0f8e2b1c-6f0e-4b7e-9b8f-2f4c1d2e3a4b", "trace:span.1_2", "x".repeat(128)])(
    "keeps the caller's id %s",
    id => {
      expect(requestId({ "x-request-id": id })).toBe(id);
    },
  );

  it.each(["", "x".repeat(129), "two words", "evil\r\nInjected: 1", "ünïcode", "<script>"])(
    "replaces the unusable id %j with a UUID",
    id => {
      const made = requestId({ "x-request-id": id });

      expect(made).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    },
  );

  it("makes a fresh id per request when none is sent", () => {
    expect(requestId({})).not.toBe(requestId({}));
  });

  it("reads Apollo's HeaderMap and repeated headers", () => {
    expect(requestId(new HeaderMap([["x-request-id", "from-map"]]))).toBe("from-map");
    expect(requestId({ "x-request-id": ["first", "second"] })).toBe("first");
  });
});

describe("logUpstreamCall", () => {
  it("logs command, code, duration and attempt", () => {
    const { logger, lines } = capture();

    logUpstreamCall(logger, {
      command: "StatusCertificate",
      code: 200,
      durationMs: 12.345,
      attempt: 1,
    });

    expect(lines[0]).toMatchObject({
      level: "info",
      msg: "upstream call",
      upstream: { command: "StatusCertificate", code: 200, durationMs: 12.3, attempt: 1 },
    });
  });

  it.each<[number | string, string]>([
    [545, "info"],
    ["UPSTREAM_REJECTED", "info"],
    ["ABORTED", "info"],
    [422, "warn"],
    [530, "warn"],
    ["UPSTREAM_TIMEOUT", "warn"],
    ["UPSTREAM_UNAVAILABLE", "warn"],
  ])("logs code %s at %s", (code, level) => {
    const { logger, lines } = capture();

    logUpstreamCall(logger, {
      command: "GetCertificateInfo",
      code: code as never,
      durationMs: 1,
      attempt: 2,
    });

    expect(lines[0]?.level).toBe(level);
  });

  it("tags calls with the id of the request they belong to", async () => {
    const { logger, lines } = capture();
    const onCall = createUpstreamCallLogger(logger);

    await runWithLogger(logger.child({ requestId: "req-1" }), async () => {
      await Promise.resolve();
      onCall({ command: "StatusCertificate", code: 200, durationMs: 1, attempt: 1 });
    });
    onCall({ command: "GetCertificateInfo", code: 200, durationMs: 1, attempt: 1 });

    expect(lines.map(line => line.requestId as unknown)).toEqual(["req-1", undefined]);
    expect(currentLogger(logger)).toBe(logger);
  });
});

describe("createRequestLogPlugin", () => {
  it("logs operation name, type, duration and error codes, never variables", async () => {
    const { logger, raw, lines } = capture();
    const server = new ApolloServer({
      typeDefs: "type Query { hello(name: String): String broken: String }",
      resolvers: {
        Query: {
          hello: (_: unknown, args: { name?: string }) => `hi ${args.name ?? ""}`,
          broken: () => {
            throw new Error("boom");
          },
        },
      },
      plugins: [createRequestLogPlugin(logger)],
    });
    await server.start();
    try {
      await runWithLogger(logger.child({ requestId: "req-9" }), () =>
        server.executeOperation({
          query: "query Greet($name: String) { hello(name: $name) }",
          variables: { name: SECRETS.password },
        }),
      );
      await server.executeOperation({ query: "query Broken { broken }" });
    } finally {
      await server.stop();
    }

    expectNoSecret(raw.join(""));
    expect(lines[0]).toMatchObject({
      level: "info",
      requestId: "req-9",
      msg: "graphql request",
      graphql: { operationName: "Greet", operationType: "query", status: 200 },
    });
    expect(lines[0]?.graphql.durationMs).toEqual(expect.any(Number));
    expect(lines[1]).toMatchObject({
      level: "warn",
      graphql: { operationName: "Broken", errorCodes: ["INTERNAL_SERVER_ERROR"] },
    });
  });
});
