import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { getVariableValues, Kind, parse } from "graphql";
import { request } from "undici";
import { buildGatewaySchema } from "../../src/build-schema";
import { EXPLORER_DOCUMENT, EXPLORER_VARIABLES } from "../../src/explorer-document";
import { startTestGateway, type TestGateway } from "../helpers/gateway";

async function openInBrowser(url: string) {
  const response = await request(url, { headers: { accept: "text/html" } });
  return { status: response.statusCode, html: await response.body.text() };
}

describe("EXPLORER_DOCUMENT", () => {
  it("is a welcome followed by every file of examples/ as written, in file-name order", () => {
    const dir = join(__dirname, "../../examples");
    const sources = readdirSync(dir)
      .filter(name => name.endsWith(".graphql"))
      .sort()
      .map(name => readFileSync(join(dir, name), "utf8"));

    expect(sources.length).toBeGreaterThan(0);
    expect(EXPLORER_DOCUMENT.endsWith(sources.join("\n"))).toBe(true);
    expect(EXPLORER_DOCUMENT).toMatch(/^# Welcome/);
  });

  it("has EXPLORER_VARIABLES for every variable its operations require", async () => {
    const schema = await buildGatewaySchema();
    const operations = parse(EXPLORER_DOCUMENT).definitions.flatMap(d =>
      d.kind === Kind.OPERATION_DEFINITION ? [d] : [],
    );

    const problems = operations.flatMap(operation =>
      (
        getVariableValues(schema, operation.variableDefinitions ?? [], EXPLORER_VARIABLES).errors ??
        []
      ).map(error => `${operation.name?.value ?? "?"}: ${error.message}`),
    );

    expect(operations.length).toBeGreaterThanOrEqual(14);
    expect(problems).toEqual([]);
  });
});

describe("GET /graphql in a browser", () => {
  describe("outside production", () => {
    let gateway: TestGateway;
    beforeAll(async () => {
      gateway = await startTestGateway();
    });
    afterAll(async () => {
      await gateway.stop();
    });

    it("shows the embedded Apollo Sandbox with the example operation", async () => {
      const page = await openInBrowser(gateway.url);

      expect(page.status).toBe(200);
      expect(page.html).toContain("EmbeddedSandbox");
      expect(page.html).toContain("query Dashboard");
      expect(page.html).toContain("mutation OrderWithDnsValidation");
      expect(page.html).toContain("certificateClasses");
    });

    it("runs the example operations as a newcomer would: order, follow, download", async () => {
      const run = (operationName: string, variables: object = EXPLORER_VARIABLES) =>
        gateway.queryRaw({ query: EXPLORER_DOCUMENT, operationName, variables });

      const ordered = await run("OrderWithDnsValidation");
      const again = await run("OrderWithDnsValidation");
      const id: string = ordered.body.data.orderCertificate.id;
      const followed = await run("Certificate", { ...EXPLORER_VARIABLES, id });
      const dashboard = await run("Dashboard");
      const products = await run("Products");

      expect(ordered.body.errors).toBeUndefined();
      expect(ordered.body.data.orderCertificate.domains).toEqual([
        "shop.example.com",
        "www.shop.example.com",
      ]);
      expect(again.body.data.orderCertificate.id).toBe(id);
      expect(gateway.sandbox.callsTo("AddCertificate")).toHaveLength(1);
      expect(followed.body.data.certificate.status).toBe("ACTIVE");
      expect(followed.body.data.certificate.chain).toContain("-----BEGIN CERTIFICATE-----");
      const listed = dashboard.body.data.certificates.nodes as { id: string }[];
      expect(listed.map(c => c.id)).toContain(id);
      expect(products.body.data.certificateClasses.length).toBe(20);
    });

    it("answers health and readiness probes", async () => {
      const base = gateway.url.replace(/\/graphql$/, "");
      const health = await request(`${base}/healthz`);
      const ready = await request(`${base}/readyz`);

      expect(health.statusCode).toBe(200);
      expect(await health.body.json()).toEqual({ status: "ok" });
      expect(ready.statusCode).toBe(200);
      await ready.body.dump();
    });

    it("answers 404 with a code for paths other than /graphql", async () => {
      const response = await request(gateway.url.replace(/\/graphql$/, "/nothing-here"));
      const body = (await response.body.json()) as { errors: { extensions: { code: string } }[] };

      expect(response.statusCode).toBe(404);
      expect(body.errors[0]?.extensions.code).toBe("NOT_FOUND");
    });
  });

  describe("in production", () => {
    let gateway: TestGateway;
    beforeAll(async () => {
      gateway = await startTestGateway({ NODE_ENV: "production" });
    });
    afterAll(async () => {
      await gateway.stop();
    });

    it("serves no explorer unless GATEWAY_EXPLORER enables it", async () => {
      const page = await openInBrowser(gateway.url);

      expect(page.html).not.toContain("EmbeddedSandbox");
      expect(page.status).toBeGreaterThanOrEqual(400);
    });
  });
});
