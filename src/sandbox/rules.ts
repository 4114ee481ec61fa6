/**
 * The provider's order rules as pure functions: domain syntax, registrable (base) domains, free
 * alternatives (manual 6.2, 7.2), approver addresses (3.5.1), billing (6.6) and key sizes (5.1.1).
 * Functions either return a value or throw the `SandboxError` the provider answers.
 */
import {
  type CertificateClass,
  maxDomains,
  maxDomainsWithAlternatives,
  VAT_PERCENT,
} from "./catalog";
import { fail } from "./reply";

/** The five approver mailbox names every CA accepts (3.5.1), in the manual's order. */
export const APPROVER_PREFIXES: readonly string[] = [
  "admin",
  "administrator",
  "hostmaster",
  "webmaster",
  "postmaster",
];

/**
 * Second-level suffixes under which a registrable domain has three labels (`example.co.uk`).
 * A short list of the common ones, not the Public Suffix List.
 */
export const SECOND_LEVEL_SUFFIXES: ReadonlySet<string> = new Set([
  "co.uk",
  "org.uk",
  "me.uk",
  "ltd.uk",
  "plc.uk",
  "net.uk",
  "ac.uk",
  "gov.uk",
  "sch.uk",
  "com.au",
  "net.au",
  "org.au",
  "edu.au",
  "gov.au",
  "asn.au",
  "id.au",
  "co.nz",
  "net.nz",
  "org.nz",
  "ac.nz",
  "govt.nz",
  "co.jp",
  "ne.jp",
  "or.jp",
  "ac.jp",
  "go.jp",
  "co.za",
  "org.za",
  "gov.za",
  "com.br",
  "net.br",
  "org.br",
  "gov.br",
  "com.cn",
  "net.cn",
  "org.cn",
  "gov.cn",
  "co.in",
  "net.in",
  "org.in",
  "gov.in",
  "co.kr",
  "or.kr",
  "com.mx",
  "org.mx",
  "com.tr",
  "org.tr",
  "com.ar",
  "com.sg",
  "com.hk",
  "co.il",
  "co.at",
  "or.at",
  "com.pl",
  "com.es",
  "com.tw",
  "co.id",
  "com.my",
  "co.th",
]);

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const TOP_LEVEL = /^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/;

/** `true` for `*.example.com`. */
export function isWildcard(domain: string): boolean {
  return domain.startsWith("*.");
}

/** The domain without a leading `*.`. */
export function stripWildcard(domain: string): string {
  return isWildcard(domain) ? domain.slice(2) : domain;
}

/**
 * Normalises one domain as given in an order (trimmed, lower case, no trailing dot) and checks
 * its syntax: ASCII only (IDNs as punycode `xn--`), at least two labels of letters, digits and
 * inner hyphens, an alphabetic or punycode top level, at most 253 characters, and `*` only as
 * the whole leftmost label. Throws 505 otherwise.
 */
export function normalizeDomain(raw: string): string {
  const domain = raw.trim().toLowerCase().replace(/\.$/, "");
  // eslint-disable-next-line no-control-regex
  if (/[^\x00-\x7f]/.test(domain)) {
    throw fail.syntax(`domain ${raw}: must be sent in ASCII (punycode xn--...), not as an IDN`);
  }
  const host = stripWildcard(domain);
  if (host.includes("*")) {
    throw fail.syntax(`domain ${raw}: a wildcard is only allowed as the leftmost label "*."`);
  }
  const labels = host.split(".");
  if (
    domain.length > 253 ||
    labels.length < 2 ||
    !labels.every(label => LABEL.test(label)) ||
    !TOP_LEVEL.test(labels[labels.length - 1] ?? "")
  ) {
    throw fail.syntax(`domain ${raw}: not a valid domain name`);
  }
  return domain;
}

/**
 * The registrable domain: the last two labels, or the last three under a common second-level
 * suffix (`shop.example.co.uk` -> `example.co.uk`). A leading `*.` is ignored.
 */
export function baseDomain(domain: string): string {
  const labels = stripWildcard(domain).split(".");
  const lastTwo = labels.slice(-2).join(".");
  if (labels.length >= 3 && SECOND_LEVEL_SUFFIXES.has(lastTwo)) {
    return labels.slice(-3).join(".");
  }
  return lastTwo;
}

/**
 * The free alternative of a domain (6.2): `www.x` for `x`, `x` for `www.x`, `x` for `*.x`;
 * `undefined` when there is none (e.g. `www.co.uk`).
 */
export function alternativeOf(domain: string): string | undefined {
  if (isWildcard(domain)) {
    return domain.slice(2);
  }
  if (domain.startsWith("www.")) {
    const rest = domain.slice(4);
    return rest.includes(".") && !SECOND_LEVEL_SUFFIXES.has(rest) ? rest : undefined;
  }
  return `www.${domain}`;
}

/**
 * The approver addresses of a domain (3.5.1): the five mailboxes at the domain (without `*.`),
 * then the five at its registrable domain when that differs.
 */
export function approverEmails(domain: string): string[] {
  const host = stripWildcard(domain);
  const hosts = [host];
  const base = baseDomain(host);
  if (base !== host) {
    hosts.push(base);
  }
  return hosts.flatMap(h => APPROVER_PREFIXES.map(prefix => `${prefix}@${h}`));
}

/** `true` when `email` may approve `domain` (case-insensitive). */
export function isApproverEmail(domain: string, email: string): boolean {
  return approverEmails(domain).includes(email.trim().toLowerCase());
}

/** One domain of an order after the free alternatives were worked out. */
export interface PlannedDomain {
  name: string;
  /** Position in the request's domain list, or `undefined` for an added alternative. */
  givenIndex?: number;
  /** A free alternative (given or added), not billed. */
  free: boolean;
  /** For a free alternative: the domain it belongs to. */
  origin?: string;
  /** For a domain that got a free alternative: that alternative. */
  alternative?: string;
}

/**
 * Works out the certificate's domain list (6.2, 7.2, 9.1.14): the given domains in order, then,
 * unless `autofill` is off, the free alternatives added for each given domain in order, up to the
 * class's number of free alternatives and its most domains. An alternative that was given
 * explicitly counts as free first (so `example.com` with `*.example.com` is not billed twice).
 * Checks duplicates, wildcard support and the class's limits (541).
 */
export function planDomains(
  cls: CertificateClass,
  given: readonly string[],
  autofill: boolean,
): PlannedDomain[] {
  const seen = new Set<string>();
  for (const name of given) {
    if (seen.has(name)) {
      throw fail.policy(`domain ${name}: given more than once`);
    }
    seen.add(name);
    if (isWildcard(name) && !cls.wildcard) {
      throw fail.policy(`domain ${name}: class ${cls.id} does not support wildcard domains`);
    }
  }
  const limit = maxDomainsWithAlternatives(cls);
  if (given.length > limit) {
    throw fail.policy(`class ${cls.id} allows at most ${limit} domains, got ${given.length}`);
  }
  const plan: PlannedDomain[] = given.map((name, givenIndex) => ({
    name,
    givenIndex,
    free: false,
  }));
  let budget = cls.freeAlternatives;

  // First the explicitly given alternatives, then the ones added automatically.
  for (const entry of plan) {
    if (budget === 0) {
      break;
    }
    if (entry.free || entry.alternative !== undefined) {
      continue;
    }
    const alt = alternativeOf(entry.name);
    const partner = plan.find(p => p.name === alt);
    if (partner && !partner.free && partner.alternative === undefined && partner !== entry) {
      partner.free = true;
      partner.origin = entry.name;
      entry.alternative = partner.name;
      budget--;
    }
  }
  if (autofill) {
    for (const entry of plan.slice(0, given.length)) {
      if (budget === 0 || plan.length >= limit) {
        break;
      }
      if (entry.free || entry.alternative !== undefined) {
        continue;
      }
      const alt = alternativeOf(entry.name);
      if (alt === undefined || plan.some(p => p.name === alt)) {
        continue;
      }
      plan.push({ name: alt, free: true, origin: entry.name });
      entry.alternative = alt;
      budget--;
    }
  }

  const paid = plan.filter(p => !p.free);
  const most = maxDomains(cls);
  if (paid.length > most) {
    throw fail.policy(
      cls.san
        ? `class ${cls.id} allows at most ${most} domains, got ${paid.length}`
        : `class ${cls.id} is a single-domain class: 1 domain plus its free alternative, got ${paid.length} domains to bill`,
    );
  }
  return plan;
}

/**
 * The domain whose control is validated for `entry` (the `dcv domain` of 9.1.16): a pair of a
 * domain and its free alternative is validated at the shorter name (`example.com` for
 * `www.example.com` and for `*.example.com`); any other domain at itself without `*.`.
 */
export function dcvDomainOf(entry: PlannedDomain): string {
  const partner = entry.origin ?? entry.alternative;
  const own = stripWildcard(entry.name);
  if (partner === undefined) {
    return own;
  }
  const other = stripWildcard(partner);
  return other.length < own.length ? other : own;
}

/** One billed price type and how many of it (manual 6.6, 9.1.14). */
export interface BillingLine {
  type: string;
  count: number;
}

/** What an order costs: billing lines (SAN lines first, then the base), net price and VAT. */
export interface Quote {
  lines: BillingLine[];
  priceMinor: number;
  vatMinor: number;
}

/**
 * Prices an order (6.6): exactly one `<class>-base` or `<class>-wildcardbase` (wildcard when any
 * domain is one), covering the class's included domains (wildcards first when the base is the
 * wildcard one); every further domain that is not a free alternative is a `<class>-san` or
 * `<class>-wildcardsan`. VAT is `VAT_PERCENT` of the net price, rounded to cents.
 */
export function quote(cls: CertificateClass, plan: readonly PlannedDomain[]): Quote {
  const paid = plan.filter(p => !p.free);
  const wildcards = paid.filter(p => isWildcard(p.name)).length;
  const plain = paid.length - wildcards;
  const wildcardBase = wildcards > 0;
  const coveredWildcards = wildcardBase ? Math.min(cls.includedDomains, wildcards) : 0;
  const coveredPlain = Math.min(cls.includedDomains - coveredWildcards, plain);
  const extraPlain = plain - coveredPlain;
  const extraWildcards = wildcards - coveredWildcards;
  const prices = cls.prices;

  const lines: BillingLine[] = [];
  let priceMinor = wildcardBase ? (prices.wildcardBase ?? prices.base) : prices.base;
  if (extraPlain > 0) {
    lines.push({ type: `${cls.id}-san`, count: extraPlain });
    priceMinor += extraPlain * (prices.san ?? 0);
  }
  if (extraWildcards > 0) {
    lines.push({ type: `${cls.id}-wildcardsan`, count: extraWildcards });
    priceMinor += extraWildcards * (prices.wildcardSan ?? 0);
  }
  lines.push({ type: wildcardBase ? `${cls.id}-wildcardbase` : `${cls.id}-base`, count: 1 });
  return { lines, priceMinor, vatMinor: Math.round((priceMinor * VAT_PERCENT) / 100) };
}

/** Minor units as the provider writes amounts: no trailing zeros (`42`, `6.72`, `6.5`). */
export function formatMoney(minor: number): string {
  const sign = minor < 0 ? "-" : "";
  const abs = Math.abs(minor);
  const whole = Math.floor(abs / 100);
  const cents = abs % 100;
  if (cents === 0) {
    return `${sign}${whole}`;
  }
  return `${sign}${whole}.${String(cents).padStart(2, "0").replace(/0$/, "")}`;
}

/** Key facts of a CSR that the key-size rule needs. */
export interface KeyFacts {
  keyAlgorithm: string;
  keySize?: number;
}

/**
 * Checks the CSR's key against the CA/B minimums (5.1.1): RSA at least 2048 bits, EC at least
 * 256. Throws 541 otherwise; an unknown size passes.
 */
export function checkKeySize(key: KeyFacts): void {
  if (key.keySize === undefined) {
    return;
  }
  if (key.keyAlgorithm === "rsaEncryption" && key.keySize < 2048) {
    throw fail.policy(`csr: RSA key of ${key.keySize} bits, at least 2048 are required`);
  }
  if (key.keyAlgorithm === "id-ecPublicKey" && key.keySize < 256) {
    throw fail.policy(`csr: EC key of ${key.keySize} bits, at least 256 are required`);
  }
}

/** A loose e-mail syntax check (one `@`, a dotted domain). */
export function isEmail(text: string): boolean {
  return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(text);
}

/** A loose phone check: `+<country>.<number>` (9.1.7) or `+<country> <area> <line>` (5.1.1). */
export function isPhone(text: string): boolean {
  return /^\+\d{1,3}[. ]?[\d .-]{4,20}$/.test(text);
}
