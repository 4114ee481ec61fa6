import {
  type DerElement,
  TAG,
  contentOf,
  expectTag,
  readBitString,
  readChildren,
  readOid,
  readRoot,
  readSmallInteger,
  toColonHex,
} from "./der";

/** One X.509 extension, value still DER-encoded. */
export interface RawExtension {
  readonly oid: string;
  readonly critical: boolean;
  readonly value: Buffer;
}

/** The extensions the provider reports, decoded to OpenSSL's wording. */
export interface DecodedExtensions {
  /** DNS names of the subjectAltName extension, in order. */
  subjectAltNames: string[];
  /** OpenSSL names of the keyUsage bits, e.g. `Digital Signature`, in bit order. */
  keyUsage: string[];
  /** Whether keyUsage is marked critical (the provider's `key usage type`). */
  keyUsageCritical: boolean;
  /** OpenSSL long names of the extKeyUsage purposes, e.g. `TLS Web Server Authentication`. */
  extendedKeyUsage: string[];
  /** basicConstraints, when present. */
  basicConstraints?: { ca: boolean; pathLength?: number };
  /** subjectKeyIdentifier as colon-separated lower-case hex. */
  subjectKeyIdentifier?: string;
  /** keyIdentifier of authorityKeyIdentifier as colon-separated lower-case hex. */
  authorityKeyIdentifier?: string;
}

const OID = {
  subjectKeyIdentifier: "2.5.29.14",
  keyUsage: "2.5.29.15",
  subjectAltName: "2.5.29.17",
  basicConstraints: "2.5.29.19",
  authorityKeyIdentifier: "2.5.29.35",
  extKeyUsage: "2.5.29.37",
  extensionRequest: "1.2.840.113549.1.9.14",
  msExtensionRequest: "1.3.6.1.4.1.311.2.1.14",
} as const;

// Bit order of RFC 5280 KeyUsage; labels from OpenSSL's crypto/x509/v3_bitst.c.
const KEY_USAGE_NAMES = [
  "Digital Signature",
  "Non Repudiation",
  "Key Encipherment",
  "Data Encipherment",
  "Key Agreement",
  "Certificate Sign",
  "CRL Sign",
  "Encipher Only",
  "Decipher Only",
] as const;

// OpenSSL long names (crypto/objects/objects.txt); unknown purposes print as dotted OIDs.
const EXTENDED_KEY_USAGE_NAMES: Record<string, string> = {
  "1.3.6.1.5.5.7.3.1": "TLS Web Server Authentication",
  "1.3.6.1.5.5.7.3.2": "TLS Web Client Authentication",
  "1.3.6.1.5.5.7.3.3": "Code Signing",
  "1.3.6.1.5.5.7.3.4": "E-mail Protection",
  "1.3.6.1.5.5.7.3.5": "IPSec End System",
  "1.3.6.1.5.5.7.3.6": "IPSec Tunnel",
  "1.3.6.1.5.5.7.3.7": "IPSec User",
  "1.3.6.1.5.5.7.3.8": "Time Stamping",
  "1.3.6.1.5.5.7.3.9": "OCSP Signing",
  "2.5.29.37.0": "Any Extended Key Usage",
  "1.3.6.1.4.1.311.10.3.3": "Microsoft Server Gated Crypto",
  "2.16.840.1.113730.4.1": "Netscape Server Gated Crypto",
  "1.3.6.1.4.1.311.20.2.2": "Microsoft Smartcard Login",
};

/**
 * Reads an `Extensions` SEQUENCE.
 *
 * @throws PemError `MALFORMED` when an entry is not an Extension.
 */
export function readExtensionList(buf: Uint8Array, extensions: DerElement): RawExtension[] {
  return readChildren(buf, expectTag(extensions, TAG.SEQUENCE, "Extensions")).map(ext => {
    const fields = readChildren(buf, expectTag(ext, TAG.SEQUENCE, "an Extension"));
    const oid = readOid(buf, fields[0]);
    const hasCritical = fields[1]?.tag === TAG.BOOLEAN;
    const critical = hasCritical && contentOf(buf, fields[1]!)[0] !== 0;
    const value = contentOf(
      buf,
      expectTag(fields[hasCritical ? 2 : 1], TAG.OCTET_STRING, "extnValue"),
    );
    return { oid, critical, value };
  });
}

/**
 * Extracts the extensions a PKCS #10 request asks for, from its `[0]` attributes
 * (the PKCS #9 extensionRequest, or Microsoft's older OID for the same thing).
 *
 * @throws PemError `MALFORMED` when the attributes are not well formed.
 */
export function readRequestedExtensions(
  buf: Uint8Array,
  attributes: DerElement | undefined,
): RawExtension[] {
  if (!attributes) {
    return [];
  }
  for (const attribute of readChildren(buf, attributes)) {
    const [typeEl, valuesEl] = readChildren(
      buf,
      expectTag(attribute, TAG.SEQUENCE, "an Attribute"),
    );
    const type = readOid(buf, typeEl);
    if (type === OID.extensionRequest || type === OID.msExtensionRequest) {
      const [first] = readChildren(buf, expectTag(valuesEl, TAG.SET, "attribute values"));
      return first ? readExtensionList(buf, first) : [];
    }
  }
  return [];
}

/**
 * Decodes subjectAltName (DNS names), keyUsage, extKeyUsage, basicConstraints and the
 * key identifiers. Other extensions are ignored; when one repeats, the first counts.
 *
 * @throws PemError `MALFORMED` when one of those extensions has a broken value.
 */
export function decodeExtensions(extensions: readonly RawExtension[]): DecodedExtensions {
  const find = (oid: string) => extensions.find(ext => ext.oid === oid);
  const decoded: DecodedExtensions = {
    subjectAltNames: [],
    keyUsage: [],
    keyUsageCritical: false,
    extendedKeyUsage: [],
  };

  const san = find(OID.subjectAltName);
  if (san) {
    const names = readChildren(san.value, readRoot(san.value));
    // dNSName is [2] IMPLICIT IA5String; other GeneralName forms are not reported.
    decoded.subjectAltNames = names
      .filter(name => name.tag === 0x82)
      .map(name => contentOf(san.value, name).toString("latin1"));
  }

  const keyUsage = find(OID.keyUsage);
  if (keyUsage) {
    const { bytes } = readBitString(keyUsage.value, readRoot(keyUsage.value));
    decoded.keyUsage = KEY_USAGE_NAMES.filter((_name, bit) => {
      const byte = bytes[bit >> 3] ?? 0;
      return (byte & (0x80 >> (bit & 7))) !== 0;
    });
    decoded.keyUsageCritical = keyUsage.critical;
  }

  const eku = find(OID.extKeyUsage);
  if (eku) {
    decoded.extendedKeyUsage = readChildren(eku.value, readRoot(eku.value)).map(el => {
      const oid = readOid(eku.value, el);
      return EXTENDED_KEY_USAGE_NAMES[oid] ?? oid;
    });
  }

  const constraints = find(OID.basicConstraints);
  if (constraints) {
    const fields = readChildren(constraints.value, readRoot(constraints.value));
    const caField = fields[0]?.tag === TAG.BOOLEAN ? fields.shift() : undefined;
    const ca = caField !== undefined && contentOf(constraints.value, caField)[0] !== 0;
    decoded.basicConstraints = fields[0]
      ? { ca, pathLength: readSmallInteger(constraints.value, fields[0]) }
      : { ca };
  }

  const ski = find(OID.subjectKeyIdentifier);
  if (ski) {
    const id = expectTag(readRoot(ski.value), TAG.OCTET_STRING, "a key identifier");
    decoded.subjectKeyIdentifier = toColonHex(contentOf(ski.value, id));
  }

  const aki = find(OID.authorityKeyIdentifier);
  if (aki) {
    const keyId = readChildren(aki.value, readRoot(aki.value)).find(el => el.tag === 0x80);
    if (keyId) {
      decoded.authorityKeyIdentifier = toColonHex(contentOf(aki.value, keyId));
    }
  }

  return decoded;
}
