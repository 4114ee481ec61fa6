import { randomUUID } from "node:crypto";
import { type SandboxHandle } from "../../src/sandbox/server";
import {
  CertificateDocument,
  OrderCertificateDocument,
  type OrderCertificateInput,
  ReissueCertificateDocument,
  RenewCertificateDocument,
} from "../__generated__/graphql";
import { startTestGateway, type TestGateway } from "../helpers/gateway";
import { makeCsr } from "../helpers/pki";
import { describeWithRedis } from "../helpers/redis";

/** The order timeout of these gateways, and so how old an attempt must be to order anew. */
const ORDER_TIMEOUT_MS = 1000;

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

/** Polls `condition` every 20 ms until it holds; fails after `timeoutMs`. */
async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) {
      throw new Error("condition not met in time");
    }
    await sleep(20);
  }
}

/**
 * The scenarios of "no double orders", run against the memory store and against Redis: an
 * attempt whose outcome is unknown is looked up upstream when its key comes again.
 */
function reconciliationSuite(env: () => Record<string, string>): void {
  let gateway: TestGateway;
  /** Unique per run: a long-lived Redis keeps the keys of earlier runs. */
  const run = randomUUID().slice(0, 8);
  const domain = (name: string) => `${name}-${run}.example.com`;

  beforeAll(async () => {
    gateway = await startTestGateway(
      { RRPPROXY_ORDER_TIMEOUT_MS: String(ORDER_TIMEOUT_MS), ...env() },
      { sandbox: { issuanceDelayMs: 0, accounts: [{ login: `reseller-${run}`, password: "pw" }] } },
    );
    await until(async () => gateway.gateway.cache.kind !== "redis" || gateway.gateway.cache.ping());
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  beforeEach(() => {
    gateway.sandbox.resetCalls();
  });

  /** An issued certificate to renew or reissue. */
  async function issued(name: string) {
    const placed = await gateway.query(OrderCertificateDocument, {
      input: orderInput(domain(name)),
    });
    expect(placed.errors).toBeUndefined();
    const { id } = placed.data!.orderCertificate;
    const shown = await gateway.query(CertificateDocument, { id });
    expect(shown.data?.certificate?.status).toBe("ACTIVE");
    gateway.sandbox.resetCalls();
    return shown.data!.certificate!;
  }

  it("answers the certificate an order created when its reply was lost, ordering once", async () => {
    const input = orderInput(domain("dropped"));
    const idempotencyKey = randomUUID();
    gateway.sandbox.failNext("AddCertificate", "drop-after-run");

    const first = await gateway.query(OrderCertificateDocument, { input, idempotencyKey });
    const retry = await gateway.query(OrderCertificateDocument, { input, idempotencyKey });
    const lookups = gateway.sandbox.callsTo("QueryCertificateList").length;
    const replay = await gateway.query(OrderCertificateDocument, { input, idempotencyKey });

    expect(first.errors?.[0]?.extensions?.code).toBe("UPSTREAM_OUTCOME_UNKNOWN");
    expect(ordersAt(gateway.sandbox).map(call => call.code)).toEqual([200]);
    expect(retry.errors).toBeUndefined();
    expect(retry.data?.orderCertificate.domains).toContain(input.domains[0]);
    expect(replay.data?.orderCertificate.id).toBe(retry.data?.orderCertificate.id);
    // The replay came from the settled record: no second lookup.
    expect(lookups).toBe(1);
    expect(gateway.sandbox.callsTo("QueryCertificateList")).toHaveLength(1);
  }, 20_000);

  it("answers the certificate an order created after the gateway gave up waiting", async () => {
    const input = orderInput(domain("late"));
    const idempotencyKey = randomUUID();
    // The sandbox runs the order after the delay, when the gateway no longer waits for it.
    gateway.sandbox.delayNext("AddCertificate", ORDER_TIMEOUT_MS + 500);

    const started = performance.now();
    const first = await gateway.query(OrderCertificateDocument, { input, idempotencyKey });
    const elapsedMs = performance.now() - started;
    await until(() => ordersAt(gateway.sandbox)[0]?.code === 200);
    const retry = await gateway.query(OrderCertificateDocument, { input, idempotencyKey });

    expect(first.errors?.[0]?.extensions?.code).toBe("UPSTREAM_OUTCOME_UNKNOWN");
    expect(elapsedMs).toBeLessThan(ORDER_TIMEOUT_MS + 2000);
    expect(retry.errors).toBeUndefined();
    expect(retry.data?.orderCertificate.domains).toContain(input.domains[0]);
    expect(ordersAt(gateway.sandbox)).toHaveLength(1);
  }, 20_000);

  it("orders once, when it is safe, if the first attempt never ran", async () => {
    const input = orderInput(domain("never-ran"));
    const idempotencyKey = randomUUID();
    gateway.sandbox.failNext("AddCertificate", "reset");

    const started = performance.now();
    const first = await gateway.query(OrderCertificateDocument, { input, idempotencyKey });
    const tooSoon = await gateway.query(OrderCertificateDocument, { input, idempotencyKey });
    // Once the attempt is older than the order timeout the upstream cannot still be working on it.
    await sleep(Math.max(0, ORDER_TIMEOUT_MS + 100 - (performance.now() - started)));
    const retry = await gateway.query(OrderCertificateDocument, { input, idempotencyKey });
    const replay = await gateway.query(OrderCertificateDocument, { input, idempotencyKey });

    expect(first.errors?.[0]?.extensions?.code).toBe("UPSTREAM_OUTCOME_UNKNOWN");
    expect(tooSoon.errors?.[0]?.extensions).toMatchObject({
      code: "UPSTREAM_OUTCOME_UNKNOWN",
      retryAfterSeconds: expect.any(Number),
    });
    expect(retry.errors).toBeUndefined();
    expect(replay.data?.orderCertificate.id).toBe(retry.data?.orderCertificate.id);
    // The reset attempt (never ran, code 0) and the one real order.
    expect(ordersAt(gateway.sandbox).map(call => call.code)).toEqual([0, 200]);
  }, 20_000);

  it("answers the renewal a lost reply created, renewing once", async () => {
    const original = await issued("renewal");
    const input = {
      id: original.id,
      csr: makeCsr({ commonName: domain("renewal"), keyType: "ec", keySlot: "renewal" }).csrPem,
    };
    const idempotencyKey = randomUUID();
    gateway.sandbox.failNext("RenewCertificate", "drop-after-run");

    const first = await gateway.query(RenewCertificateDocument, { input, idempotencyKey });
    const retry = await gateway.query(RenewCertificateDocument, { input, idempotencyKey });

    expect(first.errors?.[0]?.extensions?.code).toBe("UPSTREAM_OUTCOME_UNKNOWN");
    expect(retry.errors).toBeUndefined();
    const renewal = retry.data!.renewCertificate;
    expect(renewal.id).not.toBe(original.id);
    expect(renewal.domains).toEqual(original.domains);
    expect(renewal.csr).toBe(input.csr);
    expect(gateway.sandbox.callsTo("RenewCertificate")).toHaveLength(1);
  }, 20_000);

  it("answers the reissue a lost reply created, never the original, reissuing once", async () => {
    const original = await issued("reissue");
    // No new CSR: the reissue has the original's key, domains and order; only its id tells.
    const input = { id: original.id };
    const idempotencyKey = randomUUID();
    gateway.sandbox.failNext("ReissueCertificate", "drop-after-run");

    const first = await gateway.query(ReissueCertificateDocument, { input, idempotencyKey });
    const retry = await gateway.query(ReissueCertificateDocument, { input, idempotencyKey });

    expect(first.errors?.[0]?.extensions?.code).toBe("UPSTREAM_OUTCOME_UNKNOWN");
    expect(retry.errors).toBeUndefined();
    const reissue = retry.data!.reissueCertificate;
    expect(reissue.id).not.toBe(original.id);
    expect(reissue.order.id).toBe(original.order.id);
    expect(gateway.sandbox.callsTo("ReissueCertificate")).toHaveLength(1);
  }, 20_000);
}

describe("no double orders (memory store)", () => {
  reconciliationSuite(() => ({ CACHE_URL: "memory" }));
});

describeWithRedis("no double orders (Redis store)", redisUrl => {
  reconciliationSuite(() => ({ CACHE_URL: redisUrl }));
});
