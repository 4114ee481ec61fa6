import "reflect-metadata"; // @peculiar/x509 resolves its services through tsyringe, which needs it
import { Name } from "@peculiar/x509";
import { PemError } from "./errors";

/**
 * The distinguished-name attributes the provider reports one by one
 * (`csr subject country`, `crt issuer organization`, ...). When an attribute repeats,
 * the first occurrence wins, as with OpenSSL's `X509_NAME_get_index_by_NID`.
 */
export interface DistinguishedNameFields {
  country?: string;
  state?: string;
  locality?: string;
  organization?: string;
  organizationalUnit?: string;
  email?: string;
  commonName?: string;
}

/** A decoded Name: the OpenSSL one-line string and the attributes the provider reports. */
export interface DistinguishedName {
  /** e.g. `C = US, ST = CA, L = San Francisco, O = "Example, Inc.", CN = example.com` */
  readonly oneLine: string;
  readonly fields: DistinguishedNameFields;
}

// OpenSSL's short names (crypto/objects/objects.txt) for attribute types found in TLS certificates.
// @peculiar/x509 registers both directions, so these also become the keys of Name.toJSON().
const OPENSSL_SHORT_NAMES: Record<string, string> = {
  CN: "2.5.4.3",
  SN: "2.5.4.4",
  serialNumber: "2.5.4.5",
  C: "2.5.4.6",
  L: "2.5.4.7",
  ST: "2.5.4.8",
  street: "2.5.4.9",
  O: "2.5.4.10",
  OU: "2.5.4.11",
  title: "2.5.4.12",
  description: "2.5.4.13",
  businessCategory: "2.5.4.15",
  postalCode: "2.5.4.17",
  name: "2.5.4.41",
  GN: "2.5.4.42",
  initials: "2.5.4.43",
  generationQualifier: "2.5.4.44",
  dnQualifier: "2.5.4.46",
  pseudonym: "2.5.4.65",
  organizationIdentifier: "2.5.4.97",
  emailAddress: "1.2.840.113549.1.9.1",
  unstructuredName: "1.2.840.113549.1.9.2",
  DC: "0.9.2342.19200300.100.1.25",
  UID: "0.9.2342.19200300.100.1.1",
  jurisdictionL: "1.3.6.1.4.1.311.60.2.1.1",
  jurisdictionST: "1.3.6.1.4.1.311.60.2.1.2",
  jurisdictionC: "1.3.6.1.4.1.311.60.2.1.3",
};

const FIELD_BY_SHORT_NAME: Record<string, keyof DistinguishedNameFields> = {
  C: "country",
  ST: "state",
  L: "locality",
  O: "organization",
  OU: "organizationalUnit",
  emailAddress: "email",
  CN: "commonName",
};

/**
 * Decodes a DER `Name` (a certificate's subject or issuer, a CSR's subject).
 *
 * `oneLine` is what `openssl x509 -noout -subject -nameopt oneline,-esc_msb` prints, i.e.
 * OpenSSL 3's default one-line format except that non-ASCII characters stay readable
 * UTF-8 instead of becoming `\C3\A9` escapes. Attributes appear in encoded order, RDNs
 * joined by `, `, multi-valued RDN members by ` + `; unknown types print as dotted OIDs.
 *
 * @throws PemError `MALFORMED` when `der` is not a Name.
 */
export function readDistinguishedName(der: Uint8Array): DistinguishedName {
  let rdns: Record<string, string[]>[];
  try {
    rdns = new Name(der, OPENSSL_SHORT_NAMES).toJSON();
  } catch (cause) {
    throw new PemError("MALFORMED", "distinguished name cannot be decoded", { cause });
  }
  const fields: DistinguishedNameFields = {};
  const parts = rdns.map(rdn =>
    Object.entries(rdn)
      .flatMap(([type, values]) =>
        values.map(value => {
          const field = FIELD_BY_SHORT_NAME[type];
          if (field && fields[field] === undefined) {
            fields[field] = value;
          }
          return `${type} = ${escapeValue(value)}`;
        }),
      )
      .join(" + "),
  );
  return { oneLine: parts.join(", "), fields };
}

// Mirrors do_buf()/do_esc_char() in OpenSSL's crypto/asn1/a_strex.c under ASN1_STRFLGS_RFC2253 |
// ASN1_STRFLGS_ESC_QUOTE without ESC_MSB: RFC 2253 specials make the value quoted rather than
// escaped, `"` and `\` are backslash-escaped, control characters become \XX.
function escapeValue(value: string): string {
  let quote = false;
  let out = "";
  for (let i = 0; i < value.length; i++) {
    const ch = value.charAt(i);
    const code = value.charCodeAt(i);
    const isLast = i === value.length - 1;
    if (",+<>;".includes(ch)) {
      quote = true;
      out += ch;
    } else if (ch === '"' || ch === "\\") {
      out += `\\${ch}`;
    } else if (code < 0x20 || code === 0x7f) {
      out += `\\${code.toString(16).toUpperCase().padStart(2, "0")}`;
    } else {
      // OpenSSL flags the first character as "first" only when it is not also the last one.
      if ((i === 0 && !isLast && (ch === " " || ch === "#")) || (isLast && ch === " ")) {
        quote = true;
      }
      out += ch;
    }
  }
  return quote ? `"${out}"` : out;
}
