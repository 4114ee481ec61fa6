import { runExample } from "../../sdk/example";
import {
  CertificateDocument,
  createGatewayClient,
  DashboardDocument,
  type FetchLike,
  type GatewayClient,
  GatewayRequestError,
  idempotencyKey,
  OrderWithDnsValidationDocument,
  ProductsDocument,
  RevokeCertificateDocument,
} from "../../sdk/src/index";
import { startTestGateway, type TestGateway } from "../helpers/gateway";
import { makeCsr } from "../helpers/pki";

const PARTNER_KEY = "partner-key-0123456789abcdef";
const VIEWER_KEY = "viewer-key-0123456789abcdef";
const TECH = {
  firstName: "Ada",
  lastName: "Lovelace",
  email: "ada@example.com",
  phone: "+44.2071234567",
};

/** The rejection of `promise`, which must be a GatewayRequestError. */
async function gatewayError(promise: Promise<unknown>): Promise<GatewayRequestError> {
  const error: unknown = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(GatewayRequestError);
  return error as GatewayRequestError;
}

describe("the partners' SDK (sdk/)", () => {
  let gateway: TestGateway;
  let client: GatewayClient;

  beforeAll(async () => {
    // Validation passes when the CA is asked to look (ResendValidation), as the example does.
    gateway = await startTestGateway(
      { GATEWAY_API_KEYS: `partner:read+order+manage:${PARTNER_KEY},viewer:read:${VIEWER_KEY}` },
      { sandbox: { issuanceDelayMs: 60_000 } },
    );
    client = createGatewayClient({ url: gateway.url, apiKey: PARTNER_KEY });
  });

  afterAll(async () => {
    await gateway.stop();
  });

  it("runs sdk/example.ts: list, quote, order, follow, download, reissue, revoke, cancel", async () => {
    const published: string[] = [];
    const lines: string[] = [];
    gateway.sandbox.resetCalls();

    const result = await runExample({
      url: gateway.url,
      apiKey: PARTNER_KEY,
      domain: "sdk.example.com",
      csr: makeCsr({ commonName: "sdk.example.com" }).csrPem,
      reissueCsr: makeCsr({ commonName: "sdk.example.com", keySlot: "sdk-reissue" }).csrPem,
      techContact: TECH,
      publishDnsRecords: records => {
        published.push(...records.map(r => `${r.domain} ${r.dnsRecord}`));
      },
      pollIntervalMs: 10,
      log: line => lines.push(line),
    });

    expect(result.quote.domains).toEqual(["sdk.example.com", "www.sdk.example.com"]);
    expect(Number(result.quote.price)).toBeGreaterThan(0);
    expect(result.certificate).toMatchObject({
      status: "ACTIVE",
      domains: ["sdk.example.com", "www.sdk.example.com"],
      chain: expect.stringMatching(/^-----BEGIN CERTIFICATE-----/),
    });
    expect(published).toEqual([
      expect.stringMatching(/^sdk\.example\.com @ 3600 IN TXT /),
      expect.stringMatching(/^sdk\.example\.com @ 3600 IN TXT /),
      expect.stringMatching(/^sdk\.example\.com @ 3600 IN TXT /),
      expect.stringMatching(/^sdk\.example\.com @ 3600 IN TXT /),
    ]);
    expect(result.reissued.status).toBe("ACTIVE");
    expect(result.reissued.order.id).toBe(result.certificate.order.id);
    expect(result.reissued.x509?.fingerprintSha256).not.toBe(
      result.certificate.x509?.fingerprintSha256,
    );
    expect(result.revokedStatus).toBe("REVOKED");
    expect(result.canceled.status).toBe("CANCELED");
    expect(result.refusedCancel.code).toBe("UPSTREAM_REJECTED");
    expect(gateway.sandbox.callsTo("AddCertificate").map(c => c.params.checkonly ?? "")).toEqual([
      "1",
      "",
      "",
    ]);
    expect(lines).toHaveLength(8);
  });

  it("orders once per idempotency key, however often the request is sent", async () => {
    const variables = {
      class: "ssl123dv",
      domains: ["once.sdk.example.com"],
      csr: makeCsr({ commonName: "once.sdk.example.com" }).csrPem,
      techContact: TECH,
      idempotencyKey: idempotencyKey(),
    };
    gateway.sandbox.resetCalls();

    const first = await client.request(OrderWithDnsValidationDocument, variables);
    const again = await client.request(OrderWithDnsValidationDocument, variables);

    expect(again.orderCertificate.id).toBe(first.orderCertificate.id);
    expect(gateway.sandbox.callsTo("AddCertificate")).toHaveLength(1);
    expect(variables.idempotencyKey).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(idempotencyKey()).not.toBe(variables.idempotencyKey);
  });

  it("answers typed data for operations with optional or no variables", async () => {
    const { certificateClasses } = await client.request(ProductsDocument);
    const { certificates } = await client.request(DashboardDocument, { first: 1 });
    const { certificate } = await client.request(CertificateDocument, { id: "DK99999999" });

    expect(certificateClasses).toHaveLength(20);
    expect(certificates.nodes.length).toBeLessThanOrEqual(1);
    expect(certificate).toBeNull();
  });

  it("rejects with a GatewayRequestError carrying extensions.code and the HTTP status", async () => {
    const anonymous = createGatewayClient({ url: gateway.url });
    const viewer = createGatewayClient({ url: gateway.url, apiKey: VIEWER_KEY });

    const unauthenticated = await gatewayError(anonymous.request(ProductsDocument));
    const forbidden = await gatewayError(
      viewer.request(RevokeCertificateDocument, { id: "DK99999999" }),
    );
    const notFound = await gatewayError(
      client.request(RevokeCertificateDocument, { id: "DK99999999" }),
    );
    const badInput = await gatewayError(
      client.request(OrderWithDnsValidationDocument, {
        class: "ssl123dv",
        domains: ["bad input.example.com"],
        csr: makeCsr({ commonName: "bad.example.com" }).csrPem,
        techContact: TECH,
      }),
    );

    expect([unauthenticated.code, unauthenticated.status]).toEqual(["UNAUTHENTICATED", 401]);
    expect([forbidden.code, forbidden.status]).toEqual(["FORBIDDEN", 403]);
    expect(notFound.code).toBe("NOT_FOUND");
    expect(notFound.errors[0]?.path).toEqual(["revokeCertificate"]);
    expect(badInput.code).toBe("BAD_USER_INPUT");
    expect(badInput.codes).toEqual(["BAD_USER_INPUT"]);
    expect(badInput.errors[0]?.extensions?.violations).toEqual(
      expect.arrayContaining([expect.objectContaining({ field: "domains[0]" })]),
    );
    expect(badInput.name).toBe("GatewayRequestError");
  });

  it("sends JSON with the operation name and a bearer key through the fetch it is given", async () => {
    const sent: { url: string; headers: Record<string, string>; body: unknown }[] = [];
    const recording: FetchLike = async (url, init) => {
      sent.push({ url, headers: init.headers, body: JSON.parse(init.body) });
      return fetch(url, init);
    };
    const custom = createGatewayClient({
      url: gateway.url,
      apiKey: PARTNER_KEY,
      fetch: recording,
      headers: { "x-partner": "shop" },
    });

    await custom.request(DashboardDocument, { first: 1 }, { headers: { "x-request-id": "r-1" } });

    expect(sent).toEqual([
      {
        url: gateway.url,
        headers: expect.objectContaining({
          authorization: `Bearer ${PARTNER_KEY}`,
          "content-type": "application/json",
          "x-partner": "shop",
          "x-request-id": "r-1",
        }),
        body: {
          query: expect.stringContaining("query Dashboard"),
          operationName: "Dashboard",
          variables: { first: 1 },
        },
      },
    ]);
  });

  it("rejects an answer that is not GraphQL with code INVALID_RESPONSE", async () => {
    const proxy: FetchLike = () =>
      Promise.resolve({ status: 502, text: () => Promise.resolve("<html>Bad Gateway</html>") });
    const behindProxy = createGatewayClient({ url: gateway.url, fetch: proxy });

    const error = await gatewayError(behindProxy.request(ProductsDocument));

    expect([error.code, error.status, error.errors]).toEqual(["INVALID_RESPONSE", 502, []]);
  });
});
