import { publicKeyFingerprint } from "../../../src/pki/csr";
import { PemError } from "../../../src/pki/errors";
import { parseCertificate } from "../../../src/pki/x509";
import { type CaBrand, type SandboxCa, createSandboxCa } from "../../../src/sandbox/ca";
import { OPENSSL, makeCsr, runOpenssl, withBrokenSignature } from "../../helpers/pki";

const itWithOpenssl = OPENSSL ? it : it.skip;
if (!OPENSSL) {
  // eslint-disable-next-line no-console -- tell the reader why the chain checks did not run
  console.warn("openssl not found on PATH: skipping `openssl verify` in sandbox-ca.test.ts");
}

const DAY_MS = 24 * 3600 * 1000;

function currentValidity(): { notBefore: Date; notAfter: Date } {
  const now = Math.floor(Date.now() / 1000) * 1000;
  return { notBefore: new Date(now - DAY_MS), notAfter: new Date(now + 90 * DAY_MS) };
}

function opensslVerify(rootPem: string, intermediatePem: string, leafPem: string): string {
  const result = runOpenssl(
    [
      "verify",
      "-x509_strict",
      "-purpose",
      "sslserver",
      "-CAfile",
      "root.pem",
      "-untrusted",
      "intermediate.pem",
      "leaf.pem",
    ],
    { "root.pem": rootPem, "intermediate.pem": intermediatePem, "leaf.pem": leafPem },
  );
  return `${result.stdout}${result.stderr}`.trim();
}

describe("createSandboxCa", () => {
  let ca: SandboxCa;

  beforeAll(async () => {
    ca = await createSandboxCa();
  });

  it("creates a self-signed root and one pathlen:0 intermediate per brand", () => {
    const root = parseCertificate(ca.rootPem);
    const digiCert = parseCertificate(ca.intermediatePem("DigiCert"));
    const sectigo = parseCertificate(ca.intermediatePem("Sectigo"));

    expect(root).toMatchObject({
      subject: "C = DE, O = RRPproxy Sandbox, CN = RRPproxy Sandbox Root CA",
      issuer: "C = DE, O = RRPproxy Sandbox, CN = RRPproxy Sandbox Root CA",
      isCa: true,
      keyUsage: ["Certificate Sign", "CRL Sign"],
      keyUsageCritical: true,
      keySize: 2048,
    });
    expect(digiCert.subjectFields.commonName).toBe("RRPproxy Sandbox DigiCert-style TLS CA");
    expect(sectigo.subjectFields.commonName).toBe("RRPproxy Sandbox Sectigo-style TLS CA");
    for (const intermediate of [digiCert, sectigo]) {
      expect(intermediate).toMatchObject({
        issuer: root.subject,
        isCa: true,
        pathLength: 0,
        keyUsage: ["Certificate Sign", "CRL Sign"],
        signatureAlgorithm: "sha256WithRSAEncryption",
        authorityKeyIdentifier: root.subjectKeyIdentifier,
      });
      expect(intermediate.subjectKeyIdentifier).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2}){19}$/);
    }
  });

  it("dates the CA certificates around the injected clock", async () => {
    const now = new Date("2030-06-15T10:20:30.456Z");
    const clocked = await createSandboxCa({ now: () => now });

    const root = parseCertificate(clocked.rootPem);
    const intermediate = parseCertificate(clocked.intermediatePem("Sectigo"));

    expect(root.notBefore).toEqual(new Date("2020-06-15T10:20:30Z"));
    expect(root.notAfter).toEqual(new Date("2055-06-15T10:20:30Z"));
    expect(intermediate.notAfter).toEqual(new Date("2050-06-15T10:20:30Z"));
  });

  describe.each(["DigiCert", "Sectigo"] as const)("issue (%s)", (brand: CaBrand) => {
    itWithOpenssl(
      "issues a leaf that `openssl verify` accepts against the brand's chain",
      async () => {
        const { csrPem } = makeCsr({ commonName: "ignored.example" });

        const issued = await ca.issue({
          csrPem,
          domains: ["shop.example", "www.shop.example"],
          brand,
          ...currentValidity(),
        });

        expect(issued.rootPem).toBe(ca.rootPem);
        expect(issued.intermediatePem).toBe(ca.intermediatePem(brand));
        expect(opensslVerify(issued.rootPem, issued.intermediatePem, issued.certPem)).toBe(
          "leaf.pem: OK",
        );
        const other: CaBrand = brand === "DigiCert" ? "Sectigo" : "DigiCert";
        expect(opensslVerify(issued.rootPem, ca.intermediatePem(other), issued.certPem)).toMatch(
          /unable to get local issuer certificate/,
        );
      },
    );

    it("certifies the CSR's key for the requested names and period", async () => {
      const { csrPem } = makeCsr({ commonName: "ignored.example", altNames: ["ignored.example"] });
      const notBefore = new Date("2025-02-03T04:05:06Z");
      const notAfter = new Date("2026-02-03T04:05:06Z");

      const issued = await ca.issue({
        csrPem,
        domains: ["example.com", "*.example.com", "example.net"],
        brand,
        notBefore,
        notAfter,
      });
      const leaf = parseCertificate(issued.certPem);
      const intermediate = parseCertificate(issued.intermediatePem);

      expect(leaf).toMatchObject({
        subject: "CN = example.com",
        issuer: intermediate.subject,
        subjectAltNames: ["example.com", "*.example.com", "example.net"],
        notBefore,
        notAfter,
        serialNumber: issued.serialNumber,
        version: 3,
        keyAlgorithm: "rsaEncryption",
        keySize: 2048,
        signatureAlgorithm: "sha256WithRSAEncryption",
        keyUsage: ["Digital Signature", "Key Encipherment"],
        keyUsageCritical: true,
        extendedKeyUsage: ["TLS Web Server Authentication", "TLS Web Client Authentication"],
        isCa: false,
        authorityKeyIdentifier: intermediate.subjectKeyIdentifier,
      });
      expect(publicKeyFingerprint(issued.certPem)).toBe(publicKeyFingerprint(csrPem));
      expect(issued.serialNumber).toMatch(/^[4-7][0-9a-f](:[0-9a-f]{2}){15}$/);
    });
  });

  itWithOpenssl("issues for an EC P-256 CSR with a signature-only key usage", async () => {
    const { csrPem } = makeCsr({ commonName: "ec.example", keyType: "ec" });

    const issued = await ca.issue({
      csrPem,
      domains: ["ec.example"],
      brand: "Sectigo",
      ...currentValidity(),
    });
    const leaf = parseCertificate(issued.certPem);

    expect(leaf).toMatchObject({
      keyAlgorithm: "id-ecPublicKey",
      keySize: 256,
      keyUsage: ["Digital Signature"],
      signatureAlgorithm: "sha256WithRSAEncryption",
    });
    expect(publicKeyFingerprint(issued.certPem)).toBe(publicKeyFingerprint(csrPem));
    expect(opensslVerify(issued.rootPem, issued.intermediatePem, issued.certPem)).toBe(
      "leaf.pem: OK",
    );
  });

  it("puts the organisation of an OV/EV order in the subject", async () => {
    const { csrPem } = makeCsr({ commonName: "ov.example" });

    const issued = await ca.issue({
      csrPem,
      domains: ["ov.example"],
      brand: "DigiCert",
      ...currentValidity(),
      organization: { name: "#1 Example, GmbH", country: "de", city: "Köln", state: "NRW" },
    });

    expect(parseCertificate(issued.certPem)).toMatchObject({
      subject: 'C = DE, ST = NRW, L = Köln, O = "#1 Example, GmbH", CN = ov.example',
      subjectFields: { organization: "#1 Example, GmbH", locality: "Köln" },
    });
  });

  it("gives every certificate a fresh serial", async () => {
    const { csrPem } = makeCsr({ commonName: "serial.example" });
    const request = {
      csrPem,
      domains: ["serial.example"],
      brand: "DigiCert",
      ...currentValidity(),
    } as const;

    const serials = await Promise.all(
      Array.from({ length: 20 }, async () => (await ca.issue(request)).serialNumber),
    );

    expect(new Set(serials).size).toBe(20);
  });

  it("issues certificates valid past 2049", async () => {
    const notAfter = new Date("2060-01-01T00:00:00Z");

    const issued = await ca.issue({
      csrPem: makeCsr({ commonName: "long.example" }).csrPem,
      domains: ["long.example"],
      brand: "Sectigo",
      notBefore: new Date("2040-01-01T00:00:00Z"),
      notAfter,
    });

    expect(parseCertificate(issued.certPem).notAfter).toEqual(notAfter);
  });

  it("refuses a CSR whose signature does not verify, junk, and an empty domain list", async () => {
    const { csrPem } = makeCsr({ commonName: "bad.example" });
    const base = { domains: ["bad.example"], brand: "DigiCert", ...currentValidity() } as const;

    await expect(ca.issue({ ...base, csrPem: withBrokenSignature(csrPem) })).rejects.toMatchObject({
      name: "PemError",
      reason: "BAD_SIGNATURE",
    });
    await expect(ca.issue({ ...base, csrPem: "garbage" })).rejects.toBeInstanceOf(PemError);
    await expect(ca.issue({ ...base, csrPem, domains: [] })).rejects.toBeInstanceOf(RangeError);
    await expect(
      ca.issue({ ...base, csrPem, organization: { name: "X", country: "Germany" } }),
    ).rejects.toBeInstanceOf(RangeError);
  });
});
