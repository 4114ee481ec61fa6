import { createPublicKey, generateKeyPairSync, randomBytes } from "node:crypto";
import { parseCsr, isCsrPem, publicKeyFingerprint } from "../../../src/pki/csr";
import { PemError, type PemErrorReason } from "../../../src/pki/errors";
import {
  OPENSSL,
  makeCsr,
  makeSelfSignedCertificate,
  runOpenssl,
  withBrokenSignature,
} from "../../helpers/pki";

const itWithOpenssl = OPENSSL ? it : it.skip;
if (!OPENSSL) {
  // eslint-disable-next-line no-console -- tell the reader why the cross-checks did not run
  console.warn("openssl not found on PATH: skipping the OpenSSL cross-checks in csr.test.ts");
}

function reasonOf(fn: () => unknown): PemErrorReason | "no error" | "other error" {
  try {
    fn();
    return "no error";
  } catch (error) {
    return error instanceof PemError ? error.reason : "other error";
  }
}

function body(pem: string): string {
  return pem.replace(/-----[A-Z ]+-----|\s/g, "");
}

describe("parseCsr", () => {
  it("reads an RSA 2048 request with SANs and an OV subject the way CheckCertificate reports it", () => {
    const { csrPem } = makeCsr({
      commonName: "example.com",
      altNames: ["example.com", "www.example.com"],
      organization: "Example Corp",
      country: "US",
      state: "CA",
      locality: "San Francisco",
    });

    const csr = parseCsr(csrPem);

    expect(csr).toMatchObject({
      commonName: "example.com",
      subject: "C = US, ST = CA, L = San Francisco, O = Example Corp, CN = example.com",
      subjectFields: {
        country: "US",
        state: "CA",
        locality: "San Francisco",
        organization: "Example Corp",
        commonName: "example.com",
      },
      subjectAltNames: ["example.com", "www.example.com"],
      keyAlgorithm: "rsaEncryption",
      keySize: 2048,
      signatureAlgorithm: "sha256WithRSAEncryption",
      signatureValid: true,
    });
    expect(csr.curve).toBeUndefined();
  });

  it("reports an empty SAN list and only the CN when the request has neither", () => {
    const csr = parseCsr(makeCsr({ commonName: "plain.example" }).csrPem);

    expect(csr.subject).toBe("CN = plain.example");
    expect(csr.subjectFields).toEqual({ commonName: "plain.example" });
    expect(csr.subjectAltNames).toEqual([]);
    expect(csr.keyUsage).toEqual([]);
  });

  it("leaves commonName undefined for a request without CN", () => {
    const csr = parseCsr(makeCsr({ commonName: "", organization: "No CN Ltd" }).csrPem);

    expect(csr.commonName).toBeUndefined();
    expect(csr.subject).toBe("O = No CN Ltd");
  });

  it("reads the OU and emailAddress attributes", () => {
    const csr = parseCsr(
      makeCsr({
        commonName: "mail.example",
        organizationalUnit: "IT",
        email: "hostmaster@mail.example",
      }).csrPem,
    );

    expect(csr.subject).toBe("OU = IT, CN = mail.example, emailAddress = hostmaster@mail.example");
    expect(csr.subjectFields).toEqual({
      organizationalUnit: "IT",
      commonName: "mail.example",
      email: "hostmaster@mail.example",
    });
  });

  it("reports the modulus size of RSA 4096 and 1024 keys", () => {
    expect(parseCsr(makeCsr({ commonName: "big.example", rsaBits: 4096 }).csrPem).keySize).toBe(
      4096,
    );
    // Weak keys still parse, so callers can reject them with their own rule and message.
    expect(parseCsr(makeCsr({ commonName: "weak.example", rsaBits: 1024 }).csrPem).keySize).toBe(
      1024,
    );
  });

  it("reads EC P-256 and P-384 requests", () => {
    const p256 = parseCsr(makeCsr({ commonName: "ec.example", keyType: "ec" }).csrPem);
    const p384 = parseCsr(
      makeCsr({ commonName: "ec.example", keyType: "ec", ecCurve: "P-384", digest: "sha384" })
        .csrPem,
    );

    expect(p256).toMatchObject({
      keyAlgorithm: "id-ecPublicKey",
      keySize: 256,
      curve: "prime256v1",
      signatureAlgorithm: "ecdsa-with-SHA256",
      signatureValid: true,
    });
    expect(p384).toMatchObject({
      keySize: 384,
      curve: "secp384r1",
      signatureAlgorithm: "ecdsa-with-SHA384",
      signatureValid: true,
    });
  });

  it.each([
    ["sha1", "sha1WithRSAEncryption"],
    ["sha384", "sha384WithRSAEncryption"],
    ["sha512", "sha512WithRSAEncryption"],
  ] as const)("names a %s RSA signature %s", (digest, name) => {
    const csr = parseCsr(makeCsr({ commonName: "sig.example", digest }).csrPem);

    expect(csr.signatureAlgorithm).toBe(name);
    expect(csr.signatureValid).toBe(true);
  });

  it("exposes the requested public key as SPKI DER and PEM", () => {
    const { csrPem, keyPem } = makeCsr({ commonName: "key.example", keyType: "ec" });
    const expected = createPublicKey(keyPem).export({ type: "spki", format: "der" });

    const csr = parseCsr(csrPem);

    expect(csr.publicKeySpkiDer.equals(expected)).toBe(true);
    expect(createPublicKey(csr.publicKeyPem).export({ type: "spki", format: "der" })).toEqual(
      expected,
    );
  });

  it("quotes and escapes subject values as OpenSSL's one-line format does", () => {
    const csr = parseCsr(
      makeCsr({
        commonName: "café.example",
        organization: 'Example, "Inc"',
        organizationalUnit: "#1 team",
        locality: "a\\b",
      }).csrPem,
    );

    expect(csr.subject).toBe(
      'L = a\\\\b, O = "Example, \\"Inc\\"", OU = "#1 team", CN = café.example',
    );
    expect(csr.subjectFields.organization).toBe('Example, "Inc"');
  });

  describe("tolerates transport damage to the PEM", () => {
    const { csrPem } = makeCsr({ commonName: "tolerant.example", altNames: ["tolerant.example"] });
    const canonical = parseCsr(csrPem).pem;
    const lines = csrPem.trim().split("\n");

    it.each([
      ["CRLF line endings", lines.join("\r\n")],
      ["surrounding whitespace", `\n\n   ${csrPem}\t\n  `],
      ["surrounding text", `Here is my CSR:\n${csrPem}\nThanks!`],
      ["lines joined with a literal \\n", lines.join("\\n")],
      ["lines joined with a literal \\r\\n", lines.join("\\r\\n")],
      ["no final newline", csrPem.trimEnd()],
      ["lines joined with spaces", lines.join(" ")],
      ["an unwrapped body", `${lines[0]}\n${body(csrPem)}\n${lines[lines.length - 1]}`],
      [
        "the legacy NEW CERTIFICATE REQUEST label",
        csrPem.replace(/CERTIFICATE REQUEST/g, "NEW CERTIFICATE REQUEST"),
      ],
      ["bare base64 DER without armour", body(csrPem)],
    ])("with %s", (_case, damaged) => {
      const csr = parseCsr(damaged);

      expect(csr.pem).toBe(canonical);
      expect(csr.commonName).toBe("tolerant.example");
    });

    it("re-encodes to 64-column PEM with a final newline", () => {
      expect(canonical).toBe(csrPem);
      expect(canonical.endsWith("-----END CERTIFICATE REQUEST-----\n")).toBe(true);
    });
  });

  describe("refuses what is not a usable CSR", () => {
    const { csrPem } = makeCsr({ commonName: "refused.example" });
    const lines = csrPem.trim().split("\n");
    const { certPem } = makeSelfSignedCertificate({ commonName: "cert.example" });
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const keyPem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();

    it.each([
      ["an empty string", ""],
      ["plain words", "hello world, this is not a CSR"],
      ["binary garbage", randomBytes(512).toString("latin1")],
      ["random base64", randomBytes(300).toString("base64")],
      ["a body cut in half", [...lines.slice(0, 5), lines[lines.length - 1]].join("\n")],
      ["a missing END line", lines.slice(0, -1).join("\n")],
      ["a mismatched END label", csrPem.replace("END CERTIFICATE REQUEST", "END CERTIFICATE")],
      [
        "a body with invalid characters",
        csrPem.replace(lines[2]!, `${lines[2]!.slice(0, 60)}!@#$`),
      ],
      [
        "trailing bytes after the DER",
        `-----BEGIN CERTIFICATE REQUEST-----\n${Buffer.concat([
          Buffer.from(body(csrPem), "base64"),
          Buffer.from([0, 0]),
        ]).toString("base64")}\n-----END CERTIFICATE REQUEST-----\n`,
      ],
      ["a non-string", 42 as unknown as string],
    ])("MALFORMED for %s", (_case, input) => {
      expect(reasonOf(() => parseCsr(input))).toBe("MALFORMED");
    });

    it.each([
      ["a certificate", certPem],
      ["a certificate labelled as a CSR", certPem.replace(/CERTIFICATE/g, "CERTIFICATE REQUEST")],
      ["a private key", keyPem],
      ["a certificate as bare base64", body(certPem)],
    ])("WRONG_TYPE for %s", (_case, input) => {
      expect(reasonOf(() => parseCsr(input))).toBe("WRONG_TYPE");
    });

    it("reports a broken self-signature, and refuses it when asked to", () => {
      const tampered = withBrokenSignature(csrPem);

      expect(parseCsr(tampered).signatureValid).toBe(false);
      expect(reasonOf(() => parseCsr(tampered, { requireValidSignature: true }))).toBe(
        "BAD_SIGNATURE",
      );
      expect(reasonOf(() => parseCsr(csrPem, { requireValidSignature: true }))).toBe("no error");
    });

    it("throws a plain Error subclass whose message does not echo the input", () => {
      const secret = "-----BEGIN CERTIFICATE REQUEST-----\nc2VjcmV0IHBheWxvYWQ=\n";
      let caught: unknown;
      try {
        parseCsr(secret);
      } catch (error) {
        caught = error;
      }

      expect(caught).toBeInstanceOf(Error);
      expect(caught).toBeInstanceOf(PemError);
      expect((caught as PemError).name).toBe("PemError");
      expect((caught as PemError).message).not.toContain("c2VjcmV0");
    });
  });

  describe("agrees with OpenSSL on requests OpenSSL made", () => {
    const rsaKey = makeCsr({ commonName: "x" }).keyPem;

    function opensslCsr(args: string[]): string {
      const result = runOpenssl(["req", "-new", "-key", "key.pem", "-utf8", ...args], {
        "key.pem": rsaKey,
      });
      expect(result.stderr).toBe("");
      return result.stdout;
    }

    function opensslSubject(csrPem: string): string {
      const result = runOpenssl(
        ["req", "-in", "csr.pem", "-noout", "-subject", "-nameopt", "oneline,-esc_msb"],
        { "csr.pem": csrPem },
      );
      return result.stdout.replace(/^subject=/, "").trimEnd();
    }

    itWithOpenssl.each([
      "/C=US/ST=CA/L=San Francisco/O=Example, Inc./CN=example.com",
      '/C=DE/O=A\\+B/OU=Q"uote/OU=back\\\\slash/OU=x;y <z>/CN=example.de',
      "/O=#hash/OU=#/O= lead/O=trail /O=a=b/CN=caf\u00e9.example",
      "/serialNumber=HRB 123+CN=multi.example/emailAddress=a@multi.example",
      "/jurisdictionC=DE/businessCategory=Private Organization/CN=ev.example",
      "/DC=com/DC=example/UID=jdoe/CN=dc.example",
    ])("formats the subject %s like `openssl req -subject`", subj => {
      const csrPem = opensslCsr(["-subj", subj]);

      expect(parseCsr(csrPem).subject).toBe(opensslSubject(csrPem));
    });

    itWithOpenssl("reads SANs and key usage requested with -addext", () => {
      const csrPem = opensslCsr([
        "-subj",
        "/CN=ext.example",
        "-addext",
        "subjectAltName=DNS:ext.example,DNS:*.ext.example,IP:192.0.2.1",
        "-addext",
        "keyUsage=critical,digitalSignature,keyEncipherment",
      ]);

      const csr = parseCsr(csrPem);

      expect(csr.subjectAltNames).toEqual(["ext.example", "*.ext.example"]);
      expect(csr.keyUsage).toEqual(["Digital Signature", "Key Encipherment"]);
      expect(csr.signatureValid).toBe(true);
    });

    itWithOpenssl("verifies an RSA-PSS signed request", () => {
      const csrPem = opensslCsr([
        "-subj",
        "/CN=pss.example",
        "-sigopt",
        "rsa_padding_mode:pss",
        "-sigopt",
        "rsa_pss_saltlen:32",
      ]);

      const csr = parseCsr(csrPem);

      expect(csr.signatureAlgorithm).toBe("rsassaPss");
      expect(csr.signatureValid).toBe(true);
      expect(parseCsr(withBrokenSignature(csrPem)).signatureValid).toBe(false);
    });

    itWithOpenssl("reads an Ed25519 request", () => {
      const { privateKey } = generateKeyPairSync("ed25519");
      const result = runOpenssl(["req", "-new", "-key", "key.pem", "-subj", "/CN=ed.example"], {
        "key.pem": privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
      });

      const csr = parseCsr(result.stdout);

      expect(csr).toMatchObject({
        keyAlgorithm: "ED25519",
        signatureAlgorithm: "ED25519",
        signatureValid: true,
      });
    });
  });
});

describe("isCsrPem", () => {
  it("recognises CSR armour without parsing the ASN.1", () => {
    const { csrPem } = makeCsr({ commonName: "guard.example" });

    expect(isCsrPem(csrPem)).toBe(true);
    expect(isCsrPem(csrPem.trim().split("\n").join("\\n"))).toBe(true);
    expect(isCsrPem(makeSelfSignedCertificate({ commonName: "c.example" }).certPem)).toBe(false);
    expect(isCsrPem(body(csrPem))).toBe(false);
    expect(isCsrPem("junk")).toBe(false);
    expect(isCsrPem(csrPem.slice(0, 200))).toBe(false);
  });
});

describe("publicKeyFingerprint", () => {
  it("is the SHA-256 of the SPKI, equal for a CSR, a certificate and the bare key", () => {
    // Same type, size and slot, so the CSR and the certificate share one cached key.
    const { csrPem } = makeCsr({ commonName: "fp.example" });
    const { certPem } = makeSelfSignedCertificate({ commonName: "fp.example" });
    const { publicKeyPem } = parseCsr(csrPem);

    const fingerprint = publicKeyFingerprint(csrPem);

    expect(fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(publicKeyFingerprint(certPem)).toBe(fingerprint);
    expect(publicKeyFingerprint(publicKeyPem)).toBe(fingerprint);
  });

  it("changes with the key, not with the subject", () => {
    const a = makeCsr({ commonName: "a.example", keyType: "ec", keySlot: "one" }).csrPem;
    const b = makeCsr({ commonName: "b.example", keyType: "ec", keySlot: "one" }).csrPem;
    const c = makeCsr({ commonName: "a.example", keyType: "ec", keySlot: "two" }).csrPem;

    expect(publicKeyFingerprint(a)).toBe(publicKeyFingerprint(b));
    expect(publicKeyFingerprint(a)).not.toBe(publicKeyFingerprint(c));
  });

  it("refuses junk and private keys", () => {
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });

    expect(reasonOf(() => publicKeyFingerprint("nope"))).toBe("MALFORMED");
    expect(
      reasonOf(() =>
        publicKeyFingerprint(privateKey.export({ type: "pkcs8", format: "pem" }).toString()),
      ),
    ).toBe("WRONG_TYPE");
  });
});
