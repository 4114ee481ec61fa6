import {
  CertificateDocument,
  CertificatesDocument,
  OrderCertificateDocument,
  type OrderCertificateInput,
} from "../__generated__/graphql";
import { startTestGateway, type TestGateway } from "../helpers/gateway";
import { makeCsr } from "../helpers/pki";

const PASSWORD = "Sup3r-Secret-Pw";

describe("upstream failures as GraphQL errors", () => {
  let gateway: TestGateway;
  let certificateId: string;

  beforeAll(async () => {
    gateway = await startTestGateway(
      { RRPPROXY_RETRIES: "0", RRPPROXY_TIMEOUT_MS: "400", GATEWAY_EXPOSE_ERROR_DETAILS: "0" },
      { sandbox: { seed: 1, accounts: [{ login: "reseller", password: PASSWORD }] } },
    );
    const list = await gateway.query(CertificatesDocument, { first: 1 });
    certificateId = list.data!.certificates.edges[0]!.node.id;
  });

  afterAll(async () => {
    await gateway.stop();
  });

  beforeEach(() => {
    gateway.sandbox.resetCalls();
  });

  function orderInput(domain: string): OrderCertificateInput {
    return {
      class: "ssl123dv",
      domains: [domain],
      csr: makeCsr({ commonName: domain }).csrPem,
      dcvMethod: "DNS_TXT",
      techContact: { id: "P-ABC123" },
    };
  }

  it("answers a rejected read with UPSTREAM_REJECTED and the upstream's code and description", async () => {
    gateway.sandbox.failNext("StatusCertificate", {
      code: 549,
      description: "Command failed; disk on fire",
    });

    const result = await gateway.query(CertificateDocument, { id: certificateId });

    expect(result.errors?.[0]).toMatchObject({
      message: "The upstream API rejected the request; see upstreamCode and upstreamDescription",
      path: ["certificate"],
      extensions: {
        code: "UPSTREAM_REJECTED",
        command: "StatusCertificate",
        upstreamCode: 549,
        upstreamDescription: "Command failed; disk on fire",
      },
    });
  });

  it.each([
    [
      { code: 421, description: "Command failed due to server error. Client should try again" },
      "UPSTREAM_TEMPORARY",
    ],
    ["reset" as const, "UPSTREAM_UNAVAILABLE"],
    ["garbage" as const, "UPSTREAM_PROTOCOL"],
  ])("answers the fault %j of a read as %s", async (fault, code) => {
    gateway.sandbox.failNext("QueryCertificateList", fault);

    const result = await gateway.query(CertificatesDocument, { first: 1 });

    expect(result.errors?.[0]?.extensions?.code).toBe(code);
    expect(result.errors?.[0]?.extensions?.command).toBe("QueryCertificateList");
  });

  it("answers a read that takes too long as UPSTREAM_TIMEOUT", async () => {
    gateway.sandbox.delayNext("QueryCertificateList", 2000);

    const result = await gateway.query(CertificatesDocument, { first: 1 });

    expect(result.errors?.[0]?.extensions?.code).toBe("UPSTREAM_TIMEOUT");
  });

  it("answers a reply it cannot decode as UPSTREAM_PROTOCOL", async () => {
    gateway.sandbox.failNext("StatusCertificate", {
      code: 200,
      description: "Command completed successfully",
    });

    const result = await gateway.query(CertificateDocument, { id: certificateId });

    expect(result.errors?.[0]?.extensions).toEqual({ code: "UPSTREAM_PROTOCOL" });
  });

  it("never shows the password, even when the upstream repeats it", async () => {
    gateway.sandbox.failNext("StatusCertificate", {
      code: 530,
      description: `Authentication failed; login reseller with password ${PASSWORD}`,
    });

    const response = await gateway.queryRaw({
      query: "query ($id: ID!) { certificate(id: $id) { id status } }",
      variables: { id: certificateId },
    });

    expect(response.body.errors[0].extensions.code).toBe("UPSTREAM_AUTHENTICATION");
    expect(JSON.stringify(response.body)).not.toContain(PASSWORD);
    expect(JSON.stringify(response.body)).not.toContain(encodeURIComponent(PASSWORD));
  });

  it("answers an order whose outcome is unknown as UPSTREAM_OUTCOME_UNKNOWN and does not resend it while it may still run", async () => {
    const input = orderInput("unknown-outcome.example.com");
    gateway.sandbox.failNext("AddCertificate", "reset");

    const first = await gateway.query(OrderCertificateDocument, {
      input,
      idempotencyKey: "key-unknown",
    });
    const again = await gateway.query(OrderCertificateDocument, {
      input,
      idempotencyKey: "key-unknown",
    });

    expect(first.errors?.[0]?.extensions?.code).toBe("UPSTREAM_OUTCOME_UNKNOWN");
    expect(again.errors?.[0]?.extensions?.code).toBe("UPSTREAM_OUTCOME_UNKNOWN");
    expect(gateway.sandbox.callsTo("AddCertificate")).toHaveLength(1);
  });

  it("lets a corrected retry with the same key through after a definite rejection", async () => {
    const input = orderInput("retry.example.com");
    gateway.sandbox.failNext("AddCertificate", { code: 549, description: "Command failed" });

    const first = await gateway.query(OrderCertificateDocument, {
      input,
      idempotencyKey: "key-retry",
    });
    const again = await gateway.query(OrderCertificateDocument, {
      input,
      idempotencyKey: "key-retry",
    });

    expect(first.errors?.[0]?.extensions).toMatchObject({
      code: "UPSTREAM_REJECTED",
      upstreamCode: 549,
    });
    expect(again.errors).toBeUndefined();
    expect(gateway.sandbox.callsTo("AddCertificate")).toHaveLength(2);
  });
});
