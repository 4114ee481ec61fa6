import { type SandboxFault, type SandboxHandle, startSandbox } from "../../src/sandbox/server";
import {
  CertificatesDocument,
  OrderCertificateDocument,
  type OrderCertificateInput,
} from "../__generated__/graphql";
import { startTestGateway, type TestGateway } from "../helpers/gateway";
import { makeCsr } from "../helpers/pki";

/** Timeouts and retries of the gateway under test (small, so that faults answer quickly). */
const TIMEOUT_MS = 500;
const ORDER_TIMEOUT_MS = 800;
const RETRIES = 2;
/** Slack on top of a timeout: this is no performance test, only "it does answer, in time". */
const SLACK_MS = 2000;

const TECH = {
  firstName: "Max",
  lastName: "Mustermann",
  email: "max@example.org",
  phone: "+1.5552345678",
};

function orderInput(domain: string): OrderCertificateInput {
  return {
    class: "ssl123dv",
    domains: [domain],
    csr: makeCsr({ commonName: domain, keyType: "ec" }).csrPem,
    dcvMethod: "DNS_TXT",
    techContact: TECH,
  };
}

/** Orders placed for real (a quote is AddCertificate with CHECKONLY=1). */
const ordersAt = (sandbox: SandboxHandle) =>
  sandbox.callsTo("AddCertificate").filter(call => call.params.checkonly !== "1");

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

describe("upstream faults between gateway and sandbox", () => {
  let gateway: TestGateway;

  beforeAll(async () => {
    gateway = await startTestGateway(
      {
        RRPPROXY_TIMEOUT_MS: String(TIMEOUT_MS),
        RRPPROXY_ORDER_TIMEOUT_MS: String(ORDER_TIMEOUT_MS),
        RRPPROXY_RETRIES: String(RETRIES),
        // This suite is about each fault's answer; the breaker has its own below.
        RRPPROXY_CIRCUIT_FAILURES: "1000",
        GATEWAY_EXPOSE_ERROR_DETAILS: "0",
      },
      { sandbox: { seed: 1 } },
    );
  });

  afterAll(async () => {
    await gateway.stop();
  });

  beforeEach(() => {
    gateway.sandbox.resetCalls();
  });

  describe("reads", () => {
    it.each<{ name: string; fault: SandboxFault; code: string; attempts: number }>([
      {
        name: "a 4xx reply",
        fault: { code: 421, description: "Try again" },
        code: "UPSTREAM_TEMPORARY",
        attempts: RETRIES + 1,
      },
      {
        name: "a 5xx reply",
        fault: { code: 549, description: "Command failed" },
        code: "UPSTREAM_REJECTED",
        attempts: 1,
      },
      {
        name: "a refused login",
        fault: { code: 530, description: "Authentication failed" },
        code: "UPSTREAM_AUTHENTICATION",
        attempts: 1,
      },
      { name: "HTTP 503", fault: { httpStatus: 503 }, code: "UPSTREAM_PROTOCOL", attempts: 1 },
      { name: "HTTP 404", fault: { httpStatus: 404 }, code: "UPSTREAM_PROTOCOL", attempts: 1 },
      {
        name: "a connection reset",
        fault: "reset",
        code: "UPSTREAM_UNAVAILABLE",
        attempts: RETRIES + 1,
      },
      { name: "an empty body", fault: "empty", code: "UPSTREAM_PROTOCOL", attempts: 1 },
      { name: "a garbage body", fault: "garbage", code: "UPSTREAM_PROTOCOL", attempts: 1 },
      {
        name: "a hung upstream",
        fault: "hang",
        code: "UPSTREAM_TIMEOUT",
        attempts: RETRIES + 1,
      },
    ])(
      "answers $name as $code after $attempts attempt(s)",
      async ({ fault, code, attempts }) => {
        // One fault per expected attempt: an attempt too many would succeed and fail the test.
        for (let attempt = 0; attempt < attempts; attempt++) {
          gateway.sandbox.failNext("QueryCertificateList", fault);
        }

        const started = performance.now();
        const result = await gateway.query(CertificatesDocument, { first: 1 });
        const elapsedMs = performance.now() - started;

        expect(result.errors?.[0]?.extensions).toMatchObject({
          code,
          command: "QueryCertificateList",
        });
        expect(gateway.sandbox.callsTo("QueryCertificateList")).toHaveLength(attempts);
        // Every attempt may take the whole timeout, the backoff between them is a few ms.
        expect(elapsedMs).toBeLessThan(attempts * TIMEOUT_MS + SLACK_MS);
      },
      15_000,
    );

    it("answers a slow upstream as UPSTREAM_TIMEOUT within the timeouts of its attempts", async () => {
      for (let attempt = 0; attempt <= RETRIES; attempt++) {
        gateway.sandbox.delayNext("QueryCertificateList", TIMEOUT_MS * 3);
      }

      const started = performance.now();
      const result = await gateway.query(CertificatesDocument, { first: 1 });
      const elapsedMs = performance.now() - started;

      expect(result.errors?.[0]?.extensions?.code).toBe("UPSTREAM_TIMEOUT");
      expect(gateway.sandbox.callsTo("QueryCertificateList")).toHaveLength(RETRIES + 1);
      expect(elapsedMs).toBeLessThan((RETRIES + 1) * TIMEOUT_MS + SLACK_MS);
    }, 15_000);

    it("retries a read through temporary faults and answers it", async () => {
      gateway.sandbox.failNext("QueryCertificateList", "reset");
      gateway.sandbox.failNext("QueryCertificateList", { code: 421, description: "Try again" });

      const result = await gateway.query(CertificatesDocument, { first: 1 });

      expect(result.errors).toBeUndefined();
      expect(result.data?.certificates.totalCount).toBe(1);
      expect(gateway.sandbox.callsTo("QueryCertificateList").map(call => call.code)).toEqual([
        0, 421, 200,
      ]);
    });
  });

  describe("orders (writes are never retried)", () => {
    it.each<{ name: string; fault: SandboxFault; code: string }>([
      {
        name: "a 4xx reply",
        fault: { code: 421, description: "Try again" },
        code: "UPSTREAM_TEMPORARY",
      },
      {
        name: "a 5xx reply",
        fault: { code: 549, description: "Command failed" },
        code: "UPSTREAM_REJECTED",
      },
      {
        name: "HTTP 400, which the API never saw",
        fault: { httpStatus: 400 },
        code: "UPSTREAM_PROTOCOL",
      },
      { name: "HTTP 503", fault: { httpStatus: 503 }, code: "UPSTREAM_OUTCOME_UNKNOWN" },
      { name: "a connection reset", fault: "reset", code: "UPSTREAM_OUTCOME_UNKNOWN" },
      { name: "an empty body", fault: "empty", code: "UPSTREAM_OUTCOME_UNKNOWN" },
      { name: "a garbage body", fault: "garbage", code: "UPSTREAM_OUTCOME_UNKNOWN" },
      { name: "a hung upstream", fault: "hang", code: "UPSTREAM_OUTCOME_UNKNOWN" },
    ])(
      "answers $name as $code and sends the order once",
      async ({ name, fault, code }) => {
        gateway.sandbox.failNext("AddCertificate", fault);
        const domain = `fault-${name.replace(/[^a-z0-9]+/gi, "-").toLowerCase()}.example.com`;

        const started = performance.now();
        const result = await gateway.query(OrderCertificateDocument, { input: orderInput(domain) });
        const elapsedMs = performance.now() - started;

        expect(result.errors?.[0]?.extensions).toMatchObject({ code, command: "AddCertificate" });
        expect(ordersAt(gateway.sandbox)).toHaveLength(1);
        expect(elapsedMs).toBeLessThan(ORDER_TIMEOUT_MS + SLACK_MS);
      },
      15_000,
    );
  });
});

describe("the circuit breaker", () => {
  const OPEN_MS = 4000;
  let first: SandboxHandle;
  let second: SandboxHandle | undefined;
  let gateway: TestGateway;

  beforeAll(async () => {
    first = await startSandbox({ port: 0, issuanceDelayMs: 0 });
    gateway = await startTestGateway(
      {
        RRPPROXY_RETRIES: "0",
        RRPPROXY_CIRCUIT_FAILURES: "3",
        RRPPROXY_CIRCUIT_OPEN_MS: String(OPEN_MS),
      },
      { attachTo: first },
    );
  });

  afterAll(async () => {
    await gateway?.stop();
    await first?.stop();
    await second?.stop();
  });

  it("stops sending after 3 transport failures and closes again after one successful probe", async () => {
    expect((await gateway.query(CertificatesDocument, { first: 1 })).errors).toBeUndefined();
    const port = Number(new URL(first.url).port);
    await first.stop();

    const failures = [];
    for (let i = 0; i < 3; i++) {
      failures.push(await gateway.query(CertificatesDocument, { first: 1 }));
    }
    const openedAt = performance.now();
    // The upstream is back on the same address, but the circuit is open: nothing is sent to it.
    second = await startSandbox({ port, issuanceDelayMs: 0 });
    const whileOpen = await gateway.query(CertificatesDocument, { first: 1 });
    const checkedAfterMs = performance.now() - openedAt;
    const sentWhileOpen = second.calls.length;
    await sleep(Math.max(0, OPEN_MS + 100 - (performance.now() - openedAt)));
    const probe = await gateway.query(CertificatesDocument, { first: 1 });
    const sentByProbe = second.calls.length;
    const after = await gateway.query(CertificatesDocument, { first: 1 });

    expect(failures.map(f => f.errors?.[0]?.extensions?.code)).toEqual([
      "UPSTREAM_UNAVAILABLE",
      "UPSTREAM_UNAVAILABLE",
      "UPSTREAM_UNAVAILABLE",
    ]);
    expect(checkedAfterMs).toBeLessThan(OPEN_MS);
    expect(whileOpen.errors?.[0]?.extensions).toMatchObject({
      code: "UPSTREAM_UNAVAILABLE",
      retryable: true,
    });
    expect(sentWhileOpen).toBe(0);
    expect(probe.errors).toBeUndefined();
    expect(sentByProbe).toBe(1);
    expect(after.errors).toBeUndefined();
    expect(second.calls.length).toBe(2);
  }, 30_000);
});
