import "reflect-metadata"; // @peculiar/x509 resolves its services through tsyringe, which needs it
import { createHash } from "node:crypto";
import { X509Certificate } from "@peculiar/x509";
import { describePublicKey, signatureAlgorithmName } from "./algorithms";
import { contentOf, encodingOf, toColonHex } from "./der";
import { type DistinguishedNameFields, readDistinguishedName } from "./dn";
import { PemError } from "./errors";
import { decodeExtensions, readExtensionList } from "./extensions";
import { CERTIFICATE_LABELS, encodePem, readPemBlocks, tryReadPemBlocks } from "./pem";
import { certificateLayout, readSignedPem } from "./signed-object";

const CERTIFICATE_NAMES: readonly string[] = CERTIFICATE_LABELS;

/** A parsed X.509 certificate, in the provider's vocabulary (manual 9.1.4). */
export interface CertificateInfo {
  /** The certificate re-encoded as canonical PEM (64-column base64, LF, final newline). */
  pem: string;
  /** OpenSSL one-line subject, e.g. `CN = example.com`. */
  subject: string;
  /** OpenSSL one-line issuer, e.g. `C = US, O = "DigiCert, Inc.", CN = ...`. */
  issuer: string;
  /** Subject attributes one by one (`crt subject commonname`, ...). */
  subjectFields: DistinguishedNameFields;
  /** Issuer attributes one by one (`crt issuer organization`, ...). */
  issuerFields: DistinguishedNameFields;
  /**
   * DER content octets of the serial INTEGER as colon-separated lower-case hex, the
   * manual's `00:aa:bb:...` (a leading `00` appears when the first byte is 0x80 or more).
   */
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  /** DNS names of the subjectAltName extension, in order (`crt san#`). */
  subjectAltNames: string[];
  /** OpenSSL key algorithm name: `rsaEncryption`, `id-ecPublicKey`, ... */
  keyAlgorithm: string;
  /** RSA modulus bits or EC curve bits (`crt public key size`). */
  keySize?: number;
  /** OpenSSL name of an EC key's curve, e.g. `prime256v1`. */
  curve?: string;
  /** OpenSSL signature algorithm name, e.g. `sha256WithRSAEncryption`. */
  signatureAlgorithm: string;
  /** SHA-256 of the DER as colon-separated upper-case hex, like `openssl x509 -fingerprint`. */
  fingerprintSha256: string;
  /** 1, 2 or 3. */
  version: number;
  /** OpenSSL names of the keyUsage bits, e.g. `Digital Signature`. */
  keyUsage: string[];
  /** Whether keyUsage is critical (the provider's `crt key usage type`). */
  keyUsageCritical: boolean;
  /** OpenSSL names of the extKeyUsage purposes, e.g. `TLS Web Server Authentication`. */
  extendedKeyUsage: string[];
  /** basicConstraints cA; false when the extension is absent. */
  isCa: boolean;
  /** basicConstraints pathLenConstraint, when present. */
  pathLength?: number;
  /** subjectKeyIdentifier as colon-separated lower-case hex. */
  subjectKeyIdentifier?: string;
  /** authorityKeyIdentifier keyIdentifier as colon-separated lower-case hex (`crt authority key identifier`). */
  authorityKeyIdentifier?: string;
  /** DER SubjectPublicKeyInfo of the certified key. */
  publicKeySpkiDer: Buffer;
  /** The certified key as a `PUBLIC KEY` PEM. */
  publicKeyPem: string;
}

/**
 * Parses an X.509 certificate as the provider's CheckCertificate does. Pure and
 * synchronous; tolerates the same PEM damage as `parseCsr` (surrounding text, CRLF,
 * `\n`-escaped breaks, bare base64). When given a bundle, parses its first certificate.
 *
 * @throws PemError `MALFORMED` for junk or a damaged certificate, `WRONG_TYPE` for a CSR
 * or another PEM object.
 */
export function parseCertificate(pem: string): CertificateInfo {
  const signed = readSignedPem(pem, "certificate");
  const { der } = signed;
  let parsed: X509Certificate;
  try {
    // Validates the whole certificate against the RFC 5280 schema and decodes its validity.
    parsed = new X509Certificate(der);
  } catch (cause) {
    throw new PemError("MALFORMED", "certificate does not match RFC 5280", { cause });
  }
  const layout = certificateLayout(signed);
  const subject = readDistinguishedName(encodingOf(der, layout.subject));
  const issuer = readDistinguishedName(encodingOf(der, layout.issuer));
  const publicKeySpkiDer = Buffer.from(encodingOf(der, layout.subjectPublicKeyInfo));
  const key = describePublicKey(publicKeySpkiDer);
  const extensions = decodeExtensions(
    layout.extensions ? readExtensionList(der, layout.extensions) : [],
  );
  const fingerprint = createHash("sha256").update(der).digest("hex").toUpperCase();

  const info: CertificateInfo = {
    pem: encodePem(CERTIFICATE_LABELS[0], der),
    subject: subject.oneLine,
    issuer: issuer.oneLine,
    subjectFields: subject.fields,
    issuerFields: issuer.fields,
    serialNumber: toColonHex(contentOf(der, layout.serialNumber)),
    notBefore: parsed.notBefore,
    notAfter: parsed.notAfter,
    subjectAltNames: extensions.subjectAltNames,
    keyAlgorithm: key.keyAlgorithm,
    signatureAlgorithm: signatureAlgorithmName(der, signed.signatureAlgorithm),
    fingerprintSha256: fingerprint.replace(/(..)(?!$)/g, "$1:"),
    version: layout.version,
    keyUsage: extensions.keyUsage,
    keyUsageCritical: extensions.keyUsageCritical,
    extendedKeyUsage: extensions.extendedKeyUsage,
    isCa: extensions.basicConstraints?.ca ?? false,
    publicKeySpkiDer,
    publicKeyPem: encodePem("PUBLIC KEY", publicKeySpkiDer),
  };
  if (key.keySize !== undefined) {
    info.keySize = key.keySize;
  }
  if (key.curve !== undefined) {
    info.curve = key.curve;
  }
  if (extensions.basicConstraints?.pathLength !== undefined) {
    info.pathLength = extensions.basicConstraints.pathLength;
  }
  if (extensions.subjectKeyIdentifier !== undefined) {
    info.subjectKeyIdentifier = extensions.subjectKeyIdentifier;
  }
  if (extensions.authorityKeyIdentifier !== undefined) {
    info.authorityKeyIdentifier = extensions.authorityKeyIdentifier;
  }
  return info;
}

/**
 * Splits a bundle (leaf + intermediates + root, as the provider returns chains) into
 * its PEM blocks, in order, each re-encoded canonically with its own label. Text with
 * no PEM armour yields `[]`. The ASN.1 inside is not checked.
 *
 * @throws PemError `MALFORMED` when a block is unterminated or its body is not base64.
 */
export function splitPemBundle(text: string): string[] {
  if (typeof text !== "string" || !text.includes("-----BEGIN ")) {
    return [];
  }
  return readPemBlocks(text).map(block => encodePem(block.label ?? "", block.der));
}

/**
 * Cheap guard: true when `text` holds a PEM block labelled as a certificate whose body is
 * valid base64. Does not parse the ASN.1 inside; never throws.
 */
export function isCertificatePem(text: string): boolean {
  return tryReadPemBlocks(text).some(
    block => block.label !== null && CERTIFICATE_NAMES.includes(block.label),
  );
}
