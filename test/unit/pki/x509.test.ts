import { X509Certificate as NodeX509Certificate } from "node:crypto";
import { PemError, type PemErrorReason } from "../../../src/pki/errors";
import { isCertificatePem, parseCertificate, splitPemBundle } from "../../../src/pki/x509";
import { OPENSSL, makeCsr, makeSelfSignedCertificate, runOpenssl } from "../../helpers/pki";

const itWithOpenssl = OPENSSL ? it : it.skip;
if (!OPENSSL) {
  // eslint-disable-next-line no-console -- tell the reader why the cross-checks did not run
  console.warn("openssl not found on PATH: skipping the OpenSSL cross-checks in x509.test.ts");
}

function reasonOf(fn: () => unknown): PemErrorReason | "no error" | "other error" {
  try {
    fn();
    return "no error";
  } catch (error) {
    return error instanceof PemError ? error.reason : "other error";
  }
}

describe("parseCertificate", () => {
  const notBefore = new Date("2024-03-01T12:00:00Z");
  const notAfter = new Date("2024-05-30T12:00:00Z");

  it("reads a self-signed RSA certificate", () => {
    const { certPem } = makeSelfSignedCertificate({
      commonName: "self.example",
      altNames: ["self.example", "www.self.example"],
      organization: "Self Signed, Ltd.",
      country: "GB",
      notBefore,
      notAfter,
    });

    const cert = parseCertificate(certPem);

    expect(cert).toMatchObject({
      subject: 'C = GB, O = "Self Signed, Ltd.", CN = self.example',
      issuer: 'C = GB, O = "Self Signed, Ltd.", CN = self.example',
      subjectFields: {
        country: "GB",
        organization: "Self Signed, Ltd.",
        commonName: "self.example",
      },
      issuerFields: {
        country: "GB",
        organization: "Self Signed, Ltd.",
        commonName: "self.example",
      },
      notBefore,
      notAfter,
      subjectAltNames: ["self.example", "www.self.example"],
      keyAlgorithm: "rsaEncryption",
      keySize: 2048,
      signatureAlgorithm: "sha256WithRSAEncryption",
      version: 3,
      keyUsage: [],
      keyUsageCritical: false,
      extendedKeyUsage: [],
      isCa: false,
    });
    expect(cert.serialNumber).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2}){11}$/);
    expect(cert.pem).toBe(certPem);
  });

  it("matches node:crypto's fingerprint and serial", () => {
    const { certPem } = makeSelfSignedCertificate({ commonName: "fp.example", keyType: "ec" });
    const node = new NodeX509Certificate(certPem);

    const cert = parseCertificate(certPem);

    expect(cert.fingerprintSha256).toBe(node.fingerprint256);
    expect(cert.serialNumber.replace(/:/g, "").toUpperCase()).toBe(node.serialNumber);
    expect(cert).toMatchObject({
      keyAlgorithm: "id-ecPublicKey",
      keySize: 256,
      curve: "prime256v1",
    });
    expect(cert.signatureAlgorithm).toBe("ecdsa-with-SHA256");
  });

  it("reports basicConstraints of a CA certificate", () => {
    const cert = parseCertificate(
      makeSelfSignedCertificate({ commonName: "Test Root", isCa: true }).certPem,
    );

    expect(cert.isCa).toBe(true);
    expect(cert.pathLength).toBeUndefined();
  });

  it("reads dates beyond 2049 (GeneralizedTime)", () => {
    const far = new Date("2051-01-02T03:04:05Z");
    const cert = parseCertificate(
      makeSelfSignedCertificate({ commonName: "far.example", notAfter: far }).certPem,
    );

    expect(cert.notAfter).toEqual(far);
  });

  it("parses the first certificate of a bundle", () => {
    const first = makeSelfSignedCertificate({ commonName: "first.example" }).certPem;
    const second = makeSelfSignedCertificate({ commonName: "second.example" }).certPem;

    expect(parseCertificate(`${first}${second}`).subjectFields.commonName).toBe("first.example");
  });

  it("tolerates the same transport damage as parseCsr", () => {
    const { certPem } = makeSelfSignedCertificate({ commonName: "damaged.example" });
    const lines = certPem.trim().split("\n");

    expect(parseCertificate(lines.join("\\n")).pem).toBe(certPem);
    expect(parseCertificate(`  ${lines.join("\r\n")}  `).pem).toBe(certPem);
    expect(parseCertificate(certPem.replace(/CERTIFICATE/g, "X509 CERTIFICATE")).pem).toBe(certPem);
  });

  it("refuses CSRs, junk and truncated certificates", () => {
    const { certPem } = makeSelfSignedCertificate({ commonName: "x.example" });
    const lines = certPem.trim().split("\n");

    expect(reasonOf(() => parseCertificate(makeCsr({ commonName: "csr.example" }).csrPem))).toBe(
      "WRONG_TYPE",
    );
    expect(reasonOf(() => parseCertificate("certainly not"))).toBe("MALFORMED");
    expect(reasonOf(() => parseCertificate([...lines.slice(0, 6), lines.at(-1)].join("\n")))).toBe(
      "MALFORMED",
    );
  });

  describe("agrees with OpenSSL on a certificate OpenSSL made", () => {
    const { keyPem } = makeCsr({ commonName: "x", keyType: "ec", ecCurve: "P-384" });

    function opensslCertificate(serial: string): string {
      const result = runOpenssl(
        [
          "req",
          "-x509",
          "-key",
          "key.pem",
          "-subj",
          "/C=US/O=DigiCert, Inc./CN=openssl.example",
          "-set_serial",
          serial,
          "-days",
          "30",
          "-addext",
          "subjectAltName=DNS:openssl.example,DNS:*.openssl.example",
          "-addext",
          "keyUsage=critical,digitalSignature",
          "-addext",
          "extendedKeyUsage=serverAuth,clientAuth,codeSigning",
          "-addext",
          "basicConstraints=critical,CA:TRUE,pathlen:2",
        ],
        { "key.pem": keyPem },
      );
      expect(result.stderr).toBe("");
      return result.stdout;
    }

    function opensslPrint(certPem: string, ...flags: string[]): string {
      return runOpenssl(["x509", "-in", "cert.pem", "-noout", ...flags], { "cert.pem": certPem })
        .stdout;
    }

    itWithOpenssl("reports what `openssl x509` prints", () => {
      const certPem = opensslCertificate("0x1a2b3c4d5e6f7a8b9c");

      const cert = parseCertificate(certPem);

      expect(`subject=${cert.subject}\n`).toBe(opensslPrint(certPem, "-subject"));
      expect(`issuer=${cert.issuer}\n`).toBe(opensslPrint(certPem, "-issuer"));
      expect(`sha256 Fingerprint=${cert.fingerprintSha256}\n`).toBe(
        opensslPrint(certPem, "-fingerprint", "-sha256"),
      );
      expect(cert.serialNumber).toBe("1a:2b:3c:4d:5e:6f:7a:8b:9c");
      expect(cert).toMatchObject({
        subjectAltNames: ["openssl.example", "*.openssl.example"],
        keyUsage: ["Digital Signature"],
        keyUsageCritical: true,
        extendedKeyUsage: [
          "TLS Web Server Authentication",
          "TLS Web Client Authentication",
          "Code Signing",
        ],
        isCa: true,
        pathLength: 2,
        keyAlgorithm: "id-ecPublicKey",
        keySize: 384,
        curve: "secp384r1",
        signatureAlgorithm: "ecdsa-with-SHA256",
      });
      expect(cert.subjectKeyIdentifier).toBe(cert.authorityKeyIdentifier);
      const skiLine = opensslPrint(certPem, "-ext", "subjectKeyIdentifier").split("\n")[1]!;
      expect(cert.subjectKeyIdentifier).toBe(skiLine.trim().toLowerCase());
    });

    itWithOpenssl("keeps the DER sign octet of a serial, as the manual shows `00:aa:...`", () => {
      const cert = parseCertificate(opensslCertificate("0xaabbccddeeff11223344556677889900"));

      expect(cert.serialNumber).toBe("00:aa:bb:cc:dd:ee:ff:11:22:33:44:55:66:77:88:99:00");
    });
  });
});

describe("splitPemBundle", () => {
  const a = makeSelfSignedCertificate({ commonName: "a.example" }).certPem;
  const b = makeSelfSignedCertificate({ commonName: "b.example" }).certPem;
  const { csrPem } = makeCsr({ commonName: "c.example" });

  it("returns each block in order, canonically encoded", () => {
    const bundle = `subject=CN = a.example\r\n${a.replace(/\n/g, "\r\n")}\r\n\r\n${b.trimEnd()}${csrPem}`;

    expect(splitPemBundle(bundle)).toEqual([a, b, csrPem]);
  });

  it("returns nothing for text without PEM armour", () => {
    expect(splitPemBundle("")).toEqual([]);
    expect(splitPemBundle("no certificates here")).toEqual([]);
  });

  it("refuses a bundle with a damaged block", () => {
    expect(reasonOf(() => splitPemBundle(`${a}${b.slice(0, 120)}`))).toBe("MALFORMED");
  });
});

describe("isCertificatePem", () => {
  it("recognises certificate armour without parsing the ASN.1", () => {
    const { certPem } = makeSelfSignedCertificate({ commonName: "g.example" });

    expect(isCertificatePem(certPem)).toBe(true);
    expect(isCertificatePem(makeCsr({ commonName: "g.example" }).csrPem)).toBe(false);
    expect(isCertificatePem("-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----")).toBe(
      false,
    );
    expect(isCertificatePem("")).toBe(false);
  });
});
