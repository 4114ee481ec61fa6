import { connect } from "node:net";
import { request } from "undici";
import { CertificatesDocument } from "../__generated__/graphql";
import { startTestGateway, type TestGateway } from "../helpers/gateway";

const QUERY = JSON.stringify({ query: "{ certificates(first: 1) { totalCount } }" });

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

/** Polls `condition` every 10 ms until it holds; fails after `timeoutMs`. */
async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) {
      throw new Error("condition not met in time");
    }
    await sleep(10);
  }
}

/** Whether a new TCP connection to the gateway's port is refused (nothing listens any more). */
function refused(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise(resolve => {
    const socket = connect({ host: hostname, port: Number(port) });
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code === "ECONNREFUSED"));
  });
}

/** POSTs the query on a connection of its own; resolves with the status and the body. */
async function post(url: string): Promise<{ status: number; body: unknown }> {
  const response = await request(url, {
    method: "POST",
    headers: { "content-type": "application/json", connection: "close" },
    body: QUERY,
  });
  return { status: response.statusCode, body: await response.body.json() };
}

describe("Gateway.stop (SIGTERM)", () => {
  let gateway: TestGateway | undefined;

  afterEach(async () => {
    await gateway?.stop();
    gateway = undefined;
  });

  it("refuses new connections at once and lets a request in flight finish with 200", async () => {
    gateway = await startTestGateway({ GATEWAY_SHUTDOWN_GRACE_MS: "10000" });
    const { sandbox, url } = gateway;
    gateway.sandbox.delayNext("QueryCertificateList", 1500);
    const inFlight = post(url);
    await until(() => sandbox.callsTo("QueryCertificateList").length === 1);

    let finished = false;
    const stopped = gateway.gateway.stop().then(() => {
      finished = true;
    });
    await until(() => refused(url));
    const refusedWhileInFlight = sandbox.callsTo("QueryCertificateList")[0]?.code === 0;
    const answer = await inFlight;
    await stopped;

    expect(refusedWhileInFlight).toBe(true);
    expect(answer).toEqual({ status: 200, body: { data: { certificates: { totalCount: 0 } } } });
    expect(finished).toBe(true);
  }, 20_000);

  it("closes idle keep-alive connections without waiting for them", async () => {
    gateway = await startTestGateway({ GATEWAY_SHUTDOWN_GRACE_MS: "10000" });
    // A keep-alive connection of undici's global pool stays open after this answer.
    expect((await gateway.query(CertificatesDocument, { first: 1 })).errors).toBeUndefined();

    const started = performance.now();
    await gateway.gateway.stop();

    expect(performance.now() - started).toBeLessThan(5000);
  }, 20_000);

  it("gives up on requests still running after the grace period, and on their upstream calls", async () => {
    const GRACE_MS = 300;
    // Reads would wait 20 s for the hung upstream, three times over: stop() must not.
    gateway = await startTestGateway({
      GATEWAY_SHUTDOWN_GRACE_MS: String(GRACE_MS),
      RRPPROXY_TIMEOUT_MS: "20000",
    });
    const { sandbox, url } = gateway;
    sandbox.failNext("QueryCertificateList", "hang");
    const inFlight = post(url).then(
      response => response.status,
      () => "connection closed",
    );
    await until(() => sandbox.callsTo("QueryCertificateList").length === 1);

    const started = performance.now();
    await gateway.gateway.stop();
    const stopMs = performance.now() - started;

    expect(stopMs).toBeLessThan(GRACE_MS + 3000);
    expect(await inFlight).toBe("connection closed");
  }, 20_000);
});
