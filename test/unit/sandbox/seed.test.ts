import { parseCsr } from "../../../src/pki/csr";
import { parseCertificate } from "../../../src/pki/x509";
import { createSandboxCa, type SandboxCa } from "../../../src/sandbox/ca";
import { createIdAllocator } from "../../../src/sandbox/ids";
import { createSampleCsrFactory } from "../../../src/sandbox/sample-csr";
import { SEED_SCENARIOS, seedAccount } from "../../../src/sandbox/seed";
import { certificateStatus, orderStatus, SandboxStore } from "../../../src/sandbox/store";

const NOW = new Date("2026-11-20T08:30:00Z");

describe("seedAccount", () => {
  let ca: SandboxCa;

  beforeAll(async () => {
    ca = await createSandboxCa({ now: () => NOW });
  }, 30_000);

  async function seeded(count: number) {
    const store = new SandboxStore(createIdAllocator());
    const account = store.account("demo");
    await seedAccount({ store, ca, account }, count, NOW);
    return account;
  }

  it("is deterministic for a given count", async () => {
    const summary = async () => {
      const account = await seeded(24);
      return [...account.certificates.values()].map(c => [
        c.id,
        c.orderId,
        c.cls.id,
        c.domains.map(d => d.name).join(","),
        c.dcvMethod,
        certificateStatus(c, NOW),
        c.createdAt.toISOString(),
        c.issued?.notAfter.toISOString() ?? "",
      ]);
    };
    expect(await summary()).toEqual(await summary());
  });

  it("covers every scenario with real certificates and shared contacts", async () => {
    const account = await seeded(SEED_SCENARIOS.length * 2);
    const certs = [...account.certificates.values()];
    const statuses = new Set(certs.map(c => certificateStatus(c, NOW)));
    expect([...statuses].sort()).toEqual([
      "active",
      "canceled",
      "expired",
      "failed",
      "processing",
      "revoked",
    ]);
    const orders = [...account.orders.values()];
    expect(orders).toHaveLength(SEED_SCENARIOS.length * 2 + 2); // two renewal orders
    expect(orders.some(o => o.certificateIds.length === 2)).toBe(true);
    expect(new Set(orders.map(o => orderStatus(o, account.certificates, NOW)))).toEqual(
      new Set(["active", "processing", "canceled", "expired", "failed"]),
    );
    expect(account.contacts.size).toBe(5);
    for (const cert of certs.filter(c => c.issued)) {
      const info = parseCertificate(cert.issued?.certPem ?? "");
      expect(info.subjectAltNames).toEqual(cert.domains.map(d => d.name));
      expect(info.notAfter.getTime()).toBe(cert.issued?.notAfter.getTime());
      expect(parseCsr(cert.csrPem).signatureValid).toBe(true);
    }
    expect(certs.every(c => c.createdAt.getTime() <= NOW.getTime())).toBe(true);
    const events = [...account.events.values()];
    const dates = events.map(e => e.date.getTime());
    expect(dates).toEqual([...dates].sort((a, b) => a - b));
  });

  it("seeds 200 certificates quickly", async () => {
    const started = Date.now();
    const account = await seeded(200);
    const elapsed = Date.now() - started;
    expect(account.orders.size).toBeGreaterThanOrEqual(200);
    expect(elapsed).toBeLessThan(15_000);
  }, 30_000);
});

describe("createSampleCsrFactory", () => {
  it("makes valid requests with the names asked for", () => {
    for (const keyType of ["ec", "rsa"] as const) {
      const csr = parseCsr(
        createSampleCsrFactory(keyType).make({
          commonName: "a.example.com",
          altNames: ["a.example.com", "*.b.example.com"],
          organization: "Example Corp",
          country: "DE",
        }),
      );
      expect(csr.signatureValid).toBe(true);
      expect(csr.subject).toBe("C = DE, O = Example Corp, CN = a.example.com");
      expect(csr.subjectAltNames).toEqual(["a.example.com", "*.b.example.com"]);
      expect(csr.keyAlgorithm).toBe(keyType === "ec" ? "id-ecPublicKey" : "rsaEncryption");
    }
  });
});
