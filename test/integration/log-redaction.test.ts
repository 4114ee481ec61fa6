import { type Dispatcher, Pool } from "undici";
import { createLogger } from "../../src/logger";
import { startSandbox } from "../../src/sandbox/server";
import { CertificateDocument, OrderCertificateDocument } from "../__generated__/graphql";
import { startTestGateway, type TestGateway } from "../helpers/gateway";
import { makeCsr } from "../helpers/pki";

const API_KEY = "log-key-0123456789abcdef-SECRET";
const WRONG_KEY = "wrong-key-0123456789abcdef-SECRET";
const RESELLER = { login: "reseller", password: "Upstream-Pw-SECRET" };
const ALICE = { login: "alice", password: "Alice-Pw-SECRET" };

const TECH = {
  firstName: "Max",
  lastName: "Mustermann",
  email: "max@example.org",
  phone: "+1.5552345678",
};

const basicToken = (login: string, password: string) =>
  Buffer.from(`${login}:${password}`).toString("base64");

/** Every log line the gateway writes, as text. */
function captureLogs() {
  const lines: string[] = [];
  const logger = createLogger({
    level: "trace",
    destination: { write: (line: string) => void lines.push(line) },
  });
  return { lines, logger };
}

/**
 * A pool to the sandbox that records the form fields of every request it sends, so the test
 * knows the session ids the gateway used (they are secrets too).
 */
function recordingPool(url: string) {
  const sessionIds = new Set<string>();
  const pool = new Pool(new URL(url).origin);
  const dispatcher = pool.compose(
    dispatch => (options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler) => {
      if (typeof options.body === "string") {
        const id = new URLSearchParams(options.body).get("s_sessionid");
        if (id) {
          sessionIds.add(id);
        }
      }
      return dispatch(options, handler);
    },
  );
  return { dispatcher, sessionIds, close: () => pool.close() };
}

/** The secrets that appear in some line, in any of the forms they travel in. */
function leaked(lines: readonly string[], secrets: readonly string[]): string[] {
  const text = lines.join("\n");
  return secrets.filter(secret =>
    [secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)].some(form =>
      text.includes(form),
    ),
  );
}

describe("log redaction", () => {
  let gateway: TestGateway | undefined;
  let pool: ReturnType<typeof recordingPool> | undefined;

  afterEach(async () => {
    await gateway?.stop();
    await pool?.close();
    gateway = undefined;
    pool = undefined;
  });

  it("logs no API key, password, session id or CSR of requests with keys, in session mode", async () => {
    const { lines, logger } = captureLogs();
    const sandbox = await startSandbox({ port: 0, issuanceDelayMs: 0, accounts: [RESELLER] });
    pool = recordingPool(sandbox.url);
    gateway = await startTestGateway(
      { GATEWAY_API_KEYS: `shop:read+order+manage:${API_KEY}`, RRPPROXY_SESSION: "1" },
      { attachTo: sandbox, overrides: { logger, dispatcher: pool.dispatcher } },
    );
    const auth = { authorization: `Bearer ${API_KEY}` };
    const csr = makeCsr({ commonName: "logs.example.com", keyType: "ec" });

    const ordered = await gateway.query(
      OrderCertificateDocument,
      {
        input: {
          class: "ssl123dv",
          domains: ["logs.example.com"],
          csr: csr.csrPem,
          dcvMethod: "DNS_TXT",
          techContact: TECH,
        },
        idempotencyKey: "log-test",
      },
      auth,
    );
    const id = ordered.data!.orderCertificate.id;
    // The session expires: the client logs in again (a second session id), and an upstream
    // description that repeats the password is logged nowhere.
    sandbox.failNext("StatusCertificate", { code: 530, description: "session expired" });
    await gateway.query(CertificateDocument, { id }, auth);
    sandbox.failNext("StatusCertificate", {
      code: 549,
      description: `Command failed; s_pw=${RESELLER.password} password ${RESELLER.password}`,
    });
    await gateway.query(CertificateDocument, { id }, { ...auth, "x-request-id": "redaction-1" });
    const refused = await gateway.queryRaw(
      { query: "{ certificateClasses { name } }" },
      { authorization: `Bearer ${WRONG_KEY}` },
    );
    await gateway.queryRaw(
      { query: "{ certificateClasses { name } }" },
      { authorization: `Basic ${basicToken(ALICE.login, ALICE.password)}` },
    );
    await gateway.stop();
    await sandbox.stop();

    expect(ordered.errors).toBeUndefined();
    expect(refused.status).toBe(401);
    expect(pool.sessionIds.size).toBeGreaterThanOrEqual(2);
    // Logging did happen: access lines, GraphQL lines and upstream calls, with request ids.
    expect(lines.some(line => line.includes('"http request"'))).toBe(true);
    expect(lines.some(line => line.includes('"upstream call"'))).toBe(true);
    expect(lines.some(line => line.includes("redaction-1"))).toBe(true);
    const csrLines = csr.csrPem
      .split("\n")
      .filter(line => line.length >= 40 && !line.startsWith("-"));
    expect(
      leaked(lines, [
        API_KEY,
        WRONG_KEY,
        RESELLER.password,
        ALICE.password,
        basicToken(ALICE.login, ALICE.password),
        ...pool.sessionIds,
        ...csrLines,
        csr.keyPem,
      ]),
    ).toEqual([]);
  });

  it("logs no Basic credentials of callers in pass-through mode, right or wrong", async () => {
    const { lines, logger } = captureLogs();
    gateway = await startTestGateway(
      { GATEWAY_AUTH: "passthrough" },
      { sandbox: { accounts: [RESELLER, ALICE] }, overrides: { logger } },
    );
    const query = { query: "{ certificates(first: 1) { totalCount } }" };

    const ok = await gateway.queryRaw(query, {
      authorization: `Basic ${basicToken(ALICE.login, ALICE.password)}`,
    });
    const wrong = await gateway.queryRaw(query, {
      authorization: `Basic ${basicToken(ALICE.login, `${ALICE.password}-WRONG`)}`,
    });
    await gateway.stop();

    expect([ok.status, wrong.status]).toEqual([200, 401]);
    expect(lines.filter(line => line.includes('"http request"'))).toHaveLength(2);
    expect(
      leaked(lines, [
        ALICE.password,
        basicToken(ALICE.login, ALICE.password),
        basicToken(ALICE.login, `${ALICE.password}-WRONG`),
        RESELLER.password,
      ]),
    ).toEqual([]);
  });
});
