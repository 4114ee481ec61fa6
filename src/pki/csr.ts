import "reflect-metadata"; // @peculiar/x509 resolves its services through tsyringe, which needs it
import { createHash } from "node:crypto";
import { Pkcs10CertificateRequest } from "@peculiar/x509";
import { describePublicKey, signatureAlgorithmName, verifySignature } from "./algorithms";
import { encodingOf, readRoot } from "./der";
import { type DistinguishedNameFields, readDistinguishedName } from "./dn";
import { PemError } from "./errors";
import { decodeExtensions, readRequestedExtensions } from "./extensions";
import { CERTIFICATE_LABELS, CSR_LABELS, encodePem, readPemBlocks, tryReadPemBlocks } from "./pem";
import { certificateLayout, csrLayout, readSignedObject, readSignedPem } from "./signed-object";

const CSR_NAMES: readonly string[] = CSR_LABELS;
const SIGNED_LABELS: readonly string[] = [...CSR_LABELS, ...CERTIFICATE_LABELS];

/** A parsed PKCS #10 certificate signing request, in the provider's vocabulary. */
export interface CsrInfo {
  /** The request re-encoded as canonical PEM (64-column base64, LF, final newline). */
  pem: string;
  /** The subject's first CN, the provider's `csr commonname`. */
  commonName?: string;
  /** OpenSSL one-line subject: `C = US, ST = CA, L = San Francisco, O = Example Corp, CN = example.com`. */
  subject: string;
  /** Subject attributes one by one (`csr country`, `csr state`, ...). */
  subjectFields: DistinguishedNameFields;
  /** DNS names of the subjectAltName in the extensionRequest, in order (`csr san#`). */
  subjectAltNames: string[];
  /** OpenSSL names of the requested keyUsage bits (`csr key usage#`). */
  keyUsage: string[];
  /** OpenSSL key algorithm name: `rsaEncryption`, `id-ecPublicKey`, `ED25519`, ... */
  keyAlgorithm: string;
  /** RSA modulus bits or EC curve bits (`csr size`); absent for keys without one. */
  keySize?: number;
  /** OpenSSL name of an EC key's curve, e.g. `prime256v1`. */
  curve?: string;
  /** OpenSSL signature algorithm name: `sha256WithRSAEncryption`, `ecdsa-with-SHA256`, ... */
  signatureAlgorithm: string;
  /** DER SubjectPublicKeyInfo of the requested key. */
  publicKeySpkiDer: Buffer;
  /** The requested key as a `PUBLIC KEY` PEM. */
  publicKeyPem: string;
  /** Whether the request's self-signature verifies with its own key (proof of possession). */
  signatureValid: boolean;
}

/** Options of {@link parseCsr}. */
export interface ParseCsrOptions {
  /** Throw `PemError("BAD_SIGNATURE")` instead of reporting `signatureValid: false`. */
  requireValidSignature?: boolean;
}

/**
 * Parses a CSR as the provider's CheckCertificate does. Pure and synchronous.
 * Accepts PEM with surrounding text or whitespace, CRLF, `\n`-escaped line breaks, a
 * missing final newline, the legacy `NEW CERTIFICATE REQUEST` label, or bare base64 DER.
 *
 * @throws PemError `MALFORMED` for junk, binary data, truncated or damaged requests;
 * `WRONG_TYPE` for a certificate or other PEM object; `BAD_SIGNATURE` only when
 * `options.requireValidSignature` is set and the self-signature does not verify.
 */
export function parseCsr(pem: string, options: ParseCsrOptions = {}): CsrInfo {
  const signed = readSignedPem(pem, "csr");
  const { der } = signed;
  try {
    // Validates the whole request against the RFC 2986 schema, beyond what is read below.
    new Pkcs10CertificateRequest(der);
  } catch (cause) {
    throw new PemError("MALFORMED", "certificate request does not match RFC 2986", { cause });
  }
  const layout = csrLayout(signed);
  const subject = readDistinguishedName(encodingOf(der, layout.subject));
  const publicKeySpkiDer = Buffer.from(encodingOf(der, layout.subjectPublicKeyInfo));
  const key = describePublicKey(publicKeySpkiDer);
  const extensions = decodeExtensions(readRequestedExtensions(der, layout.attributes));
  const signatureValid =
    key.keyObject !== undefined &&
    verifySignature(
      der,
      signed.signatureAlgorithm,
      signed.toBeSigned,
      signed.signature,
      key.keyObject,
    );
  if (!signatureValid && options.requireValidSignature) {
    throw new PemError("BAD_SIGNATURE", "certificate request signature does not verify");
  }

  const info: CsrInfo = {
    pem: encodePem(CSR_LABELS[0], der),
    subject: subject.oneLine,
    subjectFields: subject.fields,
    subjectAltNames: extensions.subjectAltNames,
    keyUsage: extensions.keyUsage,
    keyAlgorithm: key.keyAlgorithm,
    signatureAlgorithm: signatureAlgorithmName(der, signed.signatureAlgorithm),
    publicKeySpkiDer,
    publicKeyPem: encodePem("PUBLIC KEY", publicKeySpkiDer),
    signatureValid,
  };
  if (subject.fields.commonName !== undefined) {
    info.commonName = subject.fields.commonName;
  }
  if (key.keySize !== undefined) {
    info.keySize = key.keySize;
  }
  if (key.curve !== undefined) {
    info.curve = key.curve;
  }
  return info;
}

/**
 * Cheap guard: true when `text` holds a PEM block labelled as a certificate request whose
 * body is valid base64. Does not parse the ASN.1 inside; never throws.
 */
export function isCsrPem(text: string): boolean {
  return tryReadPemBlocks(text).some(
    block => block.label !== null && CSR_NAMES.includes(block.label),
  );
}

/**
 * SHA-256 over the DER SubjectPublicKeyInfo, as 64 lower-case hex digits. Takes a CSR,
 * a certificate or a `PUBLIC KEY` PEM (first block), so a DCV token bound to a CSR's key
 * matches the certificate issued for it, and a re-keyed CSR gets a new one.
 *
 * @throws PemError `MALFORMED` for junk, `WRONG_TYPE` for other PEM objects.
 */
export function publicKeyFingerprint(pem: string): string {
  const [block] = readPemBlocks(pem);
  if (!block) {
    throw new PemError("MALFORMED", "no PEM block found");
  }
  let spki: Buffer;
  if (block.label === "PUBLIC KEY") {
    readRoot(block.der);
    spki = block.der;
  } else if (block.label === null || SIGNED_LABELS.includes(block.label)) {
    const signed = readSignedObject(block.der);
    const layout = signed.kind === "csr" ? csrLayout(signed) : certificateLayout(signed);
    spki = encodingOf(signed.der, layout.subjectPublicKeyInfo);
  } else {
    throw new PemError(
      "WRONG_TYPE",
      `expected a CSR, certificate or public key, found ${block.label}`,
    );
  }
  return createHash("sha256").update(spki).digest("hex");
}
