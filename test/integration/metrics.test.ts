import { request } from "undici";
import { startTestGateway, type TestGateway } from "../helpers/gateway";

/** The value of one sample line of the Prometheus text, or 0 when the series is absent. */
function sample(text: string, name: string, labels: Record<string, string>): number {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split("\n")) {
    if (line.startsWith(`${name}{`) && wanted.every(label => line.includes(label))) {
      return Number(line.slice(line.lastIndexOf(" ") + 1));
    }
  }
  return 0;
}

describe("GET /metrics", () => {
  let gateway: TestGateway;
  const scrape = async () => {
    const response = await request(gateway.url.replace(/\/graphql$/, "/metrics"));
    return { status: response.statusCode, text: await response.body.text() };
  };

  beforeAll(async () => {
    gateway = await startTestGateway({ CACHE_URL: "memory" }, { sandbox: { seed: 3 } });
  });
  afterAll(async () => {
    await gateway.stop();
  });

  it("counts the operation, its upstream commands, batch sizes and cache traffic", async () => {
    const before = await scrape();
    const query = `query Dashboard { certificates(first: 3) { nodes { id domains class { name } } } }`;

    const first = await gateway.queryRaw({ query, operationName: "Dashboard" });
    const second = await gateway.queryRaw({ query, operationName: "Dashboard" });
    const after = await scrape();

    expect(first.body.errors).toBeUndefined();
    expect(second.body.errors).toBeUndefined();
    expect(after.status).toBe(200);
    const delta = (name: string, labels: Record<string, string>) =>
      sample(after.text, name, labels) - sample(before.text, name, labels);
    expect(
      delta("gateway_graphql_requests_total", { operation: "Dashboard", outcome: "success" }),
    ).toBe(2);
    // Cold: one list and one status per certificate; warm: nothing new from the upstream.
    expect(delta("gateway_upstream_requests_total", { command: "QueryCertificateList" })).toBe(1);
    expect(delta("gateway_upstream_requests_total", { command: "StatusCertificate" })).toBe(
      gateway.sandbox.callsTo("StatusCertificate").length,
    );
    expect(after.text).toMatch(/gateway_dataloader_batch_size_count\{loader="certificate"\} [1-9]/);
    // Warm: the whole response comes from the store (src/response-cache.ts).
    expect(after.text).toMatch(/gateway_cache_hits_total\{namespace="response"\} [1-9]/);
  });
});
