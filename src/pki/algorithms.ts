import { createPublicKey, type KeyObject, constants, verify } from "node:crypto";
import { type DerElement, TAG, readChildren, readElement, readOid, readSmallInteger } from "./der";

// OpenSSL short names (crypto/objects/objects.txt), which is what the provider reports.
const SIGNATURE_ALGORITHMS: Record<string, { name: string; hash: string | null }> = {
  "1.2.840.113549.1.1.4": { name: "md5WithRSAEncryption", hash: "md5" },
  "1.2.840.113549.1.1.5": { name: "sha1WithRSAEncryption", hash: "sha1" },
  "1.2.840.113549.1.1.14": { name: "sha224WithRSAEncryption", hash: "sha224" },
  "1.2.840.113549.1.1.11": { name: "sha256WithRSAEncryption", hash: "sha256" },
  "1.2.840.113549.1.1.12": { name: "sha384WithRSAEncryption", hash: "sha384" },
  "1.2.840.113549.1.1.13": { name: "sha512WithRSAEncryption", hash: "sha512" },
  "1.2.840.113549.1.1.10": { name: "rsassaPss", hash: null },
  "1.2.840.10045.4.1": { name: "ecdsa-with-SHA1", hash: "sha1" },
  "1.2.840.10045.4.3.1": { name: "ecdsa-with-SHA224", hash: "sha224" },
  "1.2.840.10045.4.3.2": { name: "ecdsa-with-SHA256", hash: "sha256" },
  "1.2.840.10045.4.3.3": { name: "ecdsa-with-SHA384", hash: "sha384" },
  "1.2.840.10045.4.3.4": { name: "ecdsa-with-SHA512", hash: "sha512" },
  "1.2.840.10040.4.3": { name: "dsaWithSHA1", hash: "sha1" },
  "2.16.840.1.101.3.4.3.2": { name: "dsa_with_SHA256", hash: "sha256" },
  "1.3.101.112": { name: "ED25519", hash: null },
  "1.3.101.113": { name: "ED448", hash: null },
};

const KEY_ALGORITHMS: Record<string, string> = {
  "1.2.840.113549.1.1.1": "rsaEncryption",
  "1.2.840.113549.1.1.10": "rsassaPss",
  "1.2.840.10045.2.1": "id-ecPublicKey",
  "1.2.840.10040.4.1": "dsaEncryption",
  "1.3.101.110": "X25519",
  "1.3.101.111": "X448",
  "1.3.101.112": "ED25519",
  "1.3.101.113": "ED448",
};

const HASHES: Record<string, string> = {
  "1.3.14.3.2.26": "sha1",
  "2.16.840.1.101.3.4.2.4": "sha224",
  "2.16.840.1.101.3.4.2.1": "sha256",
  "2.16.840.1.101.3.4.2.2": "sha384",
  "2.16.840.1.101.3.4.2.3": "sha512",
};

/**
 * OpenSSL's name for a signature AlgorithmIdentifier (`sha256WithRSAEncryption`,
 * `ecdsa-with-SHA256`); unknown algorithms come back as their dotted OID.
 *
 * @throws PemError `MALFORMED` when `el` is not an AlgorithmIdentifier.
 */
export function signatureAlgorithmName(buf: Uint8Array, el: DerElement): string {
  const oid = readOid(buf, readChildren(buf, el)[0]);
  return SIGNATURE_ALGORITHMS[oid]?.name ?? oid;
}

/** What the provider reports about a public key. */
export interface PublicKeyDescription {
  /** OpenSSL name of the key algorithm: `rsaEncryption`, `id-ecPublicKey`, ... or the OID. */
  keyAlgorithm: string;
  /** RSA modulus bits, or the bit size of the EC curve; absent when unknown. */
  keySize?: number;
  /** OpenSSL name of an EC key's named curve, e.g. `prime256v1`. */
  curve?: string;
  /** The key loaded into node:crypto, absent when OpenSSL cannot load it. */
  keyObject?: KeyObject;
}

/**
 * Describes a DER SubjectPublicKeyInfo. Never throws for keys node:crypto cannot load
 * (explicit curve parameters, exotic algorithms): those come back without size or key.
 *
 * @throws PemError `MALFORMED` when `spki` is not a SubjectPublicKeyInfo at all.
 */
export function describePublicKey(spki: Buffer): PublicKeyDescription {
  const root = readElement(spki, 0);
  const algorithm = readChildren(spki, root)[0];
  const oid = readOid(spki, algorithm ? readChildren(spki, algorithm)[0] : undefined);
  const description: PublicKeyDescription = { keyAlgorithm: KEY_ALGORITHMS[oid] ?? oid };
  let keyObject: KeyObject;
  try {
    keyObject = createPublicKey({ key: spki, format: "der", type: "spki" });
  } catch {
    return description;
  }
  description.keyObject = keyObject;
  const details = keyObject.asymmetricKeyDetails;
  if (details?.modulusLength !== undefined) {
    description.keySize = details.modulusLength;
  }
  if (details?.namedCurve !== undefined) {
    description.curve = details.namedCurve;
    // OpenSSL curve names carry their size: prime256v1, secp384r1, secp521r1, brainpoolP512r1.
    const bits = /(\d{3})/.exec(details.namedCurve)?.[1];
    if (bits !== undefined) {
      description.keySize = Number(bits);
    }
  }
  return description;
}

/**
 * Checks `signature` over `signed` with `key` under the AlgorithmIdentifier `algorithm`
 * (RSA PKCS#1 v1.5, RSA-PSS, ECDSA, DSA, Ed25519/Ed448). Returns false, never throws,
 * for an unsupported algorithm or a key that does not match it.
 */
export function verifySignature(
  buf: Uint8Array,
  algorithm: DerElement,
  signed: Uint8Array,
  signature: Uint8Array,
  key: KeyObject,
): boolean {
  try {
    const [oidEl, paramsEl] = readChildren(buf, algorithm);
    const known = SIGNATURE_ALGORITHMS[readOid(buf, oidEl)];
    if (!known) {
      return false;
    }
    if (known.name === "rsassaPss") {
      const pss = readPssParams(buf, paramsEl);
      return verify(
        pss.hash,
        signed,
        { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: pss.saltLength },
        signature,
      );
    }
    return verify(known.hash, signed, key, signature);
  } catch {
    return false;
  }
}

// RFC 4055 RSASSA-PSS-params; absent fields take the RFC's defaults (SHA-1, salt 20).
// node:crypto always uses MGF1 with the message hash, which is what every real CSR uses.
function readPssParams(
  buf: Uint8Array,
  params: DerElement | undefined,
): { hash: string; saltLength: number } {
  let hash = "sha1";
  let saltLength = 20;
  if (params && params.tag === TAG.SEQUENCE) {
    for (const field of readChildren(buf, params)) {
      const inner = readElement(buf, field.contentStart, field.end);
      if (field.tag === TAG.CONTEXT_0) {
        const name = HASHES[readOid(buf, readChildren(buf, inner)[0])];
        if (!name) {
          throw new Error("unsupported PSS hash");
        }
        hash = name;
      } else if (field.tag === 0xa2) {
        saltLength = readSmallInteger(buf, inner);
      }
    }
  }
  return { hash, saltLength };
}
