import { spawnSync } from "node:child_process";
import { type KeyObject, generateKeyPairSync, randomBytes, sign } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Options of {@link makeCsr}. Subject attributes are encoded in OpenSSL's order: C, ST, L, O, OU, CN, emailAddress. */
export interface MakeCsrOptions {
  /** Subject CN; an empty string leaves the CN out. */
  commonName: string;
  /** DNS names for a subjectAltName extensionRequest; omitted when absent or empty. */
  altNames?: string[];
  keyType?: "rsa" | "ec";
  /** RSA modulus size; default 2048. */
  rsaBits?: number;
  /** EC curve; default P-256. */
  ecCurve?: "P-256" | "P-384" | "P-521";
  /** Signature digest; default sha256. */
  digest?: "sha1" | "sha256" | "sha384" | "sha512";
  organization?: string;
  organizationalUnit?: string;
  country?: string;
  state?: string;
  locality?: string;
  email?: string;
  /**
   * Cache slot of the key pair. CSRs with the same type, size and slot share one key, so a
   * suite pays for each RSA key once; use different slots when a test needs distinct keys.
   */
  keySlot?: string;
}

/** A PEM request or certificate with the PKCS #8 PEM of its private key. */
export interface TestCsr {
  csrPem: string;
  keyPem: string;
}

/** Options of {@link makeSelfSignedCertificate}. */
export interface MakeSelfSignedCertificateOptions extends Pick<
  MakeCsrOptions,
  | "commonName"
  | "altNames"
  | "keyType"
  | "rsaBits"
  | "ecCurve"
  | "organization"
  | "country"
  | "keySlot"
> {
  /** Default: one day ago. */
  notBefore?: Date;
  /** Default: 90 days after notBefore. */
  notAfter?: Date;
  /** basicConstraints cA; default false. */
  isCa?: boolean;
}

/** A self-signed certificate with the PKCS #8 PEM of its private key. */
export interface TestCertificate {
  certPem: string;
  keyPem: string;
}

interface CachedKey {
  privateKey: KeyObject;
  keyPem: string;
  spki: Buffer;
}

const keys = new Map<string, CachedKey>();

/**
 * Builds a real, correctly self-signed PKCS #10 request synchronously (node:crypto signs,
 * a small DER writer assembles it). Keys are cached per type, size and `keySlot` for the
 * life of the test file, so only the first RSA 2048 request of a suite costs ~100 ms.
 */
export function makeCsr(options: MakeCsrOptions): TestCsr {
  const key = cachedKey(options);
  const extensionRequests =
    options.altNames && options.altNames.length > 0
      ? [
          tlv(
            0x30,
            oid("1.2.840.113549.1.9.14"),
            tlv(0x31, tlv(0x30, subjectAltNameExtension(options.altNames))),
          ),
        ]
      : [];
  const info = tlv(
    0x30,
    tlv(0x02, Buffer.from([0])),
    encodeName(options),
    key.spki,
    tlv(0xa0, ...extensionRequests),
  );
  return {
    csrPem: toPem("CERTIFICATE REQUEST", signed(info, key, options)),
    keyPem: key.keyPem,
  };
}

/**
 * Builds a self-signed v3 certificate synchronously: random positive serial,
 * basicConstraints (critical), and a subjectAltName when `altNames` is given.
 */
export function makeSelfSignedCertificate(
  options: MakeSelfSignedCertificateOptions,
): TestCertificate {
  const key = cachedKey(options);
  const notBefore = options.notBefore ?? new Date(Date.now() - 24 * 3600 * 1000);
  const notAfter = options.notAfter ?? new Date(notBefore.getTime() + 90 * 24 * 3600 * 1000);
  const name = encodeName(options);
  const serial = randomBytes(12);
  serial[0] = (serial[0]! & 0x3f) | 0x40;
  const extensions = [
    tlv(
      0x30,
      oid("2.5.29.19"),
      tlv(0x01, Buffer.from([0xff])),
      tlv(0x04, tlv(0x30, ...(options.isCa ? [tlv(0x01, Buffer.from([0xff]))] : []))),
    ),
  ];
  if (options.altNames && options.altNames.length > 0) {
    extensions.push(subjectAltNameExtension(options.altNames));
  }
  const tbs = tlv(
    0x30,
    tlv(0xa0, tlv(0x02, Buffer.from([2]))),
    tlv(0x02, serial),
    algorithmIdentifier(key, "sha256"),
    name,
    tlv(0x30, encodeTime(notBefore), encodeTime(notAfter)),
    name,
    key.spki,
    tlv(0xa3, tlv(0x30, ...extensions)),
  );
  return {
    certPem: toPem("CERTIFICATE", signed(tbs, key, { digest: "sha256" })),
    keyPem: key.keyPem,
  };
}

/**
 * Flips one bit of the signature of a PEM request or certificate, leaving the structure
 * intact: the result still parses, but its signature no longer verifies.
 */
export function withBrokenSignature(pem: string): string {
  const label = /-----BEGIN ([A-Z ]+)-----/.exec(pem)?.[1] ?? "CERTIFICATE REQUEST";
  const der = Buffer.from(pem.replace(/-----[A-Z ]+-----|\s/g, ""), "base64");
  der[der.length - 1] = der[der.length - 1]! ^ 0x01;
  return toPem(label, der);
}

/** Path of the OpenSSL CLI when it is installed, else null (tests that need it skip). */
export const OPENSSL: string | null = (() => {
  const probe = spawnSync("openssl", ["version"], { encoding: "utf8" });
  return probe.status === 0 ? "openssl" : null;
})();

/** What an OpenSSL CLI run printed. */
export interface OpensslResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the OpenSSL CLI in a fresh temp directory holding `files` (name -> content), so
 * arguments can name them relatively; the directory is removed afterwards.
 *
 * @throws Error when OpenSSL is not installed.
 */
export function runOpenssl(args: string[], files: Record<string, string> = {}): OpensslResult {
  if (!OPENSSL) {
    throw new Error("openssl is not installed");
  }
  const dir = mkdtempSync(join(tmpdir(), "pki-test-"));
  try {
    for (const [name, content] of Object.entries(files)) {
      writeFileSync(join(dir, name), content);
    }
    const result = spawnSync(OPENSSL, args, { cwd: dir, encoding: "utf8" });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function cachedKey(
  options: Pick<MakeCsrOptions, "keyType" | "rsaBits" | "ecCurve" | "keySlot">,
): CachedKey {
  const type = options.keyType ?? "rsa";
  const size = type === "rsa" ? String(options.rsaBits ?? 2048) : (options.ecCurve ?? "P-256");
  const cacheKey = `${type}/${size}/${options.keySlot ?? ""}`;
  let key = keys.get(cacheKey);
  if (!key) {
    const pair =
      type === "rsa"
        ? generateKeyPairSync("rsa", { modulusLength: Number(size) })
        : generateKeyPairSync("ec", { namedCurve: size });
    key = {
      privateKey: pair.privateKey,
      keyPem: pair.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
      spki: pair.publicKey.export({ type: "spki", format: "der" }),
    };
    keys.set(cacheKey, key);
  }
  return key;
}

const SIGNATURE_OIDS = {
  rsa: {
    sha1: "1.2.840.113549.1.1.5",
    sha256: "1.2.840.113549.1.1.11",
    sha384: "1.2.840.113549.1.1.12",
    sha512: "1.2.840.113549.1.1.13",
  },
  ec: {
    sha1: "1.2.840.10045.4.1",
    sha256: "1.2.840.10045.4.3.2",
    sha384: "1.2.840.10045.4.3.3",
    sha512: "1.2.840.10045.4.3.4",
  },
} as const;

function algorithmIdentifier(
  key: CachedKey,
  digest: NonNullable<MakeCsrOptions["digest"]>,
): Buffer {
  const isRsa = key.privateKey.asymmetricKeyType === "rsa";
  return isRsa
    ? tlv(0x30, oid(SIGNATURE_OIDS.rsa[digest]), tlv(0x05))
    : tlv(0x30, oid(SIGNATURE_OIDS.ec[digest]));
}

function signed(
  toBeSigned: Buffer,
  key: CachedKey,
  options: Pick<MakeCsrOptions, "digest">,
): Buffer {
  const digest = options.digest ?? "sha256";
  const signature = sign(digest, toBeSigned, key.privateKey);
  return tlv(
    0x30,
    toBeSigned,
    algorithmIdentifier(key, digest),
    tlv(0x03, Buffer.from([0]), signature),
  );
}

function encodeName(options: MakeCsrOptions | MakeSelfSignedCertificateOptions): Buffer {
  const all = options as MakeCsrOptions;
  const attributes: [string, number, string | undefined][] = [
    ["2.5.4.6", 0x13, all.country],
    ["2.5.4.8", 0x0c, all.state],
    ["2.5.4.7", 0x0c, all.locality],
    ["2.5.4.10", 0x0c, all.organization],
    ["2.5.4.11", 0x0c, all.organizationalUnit],
    ["2.5.4.3", 0x0c, all.commonName || undefined],
    ["1.2.840.113549.1.9.1", 0x16, all.email],
  ];
  return tlv(
    0x30,
    ...attributes
      .filter(([, , value]) => value !== undefined)
      .map(([type, tag, value]) =>
        tlv(0x31, tlv(0x30, oid(type), tlv(tag, Buffer.from(value!, "utf8")))),
      ),
  );
}

function subjectAltNameExtension(names: string[]): Buffer {
  const generalNames = tlv(0x30, ...names.map(name => tlv(0x82, Buffer.from(name, "ascii"))));
  return tlv(0x30, oid("2.5.29.17"), tlv(0x04, generalNames));
}

function encodeTime(date: Date): Buffer {
  const iso = date.toISOString().replace(/[-:T]/g, "").slice(0, 14);
  const year = date.getUTCFullYear();
  return year >= 1950 && year < 2050
    ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`, "ascii"))
    : tlv(0x18, Buffer.from(`${iso}Z`, "ascii"));
}

function oid(dotted: string): Buffer {
  const [a = 0, b = 0, ...rest] = dotted.split(".").map(Number);
  const bytes: number[] = [];
  for (const arc of [a * 40 + b, ...rest]) {
    const chunk = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) {
      chunk.unshift((v & 0x7f) | 0x80);
    }
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

function tlv(tag: number, ...parts: Uint8Array[]): Buffer {
  const content = Buffer.concat(parts);
  let length: Buffer;
  if (content.length < 0x80) {
    length = Buffer.from([content.length]);
  } else {
    const octets: number[] = [];
    for (let n = content.length; n > 0; n = Math.floor(n / 256)) {
      octets.unshift(n & 0xff);
    }
    length = Buffer.from([0x80 | octets.length, ...octets]);
  }
  return Buffer.concat([Buffer.from([tag]), length, content]);
}

function toPem(label: string, der: Buffer): string {
  const lines = der.toString("base64").match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}
