/**
 * Domain control validation data per method and CA (manual 3.5, 7.3, 9.1.16-9.1.21): what the
 * customer must publish for each domain of a certificate. Pure apart from the tokens drawn from
 * the id allocator.
 */
import { createHash } from "node:crypto";
import { type CaName, type DcvMethod } from "./catalog";
import { type IdAllocator } from "./ids";
import { dcvDomainOf, type PlannedDomain, stripWildcard } from "./rules";

/** The validation data of one domain of a certificate (parallel lists of the replies). */
export interface DcvRecord {
  /** The domain whose control is validated (`dcv domain`). */
  domain: string;
  method: DcvMethod;
  /** EMAIL: the approver address (`dcv email`). */
  email?: string;
  /** DNS-TXT/DNS-CNAME: the resource record to publish (`dns rr`). */
  dnsRr?: string;
  /** HTTP/HTTPS: the URL of the file (`file name`). */
  fileName?: string;
  /** HTTP/HTTPS: the single line the file must hold (`file contents`). */
  fileContents?: string;
}

/** What `buildDcv` needs about one order. */
export interface DcvInput {
  ca: CaName;
  method: DcvMethod;
  domains: readonly PlannedDomain[];
  /** EMAIL: the approver address per domain, parallel to `domains`. */
  emails?: readonly string[];
  /** The CSR (Sectigo derives its DNS and file names from it, as Comodo always did). */
  csrPem: string;
  /** A token from CheckCertificate (immediate issuance): used instead of a fresh one. */
  token?: string;
}

function csrDer(csrPem: string): Buffer {
  const body = csrPem.replace(/-----(BEGIN|END)[^-]+-----/g, "").replace(/\s+/g, "");
  return Buffer.from(body, "base64");
}

/**
 * The validation data of every domain, parallel to `input.domains`:
 * - DigiCert DNS-TXT: `@ 3600 IN TXT <token>`, one token for the whole certificate (9.1.17).
 * - DigiCert DNS-CNAME: `<token>.<domain>. IN CNAME dcv.digicert.com` (9.1.21).
 * - DigiCert HTTP(S): `https://<dcv domain>/.well-known/pki-validation/fileauth.txt` holding the
 *   token (9.1.18 shows https also for `dcvmethod = http`).
 * - Sectigo DNS-CNAME: `_<md5>.<domain>. IN CNAME <sha256 first half>.<second half>.sectigo.com.`
 * - Sectigo HTTP(S): `<scheme>://<dcv domain>/.well-known/pki-validation/<MD5>.txt` holding
 *   `<sha256> sectigo.com`; the hashes are those of the CSR (DER), as Sectigo computes them.
 * - EMAIL: the approver address of each domain.
 */
export function buildDcv(input: DcvInput, ids: IdAllocator): DcvRecord[] {
  const token = input.token ?? ids.token();
  const der = csrDer(input.csrPem);
  const md5 = createHash("md5").update(der).digest("hex");
  const sha256 = createHash("sha256").update(der).digest("hex");

  return input.domains.map((entry, index) => {
    const domain = dcvDomainOf(entry);
    const host = stripWildcard(entry.name);
    const record: DcvRecord = { domain, method: input.method };
    switch (input.method) {
      case "email":
        record.email = input.emails?.[index] ?? `hostmaster@${domain}`;
        break;
      case "dns-txt":
        record.dnsRr = `@ 3600 IN TXT ${token}`;
        break;
      case "dns-cname":
        record.dnsRr =
          input.ca === "DigiCert"
            ? `${token}.${host}. IN CNAME dcv.digicert.com`
            : `_${md5}.${host}. IN CNAME ${sha256.slice(0, 32)}.${sha256.slice(32)}.sectigo.com.`;
        break;
      case "http":
      case "https":
        if (input.ca === "DigiCert") {
          record.fileName = `https://${domain}/.well-known/pki-validation/fileauth.txt`;
          record.fileContents = token;
        } else {
          record.fileName = `${input.method}://${domain}/.well-known/pki-validation/${md5.toUpperCase()}.txt`;
          record.fileContents = `${sha256} sectigo.com`;
        }
        break;
    }
    return record;
  });
}
