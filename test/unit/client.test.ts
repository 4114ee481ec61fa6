import { readFileSync } from "node:fs";
import { join } from "node:path";
import { inspect } from "node:util";
import { errors as undiciErrors } from "undici";
import {
  createUpstreamClient,
  USER_AGENT,
  type UpstreamClientOptions,
} from "../../src/upstream/client";
import { value } from "../../src/upstream/codec";
import {
  COMMANDS,
  type CommandArgs,
  type CommandArgsMap,
  type CommandName,
} from "../../src/upstream/commands";
import {
  redactSecrets,
  toProtocolError,
  toReplyError,
  toTransportError,
  transportCode,
  UPSTREAM_ERROR_CODES,
  UpstreamError,
  type UpstreamErrorCode,
} from "../../src/upstream/errors";
import {
  createMockUpstream,
  OK,
  replyText,
  transportFailure,
  UPSTREAM_PATH,
  UPSTREAM_URL,
  type MockUpstream,
} from "../helpers/wire";

const LOGIN = "reseller";
const PASSWORD = "Pa55 w&rd=!sécret";
const SESSION_ID = "SESS-7f3a9c1e5b2d";
const SESSION_ID_2 = "SESS-0b1c2d3e4f5a";

/** Minimal valid arguments of every command: the compiler keeps this table complete. */
const ARGS: { [C in CommandName]: CommandArgsMap[C] } = {
  CheckCertificate: { domain: ["example.com"], class: "ssl123dv" },
  AddCertificate: { class: "ssl123dv", csr: "MIIB", domain: ["example.com"] },
  RenewCertificate: { certificate: "DK12345678" },
  ReissueCertificate: { certificate: "DK12345678" },
  DeleteCertificate: { certificate: "DK12345678", action: "REVOKE" },
  RevokeCertificate: { certificate: "DK12345678" },
  StatusCertificate: { certificate: "DK12345678" },
  QueryCertificateList: { wide: 1 },
  CancelCertificateOrder: { certificateorder: "DK012345678" },
  RevokeCertificateOrder: { certificateorder: "DK012345678" },
  StatusCertificateOrder: { certificateorder: "DK012345678" },
  QueryCertificateOrderList: { limit: 2 },
  AddCertificateContact: { type: "tech", firstname: "Max", lastname: "Mustermann" },
  StatusCertificateContact: { certificatecontact: "CC-12345678" },
  QueryCertificateContactList: {},
  ResendNotification: { type: "certificate", object: "DK12345678" },
  GetCertificateInfo: {},
  QueryCommandSyntax: { commandname: "AddCertificate" },
  QueryEventList: { class: "CERTIFICATE_*" },
  StatusEvent: { event: "42" },
  DeleteEvent: { event: "42" },
  StopSession: {},
};

const ALL_COMMANDS = Object.keys(COMMANDS) as CommandName[];
const READS = ALL_COMMANDS.filter(c => COMMANDS[c].kind === "read");
const WRITES = ALL_COMMANDS.filter(c => COMMANDS[c].kind === "write");

const LOGIN_BODY = (body: string): boolean => body.includes("persistent=1");
const COMMAND_BODY = (command: string) => (body: string) =>
  new URLSearchParams(body).get("s_command")?.startsWith(`COMMAND=${command}\n`) === true ||
  new URLSearchParams(body).get("s_command") === `COMMAND=${command}`;

let upstream: MockUpstream;

beforeEach(() => {
  upstream = createMockUpstream();
});

afterEach(async () => {
  await upstream.close();
});

function client(overrides: Partial<UpstreamClientOptions> = {}) {
  return createUpstreamClient({
    url: UPSTREAM_URL,
    login: LOGIN,
    password: PASSWORD,
    retries: 2,
    retryBaseMs: 100,
    dispatcher: upstream.agent,
    random: () => 0.5,
    sleep: jest.fn(() => Promise.resolve()),
    ...overrides,
  });
}

/** Calls `command` with its minimal arguments (the generic call needs one literal type). */
function callAny(
  c: ReturnType<typeof client>,
  command: CommandName,
  options?: { signal?: AbortSignal },
) {
  return c.call(
    command as "StatusCertificate",
    ARGS[command] as CommandArgs<"StatusCertificate">,
    options,
  );
}

function intercept(body?: (body: string) => boolean) {
  return upstream.pool.intercept({
    path: UPSTREAM_PATH,
    method: "POST",
    ...(body ? { body } : {}),
  });
}

async function rejection(promise: Promise<unknown>): Promise<UpstreamError> {
  const error = await promise.then(
    () => {
      throw new Error("expected the call to fail");
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UpstreamError);
  return error as UpstreamError;
}

const PACKAGE_VERSION = (
  JSON.parse(readFileSync(join(__dirname, "..", "..", "package.json"), "utf8")) as {
    version: string;
  }
).version;

describe("createUpstreamClient requests", () => {
  it("POSTs a form with s_login, s_pw and the command with APIVERSION=2, and resolves the reply", async () => {
    intercept().reply(
      200,
      replyText(200, "Command completed successfully", [["status", ["active"]]]),
    );

    const reply = await client().call("StatusCertificate", { certificate: "DK12345678" });

    expect(reply.code).toBe(200);
    expect(value(reply, "status")).toBe("active");
    const [request] = upstream.requests();
    expect(request!.method).toBe("POST");
    expect(request!.path).toBe(UPSTREAM_PATH);
    expect(request!.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(request!.fields.get("s_login")).toBe(LOGIN);
    expect(request!.fields.get("s_pw")).toBe(PASSWORD);
    expect(request!.commandText).toBe(
      "COMMAND=StatusCertificate\nAPIVERSION=2\nCERTIFICATE=DK12345678",
    );
  });

  it("sends User-Agent rrpproxy-ssl-gateway/<version of package.json>", async () => {
    intercept().reply(200, OK);

    await client().call("GetCertificateInfo", {});

    expect(USER_AGENT).toBe(`rrpproxy-ssl-gateway/${PACKAGE_VERSION}`);
    expect(upstream.requests()[0]!.headers["user-agent"]).toBe(USER_AGENT);
  });

  it("sends a configured User-Agent instead", async () => {
    intercept().reply(200, OK);

    await client({ userAgent: "partner-ci/1.0" }).call("GetCertificateInfo", {});

    expect(upstream.requests()[0]!.headers["user-agent"]).toBe("partner-ci/1.0");
  });

  it("resolves every 2xx reply code", async () => {
    intercept().reply(200, replyText(218, "Request is still being processed"));

    await expect(client().call("StatusCertificate", ARGS.StatusCertificate)).resolves.toMatchObject(
      {
        code: 218,
      },
    );
  });

  it("rejects an invalid URL or option synchronously", () => {
    expect(() => client({ url: "ftp://example.com/call.cgi" })).toThrow(TypeError);
    expect(() => client({ timeoutMs: 0 })).toThrow(RangeError);
    expect(() => client({ retries: -1 })).toThrow(RangeError);
  });
});

describe("retries", () => {
  it("treats the protocol's writes as writes", () => {
    expect(WRITES).toEqual(
      expect.arrayContaining([
        "AddCertificate",
        "RenewCertificate",
        "ReissueCertificate",
        "DeleteCertificate",
        "RevokeCertificate",
        "CancelCertificateOrder",
        "RevokeCertificateOrder",
        "AddCertificateContact",
        "ResendNotification",
        "DeleteEvent",
      ]),
    );
    expect(READS).toEqual(
      expect.arrayContaining([
        "StatusCertificate",
        "QueryCertificateList",
        "GetCertificateInfo",
        "CheckCertificate",
        "QueryEventList",
        "StatusEvent",
      ]),
    );
  });

  it.each(READS)("repeats the read %s after a 4xx reply and resolves", async command => {
    intercept().reply(200, replyText(421, "Command failed due to server error; try again"));
    intercept().reply(200, replyText(420, "Command failed due to server error"));
    intercept().reply(200, OK);
    const sleep = jest.fn(() => Promise.resolve());

    await expect(callAny(client({ sleep }), command)).resolves.toMatchObject({ code: 200 });

    expect(upstream.commands()).toEqual([command, command, command]);
    expect(sleep).toHaveBeenCalledTimes(2);
  });

  it.each(WRITES)("never repeats the write %s after a 4xx reply", async command => {
    intercept()
      .reply(200, replyText(421, "Command failed due to server error; try again"))
      .persist();
    const sleep = jest.fn(() => Promise.resolve());

    const error = await rejection(callAny(client({ sleep }), command));

    expect(error.code).toBe("UPSTREAM_TEMPORARY");
    expect(error.upstreamCode).toBe(421);
    expect(error.retryable).toBe(true);
    expect(error.outcomeUnknown).toBe(false);
    expect(upstream.commands()).toEqual([command]);
    expect(sleep).not.toHaveBeenCalled();
  });

  it.each(WRITES)("never repeats the write %s after a reset connection", async command => {
    intercept().replyWithError(transportFailure("ECONNRESET"));
    intercept().reply(200, OK);

    const error = await rejection(callAny(client(), command));

    expect(error.code).toBe("UPSTREAM_OUTCOME_UNKNOWN");
    expect(upstream.requests()).toHaveLength(1);
  });

  it("does not repeat a read locked for abuse (422)", async () => {
    intercept().reply(200, replyText(422, "Command failed; abuse lock")).persist();

    const error = await rejection(client().call("StatusCertificate", ARGS.StatusCertificate));

    expect(error.code).toBe("UPSTREAM_TEMPORARY");
    expect(error.upstreamCode).toBe(422);
    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(/abuse/);
    expect(upstream.requests()).toHaveLength(1);
  });

  it("does not repeat a read rejected with a 5xx code", async () => {
    intercept().reply(200, replyText(545, "Entity reference not found")).persist();

    const error = await rejection(client().call("StatusCertificate", ARGS.StatusCertificate));

    expect(error.code).toBe("UPSTREAM_REJECTED");
    expect(upstream.requests()).toHaveLength(1);
  });

  it("gives up after `retries` further attempts and rejects with the last failure", async () => {
    intercept().reply(200, replyText(421, "first"));
    intercept().reply(200, replyText(421, "second"));
    intercept().reply(200, replyText(425, "Quota exceeded"));
    intercept().reply(200, OK);

    const error = await rejection(client({ retries: 2 }).call("QueryCertificateList", {}));

    expect(error.code).toBe("UPSTREAM_TEMPORARY");
    expect(error.upstreamCode).toBe(425);
    expect(upstream.requests()).toHaveLength(3);
  });

  it("sends a read once with retries = 0", async () => {
    intercept().reply(200, replyText(421, "try again")).persist();

    await rejection(client({ retries: 0 }).call("QueryCertificateList", {}));

    expect(upstream.requests()).toHaveLength(1);
  });

  it("repeats a read after a transport failure", async () => {
    intercept().replyWithError(transportFailure("ECONNRESET"));
    intercept().replyWithError(new undiciErrors.SocketError("other side closed"));
    intercept().reply(200, OK);

    await expect(client().call("StatusCertificate", ARGS.StatusCertificate)).resolves.toMatchObject(
      {
        code: 200,
      },
    );
    expect(upstream.requests()).toHaveLength(3);
  });

  it("waits retryBaseMs * 2^n with full jitter between attempts", async () => {
    for (let i = 0; i < 3; i++) {
      intercept().reply(200, replyText(421, "try again"));
    }
    intercept().reply(200, OK);
    const sleep = jest.fn((_ms: number) => Promise.resolve());
    const draws = [0.5, 0.25, 0.999];
    const random = jest.fn(() => draws.shift() ?? 0);

    await client({ retries: 3, retryBaseMs: 100, random, sleep }).call("QueryEventList", {});

    expect(sleep.mock.calls.map(([ms]) => ms)).toEqual([50, 50, 399]);
    expect(random).toHaveBeenCalledTimes(3);
  });

  it("waits for real with the default sleep", async () => {
    intercept().reply(200, replyText(421, "try again"));
    intercept().reply(200, OK);
    const c = createUpstreamClient({
      url: UPSTREAM_URL,
      login: LOGIN,
      password: PASSWORD,
      dispatcher: upstream.agent,
      retryBaseMs: 60,
      random: () => 0.99,
    });
    const started = Date.now();

    await c.call("StatusCertificate", ARGS.StatusCertificate);

    expect(Date.now() - started).toBeGreaterThanOrEqual(50);
  });
});

describe("timeouts", () => {
  it("rejects a read that gets no reply within timeoutMs with UPSTREAM_TIMEOUT", async () => {
    intercept().reply(200, OK).delay(1_000);

    const error = await rejection(
      client({ timeoutMs: 30, retries: 0 }).call("StatusCertificate", ARGS.StatusCertificate),
    );

    expect(error.code).toBe("UPSTREAM_TIMEOUT");
    expect(error.retryable).toBe(true);
    expect(error.outcomeUnknown).toBe(false);
    expect(error.message).toContain("30 ms");
  });

  it("repeats a read that timed out", async () => {
    intercept().reply(200, OK).delay(1_000);
    intercept().reply(200, OK);

    await expect(
      client({ timeoutMs: 30 }).call("StatusCertificate", ARGS.StatusCertificate),
    ).resolves.toMatchObject({ code: 200 });
    expect(upstream.requests()).toHaveLength(2);
  });

  it("gives orders orderTimeoutMs and everything else timeoutMs", async () => {
    intercept(COMMAND_BODY("AddCertificate")).reply(200, OK).delay(120);
    intercept(COMMAND_BODY("StatusCertificate")).reply(200, OK).delay(120).persist();
    const c = client({ timeoutMs: 30, orderTimeoutMs: 2_000, retries: 0 });

    const [order, status] = await Promise.allSettled([
      c.call("AddCertificate", ARGS.AddCertificate),
      c.call("StatusCertificate", ARGS.StatusCertificate),
    ]);

    expect(order.status).toBe("fulfilled");
    expect(status.status === "rejected" && (status.reason as UpstreamError).code).toBe(
      "UPSTREAM_TIMEOUT",
    );
  });

  it.each(["AddCertificate", "RenewCertificate", "ReissueCertificate"] as const)(
    "reports a costly %s that timed out as UPSTREAM_OUTCOME_UNKNOWN, sent once",
    async command => {
      intercept().reply(200, OK).delay(1_000).persist();

      const error = await rejection(
        client({ timeoutMs: 5_000, orderTimeoutMs: 30 }).call(command, ARGS[command]),
      );

      expect(error.code).toBe("UPSTREAM_OUTCOME_UNKNOWN");
      expect(error.outcomeUnknown).toBe(true);
      expect(error.retryable).toBe(false);
      expect(error.message).toMatch(/may have run/);
      expect(error.message).toContain("30 ms");
      expect(upstream.requests()).toHaveLength(1);
    },
  );

  it("reports a small write that timed out (AddCertificateContact, read timeout) as an unknown outcome", async () => {
    intercept().reply(200, OK).delay(1_000);

    const error = await rejection(
      client({ timeoutMs: 30, orderTimeoutMs: 5_000 }).call(
        "AddCertificateContact",
        ARGS.AddCertificateContact,
      ),
    );

    expect(error.code).toBe("UPSTREAM_OUTCOME_UNKNOWN");
  });

  it.each([
    ["headers", () => new undiciErrors.HeadersTimeoutError()],
    ["body", () => new undiciErrors.BodyTimeoutError()],
  ])(
    "classifies undici's %s timeout: TIMEOUT for reads, OUTCOME_UNKNOWN for writes",
    async (_k, make) => {
      intercept().replyWithError(make());
      intercept().replyWithError(make());

      const read = await rejection(
        client({ retries: 0 }).call("StatusCertificate", ARGS.StatusCertificate),
      );
      const write = await rejection(client().call("RevokeCertificate", ARGS.RevokeCertificate));

      expect(read.code).toBe("UPSTREAM_TIMEOUT");
      expect(write.code).toBe("UPSTREAM_OUTCOME_UNKNOWN");
    },
  );

  it("classifies a connect timeout of a write as a timeout that sent nothing", async () => {
    intercept().replyWithError(new undiciErrors.ConnectTimeoutError());

    const error = await rejection(client().call("AddCertificate", ARGS.AddCertificate));

    expect(error.code).toBe("UPSTREAM_TIMEOUT");
    expect(error.outcomeUnknown).toBe(false);
    expect(error.retryable).toBe(true);
    expect(upstream.requests()).toHaveLength(1);
  });
});

describe("transport failures", () => {
  it.each([
    ["ECONNREFUSED", () => transportFailure("ECONNREFUSED", "connect ECONNREFUSED 192.0.2.1:443")],
    ["ECONNRESET", () => transportFailure("ECONNRESET", "read ECONNRESET")],
    [
      "ENOTFOUND",
      () => transportFailure("ENOTFOUND", "getaddrinfo ENOTFOUND api-ote.rrpproxy.net"),
    ],
    ["UND_ERR_SOCKET", () => new undiciErrors.SocketError("other side closed")],
    [
      "AggregateError of ECONNREFUSED",
      () =>
        Object.assign(new AggregateError([transportFailure("ECONNREFUSED")], "connect failed"), {
          code: undefined,
        }),
    ],
  ])("makes %s of a read UPSTREAM_UNAVAILABLE after the retries", async (_name, make) => {
    for (let i = 0; i < 3; i++) {
      intercept().replyWithError(make());
    }

    const error = await rejection(
      client({ retries: 2 }).call("StatusCertificate", ARGS.StatusCertificate),
    );

    expect(error.code).toBe("UPSTREAM_UNAVAILABLE");
    expect(error.retryable).toBe(true);
    expect(upstream.requests()).toHaveLength(3);
  });

  it.each(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH"])(
    "makes %s of a write UPSTREAM_UNAVAILABLE: nothing was sent",
    async code => {
      intercept().replyWithError(transportFailure(code));

      const error = await rejection(client().call("AddCertificate", ARGS.AddCertificate));

      expect(error.code).toBe("UPSTREAM_UNAVAILABLE");
      expect(error.outcomeUnknown).toBe(false);
      expect(error.retryable).toBe(true);
      expect(upstream.requests()).toHaveLength(1);
    },
  );

  it.each([
    ["ECONNRESET", () => transportFailure("ECONNRESET")],
    ["EPIPE", () => transportFailure("EPIPE")],
    ["UND_ERR_SOCKET", () => new undiciErrors.SocketError("other side closed")],
    ["UND_ERR_ABORTED", () => new undiciErrors.RequestAbortedError()],
    ["an error without code", () => new Error("something odd")],
  ])("makes %s of a write UPSTREAM_OUTCOME_UNKNOWN", async (_name, make) => {
    intercept().replyWithError(make());

    const error = await rejection(client().call("RenewCertificate", ARGS.RenewCertificate));

    expect(error.code).toBe("UPSTREAM_OUTCOME_UNKNOWN");
    expect(error.message).toMatch(/may have run/);
  });

  it("keeps only name, code and a first line of the transport failure as cause", async () => {
    intercept().replyWithError(
      transportFailure("ECONNREFUSED", "connect ECONNREFUSED 192.0.2.1:443\nmore"),
    );

    const error = await rejection(
      client({ retries: 0 }).call("StatusCertificate", ARGS.StatusCertificate),
    );

    expect(error.cause).toBeInstanceOf(Error);
    expect(error.cause).toMatchObject({
      code: "ECONNREFUSED",
      message: "connect ECONNREFUSED 192.0.2.1:443",
    });
  });
});

describe("replies that are not 2xx", () => {
  it.each([
    [504, "Missing required attribute; certificate"],
    [505, "Invalid attribute value syntax; period"],
    [545, "Entity reference not found"],
    [549, "Command failed; FAIL1234567"],
  ])("makes %i UPSTREAM_REJECTED with upstream code and description", async (code, description) => {
    intercept().reply(200, replyText(code, description));

    const error = await rejection(client().call("AddCertificate", ARGS.AddCertificate));

    expect(error.code).toBe("UPSTREAM_REJECTED");
    expect(error.upstreamCode).toBe(code);
    expect(error.upstreamDescription).toBe(description);
    expect(error.message).toContain(`${code} ${description}`);
    expect(error.command).toBe("AddCertificate");
    expect(error.retryable).toBe(false);
  });

  it.each([530, 531, 535])(
    "makes %i UPSTREAM_AUTHENTICATION without a session, sent once",
    async code => {
      intercept().reply(200, replyText(code, "Authentication failed")).persist();

      const error = await rejection(client().call("StatusCertificate", ARGS.StatusCertificate));

      expect(error.code).toBe("UPSTREAM_AUTHENTICATION");
      expect(error.upstreamCode).toBe(code);
      expect(upstream.requests()).toHaveLength(1);
    },
  );

  it.each([
    ["HTTP 500", 500, OK],
    ["HTTP 404", 404, "Not Found"],
    ["a garbage body", 200, "<html><body>Service Temporarily Unavailable</body></html>"],
    ["an empty body", 200, ""],
    ["a body without description", 200, "[RESPONSE]\ncode = 200\nEOF\n"],
  ])("makes %s of a read UPSTREAM_PROTOCOL, not repeated", async (_name, status, body) => {
    intercept().reply(status, body).persist();

    const error = await rejection(client().call("StatusCertificate", ARGS.StatusCertificate));

    expect(error.code).toBe("UPSTREAM_PROTOCOL");
    expect(error.retryable).toBe(false);
    expect(upstream.requests()).toHaveLength(1);
  });

  it("reports the HTTP status of a protocol failure", async () => {
    intercept().reply(503, "Service Unavailable");

    const error = await rejection(client().call("StatusCertificate", ARGS.StatusCertificate));

    expect(error.message).toContain("HTTP status 503");
  });

  it.each([
    ["HTTP 502", 502, "Bad Gateway"],
    ["a garbled 200", 200, "[RESPONSE]\ncode = 2"],
  ])(
    "makes %s of a write an unknown outcome: the command may have run",
    async (_n, status, body) => {
      intercept().reply(status, body);

      const error = await rejection(client().call("AddCertificate", ARGS.AddCertificate));

      expect(error.code).toBe("UPSTREAM_OUTCOME_UNKNOWN");
    },
  );

  it("makes HTTP 4xx of a write UPSTREAM_PROTOCOL: the API never saw it", async () => {
    intercept().reply(404, "Not Found");

    const error = await rejection(client().call("AddCertificate", ARGS.AddCertificate));

    expect(error.code).toBe("UPSTREAM_PROTOCOL");
    expect(error.outcomeUnknown).toBe(false);
  });
});

describe("session mode", () => {
  function loginReply(id: string) {
    return replyText(200, "Command completed successfully", [
      ["sessionid", [id]],
      ["expiration date", ["2030-01-01 00:00:00"]],
    ]);
  }

  it("logs in once with persistent=1 and then sends s_sessionid instead of the password", async () => {
    intercept(LOGIN_BODY).reply(200, loginReply(SESSION_ID));
    intercept(COMMAND_BODY("StatusCertificate")).reply(200, OK).times(2);
    const c = client({ session: true });

    await c.call("StatusCertificate", ARGS.StatusCertificate);
    await c.call("StatusCertificate", ARGS.StatusCertificate);

    const [login, first, second] = upstream.requests();
    expect(Object.fromEntries(login!.fields)).toEqual({
      s_login: LOGIN,
      s_pw: PASSWORD,
      persistent: "1",
    });
    for (const request of [first!, second!]) {
      expect(request.fields.get("s_sessionid")).toBe(SESSION_ID);
      expect(request.fields.get("s_login")).toBe(LOGIN);
      expect(request.fields.has("s_pw")).toBe(false);
    }
    expect(upstream.commands()).toEqual(["StartSession", "StatusCertificate", "StatusCertificate"]);
  });

  it("shares one login between concurrent first calls", async () => {
    intercept(LOGIN_BODY).reply(200, loginReply(SESSION_ID)).delay(30);
    intercept(COMMAND_BODY("StatusCertificate")).reply(200, OK).times(3);
    const c = client({ session: true });

    await Promise.all([1, 2, 3].map(() => c.call("StatusCertificate", ARGS.StatusCertificate)));

    expect(upstream.commands().filter(name => name === "StartSession")).toHaveLength(1);
    expect(
      upstream
        .requests()
        .slice(1)
        .map(r => r.fields.get("s_sessionid")),
    ).toEqual([SESSION_ID, SESSION_ID, SESSION_ID]);
  });

  it.each(["StatusCertificate", "AddCertificate"] as const)(
    "logs in again after a 530 and repeats %s once",
    async command => {
      intercept(LOGIN_BODY).reply(200, loginReply(SESSION_ID));
      intercept(COMMAND_BODY(command)).reply(
        200,
        replyText(530, "Authentication failed; session expired"),
      );
      intercept(LOGIN_BODY).reply(200, loginReply(SESSION_ID_2));
      intercept(COMMAND_BODY(command)).reply(200, OK);

      await expect(
        client({ session: true }).call(command, ARGS[command] as never),
      ).resolves.toMatchObject({
        code: 200,
      });

      expect(upstream.commands()).toEqual(["StartSession", command, "StartSession", command]);
      const sessions = upstream.requests().map(r => r.fields.get("s_sessionid"));
      expect(sessions).toEqual([null, SESSION_ID, null, SESSION_ID_2]);
    },
  );

  it("re-establishes the session only once per call", async () => {
    intercept(LOGIN_BODY).reply(200, loginReply(SESSION_ID));
    intercept(LOGIN_BODY).reply(200, loginReply(SESSION_ID_2));
    intercept(COMMAND_BODY("StatusCertificate"))
      .reply(200, replyText(530, "Authentication failed"))
      .persist();

    const error = await rejection(
      client({ session: true }).call("StatusCertificate", ARGS.StatusCertificate),
    );

    expect(error.code).toBe("UPSTREAM_AUTHENTICATION");
    expect(upstream.commands()).toEqual([
      "StartSession",
      "StatusCertificate",
      "StartSession",
      "StatusCertificate",
    ]);
  });

  it("does not log in again after 531 (authorization), which a new session cannot fix", async () => {
    intercept(LOGIN_BODY).reply(200, loginReply(SESSION_ID));
    intercept(COMMAND_BODY("StatusCertificate")).reply(200, replyText(531, "Authorization failed"));

    const error = await rejection(
      client({ session: true }).call("StatusCertificate", ARGS.StatusCertificate),
    );

    expect(error.code).toBe("UPSTREAM_AUTHENTICATION");
    expect(upstream.commands()).toEqual(["StartSession", "StatusCertificate"]);
  });

  it("rejects with UPSTREAM_AUTHENTICATION of StartSession when the login is refused", async () => {
    intercept(LOGIN_BODY).reply(200, replyText(530, "Authentication failed")).persist();

    const error = await rejection(
      client({ session: true }).call("AddCertificate", ARGS.AddCertificate),
    );

    expect(error.code).toBe("UPSTREAM_AUTHENTICATION");
    expect(error.command).toBe("StartSession");
    expect(upstream.commands()).toEqual(["StartSession"]);
  });

  it("rejects with UPSTREAM_PROTOCOL when the login reply has no session id", async () => {
    intercept(LOGIN_BODY).reply(200, OK);

    const error = await rejection(
      client({ session: true }).call("AddCertificate", ARGS.AddCertificate),
    );

    expect(error.code).toBe("UPSTREAM_PROTOCOL");
    expect(error.command).toBe("StartSession");
  });

  it("repeats a read whose login failed temporarily, logging in again", async () => {
    intercept(LOGIN_BODY).reply(200, replyText(421, "try again"));
    intercept(LOGIN_BODY).reply(200, loginReply(SESSION_ID));
    intercept(COMMAND_BODY("StatusCertificate")).reply(200, OK);

    await client({ session: true }).call("StatusCertificate", ARGS.StatusCertificate);

    expect(upstream.commands()).toEqual(["StartSession", "StartSession", "StatusCertificate"]);
  });

  it("ends the session with StopSession on close and refuses calls afterwards", async () => {
    intercept(LOGIN_BODY).reply(200, loginReply(SESSION_ID));
    intercept(COMMAND_BODY("StatusCertificate")).reply(200, OK);
    intercept(COMMAND_BODY("StopSession")).reply(200, OK);
    const c = client({ session: true });
    await c.call("StatusCertificate", ARGS.StatusCertificate);

    await c.close();

    const stop = upstream.requests()[2]!;
    expect(stop.commandText).toBe("COMMAND=StopSession");
    expect(stop.fields.get("s_sessionid")).toBe(SESSION_ID);
    const error = await rejection(c.call("StatusCertificate", ARGS.StatusCertificate));
    expect(error.code).toBe("UPSTREAM_UNAVAILABLE");
    expect(upstream.requests()).toHaveLength(3);
  });

  it("closes without StopSession when no session was opened, and without failing when it fails", async () => {
    const idle = client({ session: true });
    await idle.close();
    expect(upstream.requests()).toHaveLength(0);

    intercept(LOGIN_BODY).reply(200, loginReply(SESSION_ID));
    intercept(COMMAND_BODY("StatusCertificate")).reply(200, OK);
    intercept(COMMAND_BODY("StopSession")).replyWithError(transportFailure("ECONNRESET"));
    const busy = client({ session: true });
    await busy.call("StatusCertificate", ARGS.StatusCertificate);

    await expect(busy.close()).resolves.toBeUndefined();
    expect(upstream.commands()).toEqual(["StartSession", "StatusCertificate", "StopSession"]);
  });
});

describe("abort signal", () => {
  it("rejects with the reason and sends nothing when already aborted", async () => {
    const reason = new Error("request ended");

    await expect(
      client().call("StatusCertificate", ARGS.StatusCertificate, {
        signal: AbortSignal.abort(reason),
      }),
    ).rejects.toBe(reason);
    expect(upstream.requests()).toHaveLength(0);
  });

  it("aborts a read in flight with the signal's reason and does not repeat it", async () => {
    intercept().reply(200, OK).delay(1_000).persist();
    const controller = new AbortController();
    const reason = new Error("client went away");
    setTimeout(() => controller.abort(reason), 20);

    await expect(
      client().call("StatusCertificate", ARGS.StatusCertificate, { signal: controller.signal }),
    ).rejects.toBe(reason);
    expect(upstream.requests()).toHaveLength(1);
  });

  it("reports a write aborted in flight as an unknown outcome", async () => {
    intercept().reply(200, OK).delay(1_000);
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("client went away")), 20);

    const error = await rejection(
      client().call("AddCertificate", ARGS.AddCertificate, { signal: controller.signal }),
    );

    expect(error.code).toBe("UPSTREAM_OUTCOME_UNKNOWN");
  });

  it("stops waiting between retries when aborted", async () => {
    intercept().reply(200, replyText(421, "try again")).persist();
    const controller = new AbortController();
    const reason = new Error("stop");
    const c = createUpstreamClient({
      url: UPSTREAM_URL,
      login: LOGIN,
      password: PASSWORD,
      dispatcher: upstream.agent,
      retryBaseMs: 10_000,
      random: () => 0.99,
    });
    setTimeout(() => controller.abort(reason), 30);

    await expect(
      c.call("StatusCertificate", ARGS.StatusCertificate, { signal: controller.signal }),
    ).rejects.toBe(reason);
    expect(upstream.requests()).toHaveLength(1);
  });

  it("does not abort the shared login for the other callers", async () => {
    intercept(LOGIN_BODY)
      .reply(200, replyText(200, "ok", [["sessionid", [SESSION_ID]]]))
      .delay(60);
    intercept(COMMAND_BODY("StatusCertificate")).reply(200, OK);
    const c = client({ session: true });
    const controller = new AbortController();
    const reason = new Error("gone");

    const aborted = c.call("StatusCertificate", ARGS.StatusCertificate, {
      signal: controller.signal,
    });
    const other = c.call("StatusCertificate", ARGS.StatusCertificate);
    setTimeout(() => controller.abort(reason), 10);

    await expect(aborted).rejects.toBe(reason);
    await expect(other).resolves.toMatchObject({ code: 200 });
    expect(upstream.commands()).toEqual(["StartSession", "StatusCertificate"]);
  });
});

describe("onCall", () => {
  it("reports every exchange with command, code, attempt and duration", async () => {
    intercept(LOGIN_BODY).reply(200, replyText(200, "ok", [["sessionid", [SESSION_ID]]]));
    intercept(COMMAND_BODY("StatusCertificate")).reply(200, replyText(421, "try again"));
    intercept(COMMAND_BODY("StatusCertificate")).replyWithError(transportFailure("ECONNRESET"));
    intercept(COMMAND_BODY("StatusCertificate")).reply(200, OK);
    const onCall = jest.fn();

    await client({ session: true, onCall }).call("StatusCertificate", ARGS.StatusCertificate);

    expect(onCall.mock.calls.map(([e]) => e as object)).toEqual([
      { command: "StartSession", code: 200, attempt: 1, durationMs: expect.any(Number) },
      { command: "StatusCertificate", code: 421, attempt: 1, durationMs: expect.any(Number) },
      {
        command: "StatusCertificate",
        code: "UPSTREAM_UNAVAILABLE",
        attempt: 2,
        durationMs: expect.any(Number),
      },
      { command: "StatusCertificate", code: 200, attempt: 3, durationMs: expect.any(Number) },
    ]);
  });

  it("ignores an observer that throws", async () => {
    intercept().reply(200, OK);
    const onCall = jest.fn(() => {
      throw new Error("broken metrics");
    });

    await expect(
      client({ onCall }).call("StatusCertificate", ARGS.StatusCertificate),
    ).resolves.toMatchObject({ code: 200 });
    expect(onCall).toHaveBeenCalledTimes(1);
  });
});

describe("no secret in any error", () => {
  const encodedPassword = encodeURIComponent(PASSWORD);
  const formPassword = new URLSearchParams({ p: PASSWORD }).toString().slice(2);
  const body = `s_login=${LOGIN}&s_pw=${formPassword}&s_sessionid=${SESSION_ID}&s_command=COMMAND%3DAddCertificate`;
  const loginReply = replyText(200, "ok", [["sessionid", [SESSION_ID]]]);

  /** One scenario per error code; each plants the secrets where an error could pick them up. */
  const scenarios: Record<UpstreamErrorCode, () => Promise<unknown>> = {
    UPSTREAM_UNAVAILABLE: () => {
      intercept().replyWithError(
        transportFailure(
          "ECONNREFUSED",
          `connect ECONNREFUSED while sending ${body} (${PASSWORD})`,
        ),
      );
      return client({ retries: 0 }).call("StatusCertificate", ARGS.StatusCertificate);
    },
    UPSTREAM_TIMEOUT: () => {
      intercept(LOGIN_BODY).reply(200, loginReply);
      intercept(COMMAND_BODY("StatusCertificate")).reply(200, OK).delay(1_000);
      return client({ session: true, timeoutMs: 30, retries: 0 }).call(
        "StatusCertificate",
        ARGS.StatusCertificate,
      );
    },
    UPSTREAM_TEMPORARY: () => {
      intercept(LOGIN_BODY).reply(200, loginReply);
      intercept(COMMAND_BODY("StatusCertificate")).reply(
        200,
        replyText(423, `Session ${SESSION_ID} busy; login ${LOGIN} pw ${PASSWORD}`),
      );
      return client({ session: true, retries: 0 }).call(
        "StatusCertificate",
        ARGS.StatusCertificate,
      );
    },
    UPSTREAM_REJECTED: () => {
      intercept().reply(
        200,
        replyText(505, `Invalid attribute value syntax; s_pw=${encodedPassword}`),
      );
      return client().call("AddCertificate", ARGS.AddCertificate);
    },
    UPSTREAM_AUTHENTICATION: () => {
      intercept(LOGIN_BODY).reply(200, loginReply).times(2);
      intercept(COMMAND_BODY("StatusCertificate"))
        .reply(200, replyText(530, `Authentication failed; session ${SESSION_ID} expired`))
        .persist();
      return client({ session: true }).call("StatusCertificate", ARGS.StatusCertificate);
    },
    UPSTREAM_PROTOCOL: () => {
      intercept().reply(500, `Internal error while handling ${body} password=${PASSWORD}`);
      return client().call("StatusCertificate", ARGS.StatusCertificate);
    },
    UPSTREAM_OUTCOME_UNKNOWN: () => {
      intercept(LOGIN_BODY).reply(200, loginReply);
      intercept(COMMAND_BODY("AddCertificate")).replyWithError(
        new undiciErrors.SocketError(`other side closed; request was ${body} ${SESSION_ID}`),
      );
      return client({ session: true }).call("AddCertificate", ARGS.AddCertificate);
    },
  };

  it("has a scenario for every error code", () => {
    expect(Object.keys(scenarios).sort()).toEqual([...UPSTREAM_ERROR_CODES].sort());
  });

  it.each(UPSTREAM_ERROR_CODES)("keeps the password and the session id out of %s", async code => {
    const error = await rejection(scenarios[code]());

    expect(error.code).toBe(code);
    const surfaces = [
      error.message,
      error.stack ?? "",
      JSON.stringify(error),
      String(error.cause),
      inspect(error, { depth: 5 }),
      error.upstreamDescription ?? "",
    ];
    for (const surface of surfaces) {
      for (const secret of [PASSWORD, encodedPassword, formPassword, SESSION_ID]) {
        expect(surface).not.toContain(secret);
      }
      expect(surface).not.toContain("s_command=");
    }
  });

  it("keeps the request out of an error about an unmatched request (undici quotes the body)", async () => {
    // Only a login is expected: undici's "not matched for body '<the whole form>'" error follows.
    intercept(LOGIN_BODY).reply(200, loginReply);

    const error = await rejection(
      client({ retries: 0 }).call("AddCertificate", ARGS.AddCertificate),
    );

    const text = [error.message, String(error.cause), inspect(error, { depth: 5 })].join("\n");
    expect(text).not.toContain(formPassword);
    expect(text).not.toContain("s_pw");
    expect(text).not.toContain("CSR");
  });
});

describe("UpstreamError classification", () => {
  const read = { command: "StatusCertificate", kind: "read" } as const;
  const write = { command: "AddCertificate", kind: "write" } as const;

  it.each([
    [200, "UPSTREAM_PROTOCOL"],
    [420, "UPSTREAM_TEMPORARY"],
    [423, "UPSTREAM_TEMPORARY"],
    [500, "UPSTREAM_REJECTED"],
    [521, "UPSTREAM_REJECTED"],
    [530, "UPSTREAM_AUTHENTICATION"],
    [531, "UPSTREAM_AUTHENTICATION"],
    [535, "UPSTREAM_AUTHENTICATION"],
    [540, "UPSTREAM_REJECTED"],
    [999, "UPSTREAM_PROTOCOL"],
  ])("classifies reply code %i as %s", (code, expected) => {
    expect(toReplyError(read, { code, description: "x" }).code).toBe(expected);
  });

  it("finds the transport code on the error, its cause or its first aggregated error", () => {
    expect(transportCode(transportFailure("ECONNRESET"))).toBe("ECONNRESET");
    expect(
      transportCode(new TypeError("fetch failed", { cause: transportFailure("ENOTFOUND") })),
    ).toBe("ENOTFOUND");
    expect(transportCode(new AggregateError([transportFailure("ECONNREFUSED")]))).toBe(
      "ECONNREFUSED",
    );
    expect(transportCode("boom")).toBeUndefined();
  });

  it("treats TLS failures as never sent", () => {
    const error = toTransportError(write, transportFailure("ERR_TLS_CERT_ALTNAME_INVALID"));

    expect(error.code).toBe("UPSTREAM_UNAVAILABLE");
    expect(error.outcomeUnknown).toBe(false);
  });

  it("sets outcomeUnknown exactly for UPSTREAM_OUTCOME_UNKNOWN", () => {
    expect(toTransportError(write, transportFailure("ECONNRESET")).outcomeUnknown).toBe(true);
    expect(toTransportError(read, transportFailure("ECONNRESET")).outcomeUnknown).toBe(false);
    expect(toProtocolError(write, "HTTP status 500", { httpStatus: 500 }).outcomeUnknown).toBe(
      true,
    );
  });

  it("redacts secrets raw, URI-encoded and form-encoded", () => {
    const text = `a ${PASSWORD} b ${encodeURIComponent(PASSWORD)} c ${new URLSearchParams({ x: PASSWORD }).toString().slice(2)}`;

    expect(redactSecrets(text, [PASSWORD, ""])).toBe("a [REDACTED] b [REDACTED] c [REDACTED]");
  });

  it("is an Error with the name UpstreamError", () => {
    const error = toReplyError(read, { code: 545, description: "Entity reference not found" });

    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("UpstreamError");
    expect(String(error)).toMatch(/^UpstreamError: StatusCertificate was rejected/);
  });
});
