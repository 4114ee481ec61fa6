/**
 * The provider's product catalog as data: the 20 certificate classes with their product matrix
 * (manual 9.3), the server types per CA (9.2) and the sandbox's price list. Taken literally from
 * the manual's tables, including the entries that look odd (see the notes on `CLASSES`).
 */

/** The two CAs behind the classes; also the brand the sandbox CA issues under. */
export type CaName = "DigiCert" | "Sectigo";

/** Validation type of a class (9.3.1), upper case as GetCertificateInfo answers it. */
export type ValidationType = "DV" | "OV" | "EV";

/** The DCV methods, lower case as replies spell them (`dcv method`). */
export type DcvMethod = "email" | "dns-txt" | "dns-cname" | "http" | "https";

/** Every DCV method in the manual's order (8.1.2). */
export const DCV_METHODS: readonly DcvMethod[] = ["email", "dns-txt", "dns-cname", "http", "https"];

/** The contact roles of an order (9.3.4). */
export type ContactRole = "tech" | "organization" | "evapprover";

/** Prices of a class in minor units (cents), before VAT (manual 6.6). */
export interface ClassPrices {
  /** `<class>-base`: the certificate without wildcard domains. */
  base: number;
  /** `<class>-wildcardbase`: the certificate with at least one wildcard domain. */
  wildcardBase?: number;
  /** `<class>-san`: each paid additional non-wildcard domain. */
  san?: number;
  /** `<class>-wildcardsan`: each paid additional wildcard domain. */
  wildcardSan?: number;
}

/** One certificate class with its product matrix row (manual 9.3.1-9.3.5). */
export interface CertificateClass {
  /** Lower-case class name as the API takes it: `ssl123dv`. */
  id: string;
  /** Upper-case name as replies show it: `SSL123DV`. */
  name: string;
  ca: CaName;
  type: ValidationType;
  marketedName: string;
  /** Two letters: the CA letter (D/S) and a class letter; starts every id of the class. */
  prefix: string;
  wildcard: boolean;
  san: boolean;
  /** Domains included in the base price (9.3.2 "included SAN"). */
  includedDomains: number;
  /** Free alternative domains (9.3.2 "Free alternatives"). */
  freeAlternatives: number;
  dcv: Readonly<Record<DcvMethod, boolean>>;
  /** `true` = MANDATORY, `false` = NO (9.3.4: 1/0). */
  contacts: Readonly<Record<ContactRole, boolean>>;
  periods: readonly string[];
  refundOnCancel: boolean;
  immediateIssuance: boolean;
  reissue: boolean;
  revoke: boolean;
  prices: ClassPrices;
}

/** The VAT rate the sandbox charges, in percent (9.1.13: 42 -> 6.72). */
export const VAT_PERCENT = 16;

/** Most domains of a SAN class, alternatives included (9.1.2). */
export const MAX_SAN_DOMAINS = 250;

/** Server types of DigiCert classes (9.2.1), in the manual's order. */
export const DIGICERT_SERVER_TYPES: readonly string[] = [
  "apache",
  "barracuda",
  "weblogic",
  "cisco",
  "citrix",
  "cpanel",
  "f5",
  "ibm",
  "java",
  "lighttpd",
  "lotus",
  "macos",
  "exchange.*2007",
  "exchange.*2010",
  "exchange.*2013",
  "exchange.*2016",
  "forefront",
  "iis56",
  "iis7",
  "iis8",
  "iis10",
  "netscape",
  "iplanet",
  "nginx",
  "novellichain",
  "novellnetware",
  "oracle",
  "qmail",
  "sunone",
  "tomcat",
  "webstar",
  "zeus",
  "other",
];

/** Server types of Sectigo classes (9.2.2), in the manual's order. */
export const SECTIGO_SERVER_TYPES: readonly string[] = [
  "apache",
  "cpanel",
  "java",
  "iis56",
  "iis7",
  "nginx",
  "oracle",
  "other",
];

/** The server type an order gets when none is given (9.1.16). */
export const DEFAULT_SERVER_TYPE = "apache";

const DIGICERT_DCV = { email: true, "dns-txt": true, "dns-cname": true, http: true, https: true };
// 7.3 and 9.3.3: Sectigo takes DNS records only as CNAME.
const SECTIGO_DCV = { email: true, "dns-txt": false, "dns-cname": true, http: true, https: true };

const TECH = { tech: true, organization: false, evapprover: false };
const ORG = { tech: false, organization: true, evapprover: false };
const ORG_EV = { tech: false, organization: true, evapprover: true };

type Row = Omit<CertificateClass, "id" | "periods" | "reissue" | "revoke" | "dcv" | "ca">;

function digicert(row: Row): CertificateClass {
  return {
    ...row,
    id: row.name.toLowerCase(),
    ca: "DigiCert",
    dcv: DIGICERT_DCV,
    periods: ["1y"],
    reissue: true,
    revoke: true,
  };
}

// 8.1.4: "This is currently not available for Comodo certificates": Sectigo has no reissue.
function sectigo(row: Row): CertificateClass {
  return {
    ...row,
    id: row.name.toLowerCase(),
    ca: "Sectigo",
    dcv: SECTIGO_DCV,
    periods: ["1y"],
    reissue: false,
    revoke: true,
  };
}

/**
 * The 20 classes of manual 9.3, row by row. Oddities kept literally, as the live system reports
 * them:
 * - SECURESITEPROEV is listed with type `dv` (9.3.1) and needs only a tech contact (9.3.4).
 * - WEBSERVEREV needs only a tech contact, while WEBSERVEROV needs an EV approver (9.3.4).
 * - RAPIDSSLDV has no SAN support but 250 free alternatives (9.3.2): a single domain can only
 *   ever have one alternative, so the effective number is 1.
 * - The Sectigo OV/EV classes need only a tech contact (Sectigo has no contact objects, 7.1).
 * - WEBSERVEREV and SECURESITEPROEV support immediate issuance (9.3.5).
 * - The manual spells `securesiteproov` as `securesiteproof` in its syntax tables and
 *   `positivessldv` as `POSITIVSSLDV` in 9.3.1; both misspellings are accepted as aliases.
 * Prices are the sandbox's own (plausible, not the provider's), except ssl123dv whose base (42)
 * and san (28) reproduce the manual's examples 9.1.13-9.1.15.
 */
export const CLASSES: readonly CertificateClass[] = Object.freeze([
  digicert({
    name: "GEOTRUSTFLEXDV",
    type: "DV",
    marketedName: "GeoTrust Flex",
    prefix: "DF",
    wildcard: true,
    san: true,
    includedDomains: 1,
    freeAlternatives: 250,
    contacts: TECH,
    refundOnCancel: true,
    immediateIssuance: true,
    prices: { base: 3900, wildcardBase: 13900, san: 2500, wildcardSan: 11900 },
  }),
  digicert({
    name: "GEOTRUSTTRUEBIZIDEV",
    type: "EV",
    marketedName: "GeoTrust TrueBusiness ID EV",
    prefix: "DB",
    wildcard: false,
    san: true,
    includedDomains: 1,
    freeAlternatives: 250,
    contacts: ORG_EV,
    refundOnCancel: true,
    immediateIssuance: false,
    prices: { base: 14900, san: 9900 },
  }),
  digicert({
    name: "GEOTRUSTTRUEBIZIDOV",
    type: "OV",
    marketedName: "GeoTrust TrueBusiness ID OV",
    prefix: "DT",
    wildcard: true,
    san: true,
    includedDomains: 1,
    freeAlternatives: 250,
    contacts: ORG,
    refundOnCancel: true,
    immediateIssuance: false,
    prices: { base: 7900, wildcardBase: 24900, san: 5900, wildcardSan: 19900 },
  }),
  digicert({
    name: "RAPIDSSLDV",
    type: "DV",
    marketedName: "RapidSSL",
    prefix: "DD",
    wildcard: true,
    san: false,
    includedDomains: 1,
    freeAlternatives: 250,
    contacts: TECH,
    refundOnCancel: true,
    immediateIssuance: true,
    prices: { base: 1900, wildcardBase: 8900 },
  }),
  digicert({
    name: "SECURESITEFLEXEV",
    type: "EV",
    marketedName: "Secure Site Flex EV SSL",
    prefix: "DX",
    wildcard: false,
    san: true,
    includedDomains: 1,
    freeAlternatives: 250,
    contacts: ORG_EV,
    refundOnCancel: true,
    immediateIssuance: false,
    prices: { base: 44900, san: 29900 },
  }),
  digicert({
    name: "SECURESITEFLEXOV",
    type: "OV",
    marketedName: "Secure Site Flex SSL",
    prefix: "DL",
    wildcard: true,
    san: true,
    includedDomains: 1,
    freeAlternatives: 250,
    contacts: ORG,
    refundOnCancel: true,
    immediateIssuance: false,
    prices: { base: 24900, wildcardBase: 69900, san: 17900, wildcardSan: 59900 },
  }),
  digicert({
    name: "SECURESITEPROEV",
    type: "DV",
    marketedName: "SecureSite Pro EV",
    prefix: "DE",
    wildcard: false,
    san: true,
    includedDomains: 1,
    freeAlternatives: 250,
    contacts: TECH,
    refundOnCancel: true,
    immediateIssuance: true,
    prices: { base: 69900, san: 44900 },
  }),
  digicert({
    name: "SECURESITEPROOV",
    type: "OV",
    marketedName: "Secure Site Pro SSL",
    prefix: "DP",
    wildcard: true,
    san: true,
    includedDomains: 1,
    freeAlternatives: 250,
    contacts: ORG,
    refundOnCancel: true,
    immediateIssuance: false,
    prices: { base: 49900, wildcardBase: 119900, san: 34900, wildcardSan: 99900 },
  }),
  digicert({
    name: "SSL123DV",
    type: "DV",
    marketedName: "SSL123DV",
    prefix: "DK",
    wildcard: true,
    san: true,
    includedDomains: 1,
    freeAlternatives: 3,
    contacts: TECH,
    refundOnCancel: true,
    immediateIssuance: true,
    prices: { base: 4200, wildcardBase: 14900, san: 2800, wildcardSan: 12900 },
  }),
  digicert({
    name: "WEBSERVEREV",
    type: "EV",
    marketedName: "Webserver EV",
    prefix: "DW",
    wildcard: false,
    san: true,
    includedDomains: 1,
    freeAlternatives: 250,
    contacts: TECH,
    refundOnCancel: true,
    immediateIssuance: true,
    prices: { base: 19900, san: 12900 },
  }),
  digicert({
    name: "WEBSERVEROV",
    type: "OV",
    marketedName: "Webserver",
    prefix: "DO",
    wildcard: true,
    san: true,
    includedDomains: 1,
    freeAlternatives: 250,
    contacts: ORG_EV,
    refundOnCancel: true,
    immediateIssuance: false,
    prices: { base: 9900, wildcardBase: 29900, san: 6900, wildcardSan: 24900 },
  }),
  sectigo({
    name: "INSTANTSSLOV",
    type: "OV",
    marketedName: "InstantSSL Certificate",
    prefix: "SI",
    wildcard: true,
    san: false,
    includedDomains: 1,
    freeAlternatives: 1,
    contacts: TECH,
    refundOnCancel: false,
    immediateIssuance: false,
    prices: { base: 4900, wildcardBase: 17900 },
  }),
  sectigo({
    name: "MULTIDOMAINDV",
    type: "DV",
    marketedName: "DV Multi-Domain SSL Certificate",
    prefix: "SD",
    wildcard: true,
    san: true,
    includedDomains: 3,
    freeAlternatives: 0,
    contacts: TECH,
    refundOnCancel: false,
    immediateIssuance: false,
    prices: { base: 2900, wildcardBase: 9900, san: 1200, wildcardSan: 7900 },
  }),
  sectigo({
    name: "MULTIDOMAINEV",
    type: "EV",
    marketedName: "EV Multi-Domain SSL Certificate",
    prefix: "SE",
    wildcard: false,
    san: true,
    includedDomains: 3,
    freeAlternatives: 0,
    contacts: TECH,
    refundOnCancel: false,
    immediateIssuance: false,
    prices: { base: 17900, san: 6900 },
  }),
  sectigo({
    name: "MULTIDOMAINOV",
    type: "OV",
    marketedName: "OV Multi-Domain SSL Certificate",
    prefix: "SM",
    wildcard: true,
    san: true,
    includedDomains: 3,
    freeAlternatives: 0,
    contacts: TECH,
    refundOnCancel: false,
    immediateIssuance: false,
    prices: { base: 8900, wildcardBase: 19900, san: 2900, wildcardSan: 12900 },
  }),
  sectigo({
    name: "POSITIVESSLDV",
    type: "DV",
    marketedName: "PositiveSSL Certificate",
    prefix: "SP",
    wildcard: true,
    san: false,
    includedDomains: 1,
    freeAlternatives: 1,
    contacts: TECH,
    refundOnCancel: false,
    immediateIssuance: false,
    prices: { base: 900, wildcardBase: 6900 },
  }),
  sectigo({
    name: "PREMIUMOV",
    type: "OV",
    marketedName: "SectigoSSL PremiumOV Certificate",
    prefix: "SR",
    wildcard: false,
    san: false,
    includedDomains: 1,
    freeAlternatives: 1,
    contacts: TECH,
    refundOnCancel: false,
    immediateIssuance: false,
    prices: { base: 6900 },
  }),
  sectigo({
    name: "SINGLEDOMAINEV",
    type: "EV",
    marketedName: "Sectigo SingleDomain EV Certificate",
    prefix: "SS",
    wildcard: false,
    san: false,
    includedDomains: 1,
    freeAlternatives: 1,
    contacts: TECH,
    refundOnCancel: false,
    immediateIssuance: false,
    prices: { base: 12900 },
  }),
  sectigo({
    name: "UNIFIEDCOMMUNICATIONSDV",
    type: "DV",
    marketedName: "SSL Unified Communications Certificate",
    prefix: "SU",
    wildcard: true,
    san: true,
    includedDomains: 3,
    freeAlternatives: 0,
    contacts: TECH,
    refundOnCancel: false,
    immediateIssuance: false,
    prices: { base: 3900, wildcardBase: 11900, san: 1500, wildcardSan: 8900 },
  }),
  sectigo({
    name: "UNIFIEDCOMMUNICATIONSOV",
    type: "OV",
    marketedName: "SSL Unified Communications OV Certificate",
    prefix: "SC",
    wildcard: true,
    san: true,
    includedDomains: 3,
    freeAlternatives: 0,
    contacts: TECH,
    refundOnCancel: false,
    immediateIssuance: false,
    prices: { base: 9900, wildcardBase: 21900, san: 3500, wildcardSan: 14900 },
  }),
]);

const ALIASES: Readonly<Record<string, string>> = {
  securesiteproof: "securesiteproov",
  positivssldv: "positivessldv",
};

const BY_ID = new Map(CLASSES.map(c => [c.id, c]));

/** The class named `name` (case-insensitive, manual misspellings accepted), or `undefined`. */
export function findClass(name: string): CertificateClass | undefined {
  const key = name.trim().toLowerCase();
  return BY_ID.get(ALIASES[key] ?? key);
}

/** The class of a certificate or order id by its two-letter prefix, or `undefined`. */
export function classOfId(id: string): CertificateClass | undefined {
  const prefix = id.slice(0, 2).toUpperCase();
  return CLASSES.find(c => c.prefix === prefix);
}

/** The server types a class accepts (its CA's list, 9.2). */
export function serverTypes(cls: CertificateClass): readonly string[] {
  return cls.ca === "DigiCert" ? DIGICERT_SERVER_TYPES : SECTIGO_SERVER_TYPES;
}

/** Most domains given for a class, free alternatives not counted (SAN: 250, otherwise 1). */
export function maxDomains(cls: CertificateClass): number {
  return cls.san ? MAX_SAN_DOMAINS : 1;
}

/** Most domains in the certificate, free alternatives included (SAN: 250, otherwise 1 + 1). */
export function maxDomainsWithAlternatives(cls: CertificateClass): number {
  return cls.san ? MAX_SAN_DOMAINS : 1 + Math.min(1, cls.freeAlternatives);
}

/** Most wildcard domains of a class (0 without wildcard support). */
export function maxWildcardDomains(cls: CertificateClass): number {
  return cls.wildcard ? maxDomains(cls) : 0;
}

/** The CA's name in upper case, as GetCertificateInfo's `supplier` shows it (9.1.2). */
export function supplier(cls: CertificateClass): string {
  return cls.ca.toUpperCase();
}
