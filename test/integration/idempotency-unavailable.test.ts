import { createMemoryIdempotencyStore } from "../../src/idempotency";
import { OrderCertificateDocument } from "../__generated__/graphql";
import { startTestGateway, type TestGateway } from "../helpers/gateway";
import { makeCsr } from "../helpers/pki";

describe("Mutation.orderCertificate when idempotency keys cannot be claimed", () => {
  let gateway: TestGateway;

  beforeAll(async () => {
    const store = createMemoryIdempotencyStore();
    await store.close();
    gateway = await startTestGateway({}, { overrides: { idempotency: store } });
  });

  afterAll(async () => {
    await gateway.stop();
  });

  it("refuses an order with a key and sends nothing", async () => {
    const result = await gateway.query(OrderCertificateDocument, {
      input: {
        class: "ssl123dv",
        domains: ["unclaimed.example.com"],
        csr: makeCsr({ commonName: "unclaimed.example.com" }).csrPem,
        dcvMethod: "DNS_TXT",
        techContact: { id: "P-ABC123" },
      },
      idempotencyKey: "key-unclaimed",
    });

    expect(result.data).toBeNull();
    expect(result.errors?.[0]?.extensions?.code).toBe("IDEMPOTENCY_UNAVAILABLE");
    expect(gateway.sandbox.callsTo("AddCertificate")).toEqual([]);
  });
});
