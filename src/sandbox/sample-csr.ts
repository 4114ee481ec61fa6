/**
 * Certificate requests for the sample data: real PKCS #10 requests, signed with one key per
 * factory by node:crypto and assembled by a small DER writer, so hundreds of them cost
 * milliseconds (the sandbox must seed 200 certificates in well under a few seconds).
 */
import { generateKeyPairSync, type KeyObject, sign } from "node:crypto";

function length(size: number): Buffer {
  if (size < 0x80) {
    return Buffer.from([size]);
  }
  const bytes: number[] = [];
  for (let rest = size; rest > 0; rest >>= 8) {
    bytes.unshift(rest & 0xff);
  }
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
}

function oid(dotted: string): Buffer {
  const [first = 0, second = 0, ...rest] = dotted.split(".").map(Number);
  const bytes = [first * 40 + second];
  for (const arc of rest) {
    const chunk = [arc & 0x7f];
    for (let value = arc >> 7; value > 0; value >>= 7) {
      chunk.unshift((value & 0x7f) | 0x80);
    }
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

const OIDS = {
  country: "2.5.4.6",
  organization: "2.5.4.10",
  commonName: "2.5.4.3",
  extensionRequest: "1.2.840.113549.1.9.14",
  subjectAltName: "2.5.29.17",
  sha256WithRSA: "1.2.840.113549.1.1.11",
  ecdsaWithSha256: "1.2.840.10045.4.3.2",
};

function attribute(type: string, value: string, tag: number): Buffer {
  return tlv(0x31, tlv(0x30, oid(type), tlv(tag, Buffer.from(value, "utf8"))));
}

/** What a sample request names. */
export interface SampleCsrRequest {
  commonName: string;
  altNames: readonly string[];
  organization?: string;
  country?: string;
}

/** Makes sample CSRs that all share one key. */
export interface SampleCsrFactory {
  /** A PEM certificate request for the names, signed with the factory's key. */
  make(request: SampleCsrRequest): string;
}

/**
 * Creates a factory whose requests share one key made on first use: EC P-256 by default (a
 * millisecond to make, a tenth of one per request), or RSA 2048 (from 0.1 s to over a second to
 * make on a slow machine, a millisecond per request).
 */
export function createSampleCsrFactory(keyType: "ec" | "rsa" = "ec"): SampleCsrFactory {
  let key: { privateKey: KeyObject; spki: Buffer } | undefined;
  const keyPair = () => {
    if (!key) {
      const pair =
        keyType === "ec"
          ? generateKeyPairSync("ec", { namedCurve: "P-256" })
          : generateKeyPairSync("rsa", { modulusLength: 2048 });
      key = {
        privateKey: pair.privateKey,
        spki: pair.publicKey.export({ type: "spki", format: "der" }),
      };
    }
    return key;
  };
  const algorithm =
    keyType === "ec"
      ? tlv(0x30, oid(OIDS.ecdsaWithSha256))
      : tlv(0x30, oid(OIDS.sha256WithRSA), Buffer.from([0x05, 0x00]));
  return {
    make(request) {
      const { privateKey, spki } = keyPair();
      const names: Buffer[] = [];
      if (request.country) {
        names.push(attribute(OIDS.country, request.country, 0x13));
      }
      if (request.organization) {
        names.push(attribute(OIDS.organization, request.organization, 0x0c));
      }
      names.push(attribute(OIDS.commonName, request.commonName, 0x0c));
      const sans = Buffer.concat(
        request.altNames.map(name => tlv(0x82, Buffer.from(name, "ascii"))),
      );
      const extensions =
        request.altNames.length > 0
          ? tlv(
              0x30,
              oid(OIDS.extensionRequest),
              tlv(0x31, tlv(0x30, tlv(0x30, oid(OIDS.subjectAltName), tlv(0x04, tlv(0x30, sans))))),
            )
          : Buffer.alloc(0);
      const info = tlv(
        0x30,
        tlv(0x02, Buffer.from([0])),
        tlv(0x30, ...names),
        spki,
        tlv(0xa0, extensions),
      );
      const signature = sign("sha256", info, privateKey);
      const der = tlv(0x30, info, algorithm, tlv(0x03, Buffer.from([0]), signature));
      const base64 = der
        .toString("base64")
        .replace(/(.{64})/g, "$1\n")
        .trimEnd();
      return `-----BEGIN CERTIFICATE REQUEST-----\n${base64}\n-----END CERTIFICATE REQUEST-----\n`;
    },
  };
}
