import {
  type DerElement,
  TAG,
  encodingOf,
  expectTag,
  readBitString,
  readChildren,
  readRoot,
  readSmallInteger,
} from "./der";
import { PemError } from "./errors";
import { CERTIFICATE_LABELS, CSR_LABELS, readPemBlocks } from "./pem";

/** The two signed X.509 objects this folder reads. */
export type SignedObjectKind = "csr" | "certificate";

/**
 * The outer layout shared by certificates and PKCS #10 requests:
 * `SEQUENCE { toBeSigned, signatureAlgorithm, signature BIT STRING }`.
 */
export interface SignedObject {
  readonly der: Buffer;
  readonly kind: SignedObjectKind;
  /** The signed part, header included: what the signature covers. */
  readonly toBeSigned: Buffer;
  /** Top-level fields of the signed part, in order. */
  readonly fields: readonly DerElement[];
  readonly signatureAlgorithm: DerElement;
  /** Signature octets (BIT STRING payload). */
  readonly signature: Buffer;
}

/** Positions of the fields of a CertificationRequestInfo (RFC 2986). */
export interface CsrLayout {
  readonly subject: DerElement;
  readonly subjectPublicKeyInfo: DerElement;
  readonly attributes?: DerElement;
}

/** Positions of the fields of a TBSCertificate (RFC 5280) and its decoded version. */
export interface CertificateLayout {
  /** 1, 2 or 3, as people say it (the DER holds 0, 1 or 2). */
  readonly version: number;
  readonly serialNumber: DerElement;
  readonly issuer: DerElement;
  readonly subject: DerElement;
  readonly subjectPublicKeyInfo: DerElement;
  readonly extensions?: DerElement;
}

const CANONICAL_LABEL: Record<SignedObjectKind, string> = {
  csr: CSR_LABELS[0],
  certificate: CERTIFICATE_LABELS[0],
};

const LABELS: Record<SignedObjectKind, readonly string[]> = {
  csr: CSR_LABELS,
  certificate: CERTIFICATE_LABELS,
};

/**
 * Splits a DER certificate or CSR into its signed part, algorithm and signature, and
 * tells the two apart by the shape of the signed part.
 *
 * @throws PemError `MALFORMED` when `der` is neither.
 */
export function readSignedObject(der: Buffer): SignedObject {
  const outer = readChildren(der, expectTag(readRoot(der), TAG.SEQUENCE, "a SEQUENCE"));
  const [tbs, signatureAlgorithm, signature] = outer;
  if (outer.length !== 3 || !tbs || !signatureAlgorithm) {
    throw new PemError("MALFORMED", "not a signed X.509 structure");
  }
  expectTag(tbs, TAG.SEQUENCE, "a signed SEQUENCE");
  expectTag(signatureAlgorithm, TAG.SEQUENCE, "an AlgorithmIdentifier");
  const fields = readChildren(der, tbs);
  const [first, second, third] = fields;
  let kind: SignedObjectKind;
  // A TBSCertificate has at least six fields (v1 omits the [0] version); a request has 3-4.
  if (first?.tag === TAG.CONTEXT_0 || fields.length >= 6) {
    kind = "certificate";
  } else if (
    first?.tag === TAG.INTEGER &&
    second?.tag === TAG.SEQUENCE &&
    third?.tag === TAG.SEQUENCE &&
    fields.length <= 4
  ) {
    kind = "csr";
  } else {
    throw new PemError("MALFORMED", "neither a certificate nor a certificate request");
  }
  return {
    der,
    kind,
    toBeSigned: encodingOf(der, tbs),
    fields,
    signatureAlgorithm,
    signature: readBitString(der, signature).bytes,
  };
}

/**
 * Picks the DER object of the wanted kind out of PEM text (see `readPemBlocks` for what
 * is tolerated) and splits it. The first block with a matching label wins; bare base64
 * is accepted when it decodes to the wanted kind.
 *
 * @throws PemError `MALFORMED` for junk, `WRONG_TYPE` when the text holds only other
 * kinds of PEM block, or a block labelled as wanted actually holds the other kind.
 */
export function readSignedPem(text: string, wanted: SignedObjectKind): SignedObject {
  const blocks = readPemBlocks(text);
  const labels = LABELS[wanted];
  const block =
    blocks.find(b => b.label !== null && labels.includes(b.label)) ??
    blocks.find(b => b.label === null);
  if (!block) {
    const found = blocks.map(b => b.label).join(", ");
    throw new PemError("WRONG_TYPE", `expected ${CANONICAL_LABEL[wanted]}, found ${found}`);
  }
  const signed = readSignedObject(block.der);
  if (signed.kind !== wanted) {
    throw new PemError(
      "WRONG_TYPE",
      `expected ${CANONICAL_LABEL[wanted]}, found ${CANONICAL_LABEL[signed.kind]}`,
    );
  }
  return signed;
}

/** Field positions of a request's CertificationRequestInfo. */
export function csrLayout(signed: SignedObject): CsrLayout {
  const [, subject, subjectPublicKeyInfo, attributes] = signed.fields;
  return {
    subject: expectTag(subject, TAG.SEQUENCE, "a subject Name"),
    subjectPublicKeyInfo: expectTag(subjectPublicKeyInfo, TAG.SEQUENCE, "a public key"),
    attributes: attributes?.tag === TAG.CONTEXT_0 ? attributes : undefined,
  };
}

/**
 * Field positions of a certificate's TBSCertificate.
 *
 * @throws PemError `MALFORMED` when a mandatory field is missing.
 */
export function certificateLayout(signed: SignedObject): CertificateLayout {
  const { der, fields } = signed;
  const versioned = fields[0]?.tag === TAG.CONTEXT_0;
  const at = (i: number) => fields[versioned ? i + 1 : i];
  let version = 1;
  if (versioned) {
    version = readSmallInteger(der, readChildren(der, fields[0]!)[0]) + 1;
  }
  const extensionsWrapper = fields.find(f => f.tag === TAG.CONTEXT_3);
  return {
    version,
    serialNumber: expectTag(at(0), TAG.INTEGER, "a serial number"),
    issuer: expectTag(at(2), TAG.SEQUENCE, "an issuer Name"),
    subject: expectTag(at(4), TAG.SEQUENCE, "a subject Name"),
    subjectPublicKeyInfo: expectTag(at(5), TAG.SEQUENCE, "a public key"),
    extensions: extensionsWrapper ? readChildren(der, extensionsWrapper)[0] : undefined,
  };
}
