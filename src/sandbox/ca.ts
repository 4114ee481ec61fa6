import "reflect-metadata"; // @peculiar/x509 resolves its services through tsyringe, which needs it
import { createHash, randomBytes, webcrypto } from "node:crypto";
import {
  AuthorityKeyIdentifierExtension,
  BasicConstraintsExtension,
  type Extension,
  ExtendedKeyUsage,
  ExtendedKeyUsageExtension,
  type JsonNameParams,
  KeyUsageFlags,
  KeyUsagesExtension,
  Name,
  PublicKey,
  SubjectAlternativeNameExtension,
  SubjectKeyIdentifierExtension,
  X509CertificateGenerator,
} from "@peculiar/x509";
import { parseCsr } from "../pki/csr";
import { readBitString, readChildren, readRoot, toColonHex } from "../pki/der";
import { encodePem } from "../pki/pem";

/** The certificate authorities the provider resells, each imitated by its own intermediate. */
export type CaBrand = "DigiCert" | "Sectigo";

/** Subject organisation of an OV/EV certificate. */
export interface CertificateOrganization {
  name: string;
  /** ISO 3166 two-letter code. */
  country: string;
  city?: string;
  state?: string;
}

/** What to certify: the CSR's key, for these names, over this period. */
export interface IssueRequest {
  /** PEM request whose public key the certificate certifies; its subject is ignored. */
  csrPem: string;
  /** DNS names, wildcards allowed. The first becomes the subject CN; all go in the SAN. */
  domains: readonly string[];
  brand: CaBrand;
  notBefore: Date;
  notAfter: Date;
  /** OV/EV subject fields (O, C, L, ST); omit for DV. */
  organization?: CertificateOrganization;
}

/** A freshly issued leaf and the chain above it, all as canonical PEM. */
export interface IssuedCertificate {
  certPem: string;
  intermediatePem: string;
  rootPem: string;
  /** The leaf's serial as colon-separated lower-case hex, as `parseCertificate` reports it. */
  serialNumber: string;
}

/** The sandbox's in-memory test CA: one root and one intermediate per brand. */
export interface SandboxCa {
  /** Self-signed "RRPproxy Sandbox Root CA". */
  readonly rootPem: string;
  /** The brand's issuing CA, signed by the root. */
  intermediatePem(brand: CaBrand): string;
  /**
   * Issues a real X.509 leaf for the CSR's key (RSA or EC), signed with SHA-256 by the
   * brand's intermediate. Takes a few milliseconds; safe to call concurrently.
   *
   * @throws PemError when the CSR cannot be parsed or its self-signature is invalid.
   * @throws RangeError when `domains` is empty or the organisation's country is not two letters.
   */
  issue(request: IssueRequest): Promise<IssuedCertificate>;
}

/** Options of {@link createSandboxCa}. */
export interface SandboxCaOptions {
  /** Clock for the CA certificates' validity; defaults to the system clock. */
  now?: () => Date;
}

interface Authority {
  name: Name;
  signingKey: webcrypto.CryptoKey;
  /** Ready-made AKI for the certificates this authority signs. */
  authorityKeyIdentifier: AuthorityKeyIdentifierExtension;
  pem: string;
}

const SANDBOX_ORGANIZATION = "RRPproxy Sandbox";
const INTERMEDIATE_NAMES: Record<CaBrand, string> = {
  DigiCert: "RRPproxy Sandbox DigiCert-style TLS CA",
  Sectigo: "RRPproxy Sandbox Sectigo-style TLS CA",
};
const SIGNING = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as const;

/**
 * Creates a new test CA in memory: an RSA 2048 root and one intermediate per brand
 * (`CA:TRUE, pathlen:0`, keyCertSign+cRLSign, SKI/AKI). Nothing touches the disk, and
 * every call makes a new CA, so certificates of two sandboxes do not chain to each other.
 * The CA certificates are valid from ten years before `now()` (seeded certificates may be
 * back-dated) until twenty (intermediates) or twenty-five (root) years after it.
 */
export async function createSandboxCa(options: SandboxCaOptions = {}): Promise<SandboxCa> {
  const now = (options.now ?? (() => new Date()))();
  const notBefore = yearsFrom(now, -10);
  const [rootKeys, digiCertKeys, sectigoKeys] = await Promise.all([
    generateCaKeys(),
    generateCaKeys(),
    generateCaKeys(),
  ]);

  const rootName = caName("RRPproxy Sandbox Root CA");
  const rootKeyId = await keyIdentifier(rootKeys.publicKey);
  const root = await X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: randomSerial(),
      name: rootName,
      notBefore,
      notAfter: yearsFrom(now, 25),
      keys: rootKeys,
      signingAlgorithm: SIGNING,
      extensions: [
        new BasicConstraintsExtension(true, undefined, true),
        new KeyUsagesExtension(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign, true),
        new SubjectKeyIdentifierExtension(rootKeyId),
      ],
    },
    webcrypto,
  );
  const rootAuthority: Authority = {
    name: rootName,
    signingKey: rootKeys.privateKey,
    authorityKeyIdentifier: new AuthorityKeyIdentifierExtension(rootKeyId),
    pem: encodePem("CERTIFICATE", new Uint8Array(root.rawData)),
  };

  const intermediate = async (
    brand: CaBrand,
    keys: webcrypto.CryptoKeyPair,
  ): Promise<Authority> => {
    const name = caName(INTERMEDIATE_NAMES[brand]);
    const keyId = await keyIdentifier(keys.publicKey);
    const certificate = await X509CertificateGenerator.create(
      {
        serialNumber: randomSerial(),
        subject: name,
        issuer: rootName,
        notBefore,
        notAfter: yearsFrom(now, 20),
        publicKey: keys.publicKey,
        signingKey: rootAuthority.signingKey,
        signingAlgorithm: SIGNING,
        extensions: [
          new BasicConstraintsExtension(true, 0, true),
          new KeyUsagesExtension(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign, true),
          new SubjectKeyIdentifierExtension(keyId),
          rootAuthority.authorityKeyIdentifier,
        ],
      },
      webcrypto,
    );
    return {
      name,
      signingKey: keys.privateKey,
      authorityKeyIdentifier: new AuthorityKeyIdentifierExtension(keyId),
      pem: encodePem("CERTIFICATE", new Uint8Array(certificate.rawData)),
    };
  };
  // Built once: @peculiar/x509 round-trips every extension through its ASN.1 codec, which
  // costs more than the RSA signature itself.
  const leafExtensions = {
    basicConstraints: new BasicConstraintsExtension(false, undefined, true),
    // RSA keys may also encrypt session keys (static RSA key exchange); EC keys only sign.
    rsaKeyUsage: new KeyUsagesExtension(
      KeyUsageFlags.digitalSignature | KeyUsageFlags.keyEncipherment,
      true,
    ),
    keyUsage: new KeyUsagesExtension(KeyUsageFlags.digitalSignature, true),
    extendedKeyUsage: new ExtendedKeyUsageExtension([
      ExtendedKeyUsage.serverAuth,
      ExtendedKeyUsage.clientAuth,
    ]),
  };
  const intermediates: Record<CaBrand, Authority> = {
    DigiCert: await intermediate("DigiCert", digiCertKeys),
    Sectigo: await intermediate("Sectigo", sectigoKeys),
  };

  return {
    rootPem: rootAuthority.pem,
    intermediatePem: brand => intermediates[brand].pem,
    async issue(request) {
      const issuer = intermediates[request.brand];
      const csr = parseCsr(request.csrPem, { requireValidSignature: true });
      const [commonName] = request.domains;
      if (commonName === undefined) {
        throw new RangeError("a certificate needs at least one domain");
      }
      const serial = randomSerial();
      const extensions: Extension[] = [
        leafExtensions.basicConstraints,
        csr.keyAlgorithm === "rsaEncryption" ? leafExtensions.rsaKeyUsage : leafExtensions.keyUsage,
        leafExtensions.extendedKeyUsage,
        new SubjectKeyIdentifierExtension(spkiKeyIdentifier(csr.publicKeySpkiDer)),
        issuer.authorityKeyIdentifier,
        new SubjectAlternativeNameExtension(request.domains.map(value => ({ type: "dns", value }))),
      ];
      const certificate = await X509CertificateGenerator.create(
        {
          serialNumber: serial,
          subject: leafName(commonName, request.organization),
          issuer: issuer.name,
          notBefore: request.notBefore,
          notAfter: request.notAfter,
          publicKey: new PublicKey(csr.publicKeySpkiDer),
          signingKey: issuer.signingKey,
          signingAlgorithm: SIGNING,
          extensions,
        },
        webcrypto,
      );
      return {
        certPem: encodePem("CERTIFICATE", new Uint8Array(certificate.rawData)),
        intermediatePem: issuer.pem,
        rootPem: rootAuthority.pem,
        serialNumber: toColonHex(Buffer.from(serial, "hex")),
      };
    },
  };
}

// Whole seconds, because X.509 times have no fractions.
function yearsFrom(date: Date, years: number): Date {
  const shifted = new Date(date.getTime());
  shifted.setUTCFullYear(shifted.getUTCFullYear() + years);
  shifted.setUTCMilliseconds(0);
  return shifted;
}

function generateCaKeys(): Promise<webcrypto.CryptoKeyPair> {
  return webcrypto.subtle.generateKey(
    { ...SIGNING, modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) },
    false,
    ["sign", "verify"],
  );
}

function caName(commonName: string): Name {
  return new Name([
    { C: [{ printableString: "DE" }] },
    { O: [{ utf8String: SANDBOX_ORGANIZATION }] },
    { CN: [{ utf8String: commonName }] },
  ]);
}

function leafName(commonName: string, organization?: CertificateOrganization): Name {
  // Typed values rather than strings: @peculiar/x509 would otherwise unescape and reinterpret
  // them (a leading "#" becomes hex), which a customer's organisation name must never suffer.
  const rdns: JsonNameParams = [];
  if (organization) {
    if (!/^[A-Za-z]{2}$/.test(organization.country)) {
      throw new RangeError("organization.country must be a two-letter ISO 3166 code");
    }
    rdns.push({ C: [{ printableString: organization.country.toUpperCase() }] });
    if (organization.state) {
      rdns.push({ ST: [{ utf8String: organization.state }] });
    }
    if (organization.city) {
      rdns.push({ L: [{ utf8String: organization.city }] });
    }
    rdns.push({ O: [{ utf8String: organization.name }] });
  }
  rdns.push({ CN: [{ utf8String: commonName }] });
  return new Name(rdns);
}

// 16 random bytes with the top bits forced to 01: positive, no DER padding, never shorter.
function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x3f) | 0x40;
  return bytes.toString("hex");
}

async function keyIdentifier(publicKey: webcrypto.CryptoKey): Promise<string> {
  const spki = Buffer.from(await webcrypto.subtle.exportKey("spki", publicKey));
  return spkiKeyIdentifier(spki);
}

// RFC 5280 4.2.1.2 method (1): SHA-1 of the subjectPublicKey BIT STRING payload.
function spkiKeyIdentifier(spki: Buffer): string {
  const [, subjectPublicKey] = readChildren(spki, readRoot(spki));
  const { bytes } = readBitString(spki, subjectPublicKey);
  return createHash("sha1").update(bytes).digest("hex");
}
