/**
 * Pre-flight checks of a certificate order against the rules of its class (manual 3.3-3.6, 6.2,
 * 7, AddCertificate 8.1.2 and the product matrix 9.3), so that an order the provider would refuse,
 * or accept and then never validate, is stopped before it costs money. Pure: no I/O, no clock.
 */
import { domainToASCII } from "node:url";
import { type CsrInfo, parseCsr } from "./pki/csr";
import { PemError } from "./pki/errors";
import { CERTIFICATE_LABELS, tryReadPemBlocks } from "./pki/pem";
import { type ClassRecord, type DcvMethodValue } from "./upstream/types";

/** What `checkOrder` looks at: the order as the client asked for it, and the class it names. */
export interface OrderRuleInput {
  /** The class the order names, as GetCertificateInfo describes it. */
  klass: ClassRecord;
  /** The domains in the client's order; the first one becomes the common name. */
  domains: string[];
  /** Absent when the client did not choose one (a renewal keeps the previous method). */
  dcvMethod?: DcvMethodValue;
  /** One per domain in domain order, or a single address used for every domain. */
  approverEmails?: string[];
  /** PEM of the certificate signing request. */
  csrPem?: string;
  /** Absent: the provider's default (one year). */
  periodYears?: number;
  /** Which contacts the order gives (an id/handle or inline data), whatever their content. */
  contacts: { tech: boolean; organization: boolean; evApprover: boolean };
  /** Token from CheckCertificate for immediate issuance. */
  dcvToken?: string;
  /** Whether the provider adds the class's free alternatives (NOAUTOFILLDOMAINS=0). Default true. */
  autofillDomains?: boolean;
  /** Whether a missing CSR is a violation (AddCertificate: yes; renew and reissue: no). Default true. */
  requireCsr?: boolean;
}

/**
 * The stable codes of `RuleViolation.rule`. Clients may switch on them; the message is for people.
 */
export type OrderRuleCode =
  | "DOMAINS_REQUIRED"
  | "DOMAIN_NOT_ASCII"
  | "DOMAIN_TOO_LONG"
  | "DOMAIN_LABEL_INVALID"
  | "DOMAIN_NOT_FQDN"
  | "DOMAIN_WILDCARD_INVALID"
  | "DOMAIN_TLD_INVALID"
  | "DOMAIN_PUBLIC_SUFFIX"
  | "DOMAIN_DUPLICATE"
  | "COMMON_NAME_TOO_LONG"
  | "WILDCARD_NOT_ALLOWED"
  | "SAN_NOT_SUPPORTED"
  | "TOO_MANY_DOMAINS"
  | "TOO_MANY_WILDCARD_DOMAINS"
  | "TOO_MANY_NON_WILDCARD_DOMAINS"
  | "DCV_METHOD_NOT_SUPPORTED"
  | "DCV_METHOD_NOT_FOR_WILDCARD"
  | "APPROVER_EMAILS_REQUIRED"
  | "APPROVER_EMAILS_COUNT"
  | "APPROVER_EMAILS_NOT_EXPECTED"
  | "APPROVER_EMAIL_INVALID"
  | "APPROVER_EMAIL_NOT_ALLOWED"
  | "APPROVER_EMAIL_NOT_VALID_FOR_ALTERNATIVE"
  | "CONTACT_REQUIRED"
  | "CONTACT_NOT_ACCEPTED"
  | "PERIOD_NOT_SUPPORTED"
  | "CSR_REQUIRED"
  | "CSR_MALFORMED"
  | "CSR_IS_CERTIFICATE"
  | "CSR_IS_PRIVATE_KEY"
  | "CSR_WRONG_TYPE"
  | "CSR_BAD_SIGNATURE"
  | "CSR_KEY_TOO_SMALL"
  | "CSR_KEY_ALGORITHM_NOT_SUPPORTED"
  | "CSR_COMMON_NAME_MISMATCH"
  | "DCV_TOKEN_NOT_SUPPORTED"
  | "DCV_TOKEN_METHOD";

/**
 * One reason the order would fail. `field` is the path inside the mutation's `input`
 * (`domains[2]`, `csr`, `approverEmails[0]`, `techContact`), `message` repeats the field and the
 * offending value and says what to change. Messages never quote the CSR.
 */
export interface RuleViolation {
  field: string;
  rule: OrderRuleCode;
  message: string;
}

/** The mailbox names every CA accepts for email validation (manual 3.5.1), in that order. */
export const APPROVER_MAILBOXES: readonly string[] = Object.freeze([
  "admin",
  "administrator",
  "hostmaster",
  "webmaster",
  "postmaster",
]);

// Second-level public suffixes under which people register domains. A subset of the Public Suffix
// List's ICANN section: enough for the common ccTLDs, not the PSL (see registrableDomain).
const TWO_LEVEL_SUFFIXES: ReadonlySet<string> = new Set(
  [
    "ac.uk co.uk gov.uk ltd.uk me.uk net.uk nhs.uk org.uk plc.uk police.uk sch.uk",
    "asn.au com.au edu.au gov.au id.au net.au org.au",
    "ac.jp ad.jp co.jp ed.jp go.jp gr.jp lg.jp ne.jp or.jp",
    "ac.nz co.nz geek.nz gen.nz govt.nz kiwi.nz maori.nz net.nz org.nz school.nz",
    "ac.za co.za gov.za net.za org.za web.za",
    "com.br edu.br gov.br net.br org.br",
    "com.cn edu.cn gov.cn net.cn org.cn",
    "ac.in co.in edu.in firm.in gen.in gov.in ind.in net.in org.in res.in",
    "ac.kr co.kr go.kr ne.kr or.kr re.kr",
    "ac.il co.il gov.il net.il org.il",
    "com.mx edu.mx gob.mx net.mx org.mx",
    "com.ar gob.ar net.ar org.ar",
    "biz.tr com.tr gen.tr info.tr net.tr org.tr",
    "com.tw idv.tw net.tw org.tw",
    "com.hk edu.hk gov.hk idv.hk net.hk org.hk",
    "com.sg edu.sg gov.sg net.sg org.sg",
    "com.my net.my org.my",
    "ac.id co.id go.id or.id web.id",
    "ac.th co.th go.th in.th or.th",
    "com.ua net.ua org.ua",
    "com.pl net.pl org.pl",
    "com.es nom.es org.es",
    "co.at or.at",
    "co.ae net.ae org.ae",
    "com.co com.eg com.pe com.ph com.pk com.sa com.vn co.ke com.ng com.cy com.gr com.mt",
  ]
    .join(" ")
    .split(" "),
);

const MAX_DOMAIN_CHARS = 253;
const MAX_LABEL_CHARS = 63;
// RFC 5280 ub-common-name: the first domain becomes the subject CN, which CAs cap at 64 characters.
const MAX_COMMON_NAME_CHARS = 64;
const LDH_LABEL = /^[a-z0-9-]+$/i;
const MIN_KEY_BITS: Readonly<Record<string, number>> = {
  rsaEncryption: 2048,
  "id-ecPublicKey": 256,
};
const TOKEN_METHODS: ReadonlySet<DcvMethodValue> = new Set([
  "dns-txt",
  "dns-cname",
  "http",
  "https",
]);
const FILE_METHODS: ReadonlySet<DcvMethodValue> = new Set(["http", "https"]);

/**
 * The registrable domain ("example.co.uk") of a domain name, the wildcard label stripped:
 * its last two labels, or its last three when the last two are a known second-level public suffix
 * (co.uk, com.au, co.jp, ...). `undefined` when the name is itself a public suffix ("co.uk",
 * "com") or not a dotted name. Lower case. Never throws.
 *
 * Limit: the suffix list is a built-in subset of the Public Suffix List's ICANN section. Deeper
 * ICANN suffixes (`kawasaki.jp`, `k12.ca.us`) and private ones (`github.io`) are not known, so for
 * names under them the result is one label too short and approver addresses at the suffix itself
 * pass this check (the CA still refuses them).
 */
export function registrableDomain(domain: string): string | undefined {
  const labels = domain.toLowerCase().replace(/^\*\./, "").split(".");
  if (labels.some(label => label === "")) {
    return undefined;
  }
  const suffixLabels = TWO_LEVEL_SUFFIXES.has(labels.slice(-2).join(".")) ? 2 : 1;
  return labels.length > suffixLabels ? labels.slice(-(suffixLabels + 1)).join(".") : undefined;
}

/**
 * The approver addresses the CA accepts for email validation of `domain` (manual 3.5.1): the
 * five mailboxes of {@link APPROVER_MAILBOXES} at the domain and at each parent up to its
 * registrable domain, most specific first. A wildcard is stripped first (`*.a.example.com` gives
 * the addresses of a.example.com and example.com). Addresses from WHOIS are not included. Empty
 * when the domain has no registrable domain. Lower case. Never throws.
 */
export function approverAddresses(domain: string): string[] {
  const base = domain.toLowerCase().replace(/^\*\./, "");
  const registrable = registrableDomain(base);
  if (registrable === undefined) {
    return [];
  }
  const addresses: string[] = [];
  let current = base;
  for (;;) {
    addresses.push(...APPROVER_MAILBOXES.map(mailbox => `${mailbox}@${current}`));
    if (current === registrable) {
      return addresses;
    }
    current = current.slice(current.indexOf(".") + 1);
  }
}

/**
 * The addresses to send as DCVEMAIL0..n: `approverEmails` itself when it has one address per
 * domain, the single address repeated for every domain when it has one, `undefined` otherwise
 * (checkOrder reports that as `APPROVER_EMAILS_COUNT`). Never throws.
 */
export function expandApproverEmails(
  domainCount: number,
  approverEmails: readonly string[],
): string[] | undefined {
  if (approverEmails.length === domainCount) {
    return [...approverEmails];
  }
  const [only] = approverEmails;
  return approverEmails.length === 1 && only !== undefined
    ? Array.from({ length: domainCount }, () => only)
    : undefined;
}

/** One entry of `input.domains`, analysed once. */
interface DomainEntry {
  index: number;
  field: string;
  raw: string;
  /** Lower case. */
  name: string;
  wildcard: boolean;
  /** Passed every syntax rule. */
  valid: boolean;
  /** Index of the earlier entry this one repeats. */
  duplicateOf?: number;
}

/** How the provider will count the unique domains of the order. */
interface DomainPlan {
  /** Domains that are billed and counted against the class's limits (not free alternatives). */
  primaries: DomainEntry[];
  /** Alternatives the provider will add (autofill), with the primary each belongs to. */
  autofilled: { primary: DomainEntry; alternative: string }[];
}

/**
 * Most domains, and approver addresses, that `checkOrder` looks at one by one: twice the largest
 * class's limit (250). A longer list is refused with one `TOO_MANY_DOMAINS` and only its first
 * entries are checked, so that an absurd list (the fuzz tests send 50 000) costs neither seconds
 * of CPU nor an answer of megabytes.
 */
export const MAX_CHECKED_DOMAINS = 500;

/**
 * Checks an order against its class and returns every violation found, in input order (domains,
 * dcvMethod, approverEmails, contacts, periodYears, csr, dcvToken); empty when the provider
 * should accept the order. Pure and synchronous; parses the CSR.
 *
 * @throws only on a bug of the CSR parser (an error other than `PemError`).
 */
export function checkOrder(order: OrderRuleInput): RuleViolation[] {
  const violations: RuleViolation[] = [];
  let input = order;
  if (order.domains.length > MAX_CHECKED_DOMAINS) {
    push(
      violations,
      "domains",
      "TOO_MANY_DOMAINS",
      `an order lists at most ${MAX_CHECKED_DOMAINS} domains (no class takes more than 250); ` +
        `${order.domains.length} given, only the first ${MAX_CHECKED_DOMAINS} were checked`,
    );
    input = {
      ...order,
      domains: order.domains.slice(0, MAX_CHECKED_DOMAINS),
      approverEmails: order.approverEmails?.slice(0, MAX_CHECKED_DOMAINS),
    };
  }
  const entries = analyseDomains(input.domains, violations);
  const unique = entries.filter(entry => entry.duplicateOf === undefined);
  const plan = planDomains(unique, input.klass, input.autofillDomains ?? true);
  checkDomainsAgainstClass(input.klass, entries, plan, violations);
  checkDcvMethod(input, entries, violations);
  checkApproverEmails(input, entries, plan, violations);
  checkContacts(input, violations);
  checkPeriod(input, violations);
  checkCsr(input, entries[0], violations);
  checkDcvToken(input, violations);
  return violations;
}

function push(
  violations: RuleViolation[],
  field: string,
  rule: OrderRuleCode,
  text: string,
  value?: string,
): void {
  const subject = value === undefined ? field : `${field} ${JSON.stringify(value)}`;
  violations.push({ field, rule, message: `${subject}: ${text}` });
}

function analyseDomains(domains: readonly string[], violations: RuleViolation[]): DomainEntry[] {
  if (domains.length === 0) {
    push(
      violations,
      "domains",
      "DOMAINS_REQUIRED",
      "give at least one domain; the first one becomes the common name",
    );
  }
  const firstIndex = new Map<string, number>();
  return domains.map((raw, index) => {
    const field = `domains[${index}]`;
    const name = raw.toLowerCase();
    const problem = domainSyntaxProblem(raw);
    const entry: DomainEntry = {
      index,
      field,
      raw,
      name,
      wildcard: name.startsWith("*."),
      valid: problem === undefined,
    };
    if (problem !== undefined) {
      push(violations, field, problem.rule, problem.text, raw);
    }
    const earlier = firstIndex.get(name);
    if (earlier === undefined) {
      firstIndex.set(name, index);
    } else {
      entry.duplicateOf = earlier;
      push(
        violations,
        field,
        "DOMAIN_DUPLICATE",
        `repeats domains[${earlier}] (domains are compared without regard to case); remove it`,
        raw,
      );
    }
    if (index === 0 && entry.valid && raw.length > MAX_COMMON_NAME_CHARS) {
      push(
        violations,
        field,
        "COMMON_NAME_TOO_LONG",
        `the first domain becomes the certificate's common name, which holds at most ` +
          `${MAX_COMMON_NAME_CHARS} characters (this one has ${raw.length}); put a shorter domain first`,
        raw,
      );
    }
    return entry;
  });
}

function domainSyntaxProblem(raw: string): { rule: OrderRuleCode; text: string } | undefined {
  if (raw.length === 0) {
    return {
      rule: "DOMAIN_LABEL_INVALID",
      text: "is empty; give a domain name such as example.com",
    };
  }
  if (/[\u0080-\uffff]/.test(raw)) {
    const ascii = domainToASCII(raw.trim());
    const example = ascii === "" ? "" : ` (${JSON.stringify(ascii)})`;
    return {
      rule: "DOMAIN_NOT_ASCII",
      text: `contains non-ASCII characters; send the punycode (xn--) form of the name${example}`,
    };
  }
  if (raw.length > MAX_DOMAIN_CHARS) {
    return {
      rule: "DOMAIN_TOO_LONG",
      text: `has ${raw.length} characters; a domain name has at most ${MAX_DOMAIN_CHARS}`,
    };
  }
  if (raw.endsWith(".")) {
    return { rule: "DOMAIN_LABEL_INVALID", text: "ends with a dot; remove the trailing dot" };
  }
  const labels = raw.split(".");
  const wildcard = labels[0] === "*";
  const rest = wildcard ? labels.slice(1) : labels;
  if (rest.some(label => label.includes("*")) || rest.length === 0) {
    return {
      rule: "DOMAIN_WILDCARD_INVALID",
      text: "a wildcard must be the whole leftmost label followed by a domain, as in *.example.com",
    };
  }
  for (const label of rest) {
    const problem = labelProblem(label);
    if (problem !== undefined) {
      return { rule: "DOMAIN_LABEL_INVALID", text: problem };
    }
  }
  const base = rest.join(".");
  if (rest.length < 2) {
    return wildcard
      ? {
          rule: "DOMAIN_PUBLIC_SUFFIX",
          text: `would cover every domain under the top-level domain "${base}"; name a registered domain`,
        }
      : {
          rule: "DOMAIN_NOT_FQDN",
          text: "is a single label; give a fully qualified domain name such as example.com",
        };
  }
  if (/^\d+$/.test(rest[rest.length - 1] ?? "")) {
    return {
      rule: "DOMAIN_TLD_INVALID",
      text: /^\d+(\.\d+){3}$/.test(base)
        ? "is an IP address; certificates here cover domain names only"
        : "ends in an all-numeric label, which is no top-level domain",
    };
  }
  if (registrableDomain(base) === undefined) {
    return {
      rule: "DOMAIN_PUBLIC_SUFFIX",
      text: wildcard
        ? `would cover every domain under the public suffix "${base.toLowerCase()}"; name a registered domain`
        : "is a public suffix, not a registered domain; name a domain registered under it",
    };
  }
  return undefined;
}

function labelProblem(label: string): string | undefined {
  if (label === "") {
    return "has an empty label (a leading dot or two dots in a row)";
  }
  if (label.length > MAX_LABEL_CHARS) {
    return `has a label of ${label.length} characters; a label has at most ${MAX_LABEL_CHARS}`;
  }
  if (!LDH_LABEL.test(label)) {
    return `label ${JSON.stringify(label)} may only hold letters a-z, digits and hyphens (no spaces, underscores or other characters)`;
  }
  if (label.startsWith("-") || label.endsWith("-")) {
    return `label ${JSON.stringify(label)} starts or ends with a hyphen`;
  }
  return undefined;
}

/** The free alternative of a domain (manual 6.2): base of a wildcard, with or without "www.". */
function freeAlternativeOf(name: string): string | undefined {
  if (name.startsWith("*.")) {
    return name.slice(2);
  }
  if (name.startsWith("www.")) {
    const rest = name.slice(4);
    return registrableDomain(rest) === undefined ? undefined : rest;
  }
  return `www.${name}`;
}

/**
 * Pairs given domains with the free alternative of an earlier one, while the class has free
 * alternatives left, then (autofill) gives the remaining ones to primaries without a partner, in
 * order: the provider adds alternatives "for as many domains as supported by the class" (6.2).
 */
function planDomains(unique: DomainEntry[], klass: ClassRecord, autofill: boolean): DomainPlan {
  let freeLeft = Math.max(0, klass.maxFreeAlternatives);
  const primaries: DomainEntry[] = [];
  const alternatives = new Set<number>();
  const paired = new Set<number>();
  for (const entry of unique) {
    if (alternatives.has(entry.index)) {
      continue;
    }
    primaries.push(entry);
    const alternative = freeAlternativeOf(entry.name);
    const partner = unique.find(
      other =>
        other.index > entry.index && other.name === alternative && !alternatives.has(other.index),
    );
    if (freeLeft > 0 && partner !== undefined) {
      alternatives.add(partner.index);
      paired.add(entry.index);
      freeLeft -= 1;
    }
  }
  const autofilled: DomainPlan["autofilled"] = [];
  const listed = new Set(unique.map(entry => entry.name));
  for (const primary of primaries) {
    if (!autofill || freeLeft === 0) {
      break;
    }
    const alternative = freeAlternativeOf(primary.name);
    if (primary.valid && !paired.has(primary.index) && alternative && !listed.has(alternative)) {
      autofilled.push({ primary, alternative });
      freeLeft -= 1;
    }
  }
  return { primaries, autofilled };
}

function checkDomainsAgainstClass(
  klass: ClassRecord,
  entries: DomainEntry[],
  plan: DomainPlan,
  violations: RuleViolation[],
): void {
  const of = `class ${klass.name}`;
  if (!klass.wildcard) {
    for (const entry of entries.filter(e => e.wildcard && e.valid && e.duplicateOf === undefined)) {
      push(
        violations,
        entry.field,
        "WILDCARD_NOT_ALLOWED",
        `${of} does not cover wildcard domains; list the host names or choose a class with wildcard support`,
        entry.raw,
      );
    }
  }
  const { primaries } = plan;
  if (!klass.san) {
    const first = primaries[0];
    const alternative = first === undefined ? undefined : freeAlternativeOf(first.name);
    const free =
      klass.maxFreeAlternatives > 0 && alternative !== undefined
        ? ` (plus its free alternative ${JSON.stringify(alternative)})`
        : "";
    for (const entry of primaries.slice(1)) {
      push(
        violations,
        entry.field,
        "SAN_NOT_SUPPORTED",
        `${of} covers a single domain${free}; order this domain on a certificate of its own or choose a multi-domain class`,
        entry.raw,
      );
    }
    return;
  }
  const given = entries.filter(entry => entry.duplicateOf === undefined).length;
  let overTotal = true;
  if (primaries.length > klass.maxDomains) {
    push(
      violations,
      "domains",
      "TOO_MANY_DOMAINS",
      `${of} takes at most ${klass.maxDomains} domains besides free alternatives; ` +
        `${primaries.length} given, remove ${primaries.length - klass.maxDomains} or split the order`,
    );
  } else if (
    klass.maxDomainsIncludingAlternatives > 0 &&
    given > klass.maxDomainsIncludingAlternatives
  ) {
    push(
      violations,
      "domains",
      "TOO_MANY_DOMAINS",
      `${of} takes at most ${klass.maxDomainsIncludingAlternatives} domains including free ` +
        `alternatives; ${given} given, remove ${given - klass.maxDomainsIncludingAlternatives} or split the order`,
    );
  } else {
    overTotal = false;
  }
  // A kind's limit is only news when it is stricter than the total one already reported.
  const exceeds = (count: number, limit: number): boolean =>
    count > limit && !(overTotal && limit >= klass.maxDomains);
  const wildcards = primaries.filter(entry => entry.wildcard).length;
  if (klass.wildcard && exceeds(wildcards, klass.maxWildcardDomains)) {
    push(
      violations,
      "domains",
      "TOO_MANY_WILDCARD_DOMAINS",
      `${of} takes at most ${klass.maxWildcardDomains} wildcard domains; ${wildcards} given`,
    );
  }
  const others = primaries.length - wildcards;
  if (exceeds(others, klass.maxNonWildcardDomains)) {
    push(
      violations,
      "domains",
      "TOO_MANY_NON_WILDCARD_DOMAINS",
      `${of} takes at most ${klass.maxNonWildcardDomains} non-wildcard domains besides free ` +
        `alternatives; ${others} given`,
    );
  }
}

/** The contract's spelling of a method: "dns-txt" -> "DNS_TXT". */
function methodName(method: DcvMethodValue): string {
  return method.toUpperCase().replace("-", "_");
}

/** "A", "A or B", "A, B or C". */
function either(items: readonly string[]): string {
  return items.length <= 1
    ? (items[0] ?? "")
    : `${items.slice(0, -1).join(", ")} or ${items[items.length - 1] ?? ""}`;
}

function checkDcvMethod(
  input: OrderRuleInput,
  entries: DomainEntry[],
  violations: RuleViolation[],
): void {
  const { klass, dcvMethod } = input;
  if (dcvMethod === undefined) {
    return;
  }
  if (!klass.dcvMethods.includes(dcvMethod)) {
    push(
      violations,
      "dcvMethod",
      "DCV_METHOD_NOT_SUPPORTED",
      `class ${klass.name} does not offer ${methodName(dcvMethod)} validation; use ` +
        either(klass.dcvMethods.map(methodName)),
    );
  }
  if (FILE_METHODS.has(dcvMethod)) {
    const others = klass.dcvMethods.filter(method => !FILE_METHODS.has(method)).map(methodName);
    const instead = others.length > 0 ? `use ${either(others)}` : "choose another class";
    for (const entry of entries.filter(e => e.wildcard && e.valid && e.duplicateOf === undefined)) {
      push(
        violations,
        entry.field,
        "DCV_METHOD_NOT_FOR_WILDCARD",
        `${methodName(dcvMethod)} validation is not available for wildcard domains ` +
          `(class ${klass.name}); ${instead}`,
        entry.raw,
      );
    }
  }
}

const EMAIL_SHAPE = /^[^@\s]+@[^@\s]+$/;

function allowedText(domain: string): string {
  const addresses = approverAddresses(domain);
  const domains = [...new Set(addresses.map(address => address.slice(address.indexOf("@") + 1)))];
  return `use ${either(APPROVER_MAILBOXES.map(m => `${m}@`))} at ${either(domains)}`;
}

function checkApproverEmails(
  input: OrderRuleInput,
  entries: DomainEntry[],
  plan: DomainPlan,
  violations: RuleViolation[],
): void {
  const emails = input.approverEmails ?? [];
  const method = input.dcvMethod;
  if (method !== undefined && method !== "email") {
    if (emails.length > 0) {
      push(
        violations,
        "approverEmails",
        "APPROVER_EMAILS_NOT_EXPECTED",
        `approver emails are only used with EMAIL validation, not ${methodName(method)}; remove them or set dcvMethod to EMAIL`,
      );
    }
    return;
  }
  if (emails.length === 0) {
    const first = entries[0];
    if (method === "email" && first !== undefined) {
      const hint = first.valid ? `; for domains[0] ${allowedText(first.name)}` : "";
      push(
        violations,
        "approverEmails",
        "APPROVER_EMAILS_REQUIRED",
        "EMAIL validation needs approver addresses: one per domain in domain order, or one " +
          `address that is valid for every domain${hint}`,
      );
    }
    return;
  }
  const perDomain = expandApproverEmails(entries.length, emails);
  if (perDomain === undefined) {
    push(
      violations,
      "approverEmails",
      "APPROVER_EMAILS_COUNT",
      `${emails.length} addresses for ${entries.length} domains; give one per domain in domain ` +
        "order, or a single address that is valid for every domain",
    );
    return;
  }
  const shared = emails.length === 1 && entries.length > 1;
  const emailField = (index: number): string => `approverEmails[${shared ? 0 : index}]`;
  const shapeChecked = new Set<number>();
  perDomain.forEach((email, index) => {
    const emailIndex = shared ? 0 : index;
    const entry = entries[index];
    if (!EMAIL_SHAPE.test(email)) {
      if (!shapeChecked.has(emailIndex)) {
        shapeChecked.add(emailIndex);
        push(
          violations,
          emailField(index),
          "APPROVER_EMAIL_INVALID",
          "is not an email address",
          email,
        );
      }
      return;
    }
    if (entry === undefined || !entry.valid || entry.duplicateOf !== undefined) {
      return;
    }
    if (!approverAddresses(entry.name).includes(email.toLowerCase())) {
      push(
        violations,
        emailField(index),
        "APPROVER_EMAIL_NOT_ALLOWED",
        `is not an approver address of ${entry.field} ${JSON.stringify(entry.raw)}; ${allowedText(entry.name)}`,
        email,
      );
    }
  });
  for (const { primary, alternative } of plan.autofilled) {
    const email = perDomain[primary.index] ?? "";
    const validForPrimary = approverAddresses(primary.name).includes(email.toLowerCase());
    if (validForPrimary && !approverAddresses(alternative).includes(email.toLowerCase())) {
      push(
        violations,
        emailField(primary.index),
        "APPROVER_EMAIL_NOT_VALID_FOR_ALTERNATIVE",
        `class ${input.klass.name} adds ${JSON.stringify(alternative)} (the free alternative of ` +
          `${primary.field}) and validates it with the same address, which is not one of its ` +
          `approver addresses; ${allowedText(alternative)}, list ${JSON.stringify(alternative)} ` +
          "with its own address, or set autofillDomains to false",
        email,
      );
    }
  }
}

// `field` is both the input field and the ClassRecord property that says whether it is needed.
const CONTACTS = [
  { key: "tech", field: "techContact", label: "a tech contact" },
  { key: "organization", field: "organizationContact", label: "an organization contact" },
  { key: "evApprover", field: "evApproverContact", label: "an EV approver contact" },
] as const;

function checkContacts(input: OrderRuleInput, violations: RuleViolation[]): void {
  for (const contact of CONTACTS) {
    const requirement = input.klass[contact.field];
    const given = input.contacts[contact.key];
    if (requirement === "MANDATORY" && !given) {
      push(
        violations,
        contact.field,
        "CONTACT_REQUIRED",
        `class ${input.klass.name} requires ${contact.label}; give an existing contact ` +
          "(CC-, P- or O- handle) or the contact's data",
      );
    } else if (requirement === "NO" && given) {
      push(
        violations,
        contact.field,
        "CONTACT_NOT_ACCEPTED",
        `class ${input.klass.name} does not take ${contact.label}; remove ${contact.field}`,
      );
    }
  }
}

function checkPeriod(input: OrderRuleInput, violations: RuleViolation[]): void {
  const { periodYears, klass } = input;
  if (periodYears === undefined) {
    return;
  }
  const years = klass.periods
    .map(period => /^(\d+)y?$/i.exec(period.trim())?.[1])
    .filter((value): value is string => value !== undefined)
    .map(Number);
  if (!years.includes(periodYears)) {
    push(
      violations,
      "periodYears",
      "PERIOD_NOT_SUPPORTED",
      `class ${klass.name} is sold for ${either(klass.periods)}; ${periodYears} years is not available`,
    );
  }
}

function checkCsr(
  input: OrderRuleInput,
  first: DomainEntry | undefined,
  violations: RuleViolation[],
): void {
  const pem = input.csrPem;
  if (pem === undefined || pem.trim() === "") {
    if (input.requireCsr ?? true) {
      push(
        violations,
        "csr",
        "CSR_REQUIRED",
        "give the PEM certificate signing request (-----BEGIN CERTIFICATE REQUEST-----)",
      );
    }
    return;
  }
  // Look at the armour first: a pasted private key or certificate deserves its own answer.
  const labels = tryReadPemBlocks(pem).map(block => block.label ?? "");
  if (labels.some(label => label.includes("PRIVATE KEY"))) {
    push(
      violations,
      "csr",
      "CSR_IS_PRIVATE_KEY",
      "holds a private key; never send a private key anywhere, send the CSR made from it instead",
    );
    return;
  }
  if (labels.some(label => (CERTIFICATE_LABELS as readonly string[]).includes(label))) {
    push(
      violations,
      "csr",
      "CSR_IS_CERTIFICATE",
      "is a certificate, not a certificate signing request; send the CSR (-----BEGIN CERTIFICATE REQUEST-----)",
    );
    return;
  }
  let info: CsrInfo;
  try {
    info = parseCsr(pem);
  } catch (error) {
    if (!(error instanceof PemError)) {
      throw error;
    }
    const [rule, text]: [OrderRuleCode, string] =
      error.reason === "BAD_SIGNATURE"
        ? ["CSR_BAD_SIGNATURE", "its signature does not verify; generate the CSR again"]
        : error.reason === "WRONG_TYPE"
          ? ["CSR_WRONG_TYPE", `is not a certificate signing request (${error.message})`]
          : [
              "CSR_MALFORMED",
              `cannot be read as a PEM certificate signing request (${error.message})`,
            ];
    push(violations, "csr", rule, text);
    return;
  }
  if (!info.signatureValid) {
    push(
      violations,
      "csr",
      "CSR_BAD_SIGNATURE",
      "its signature does not verify (altered or damaged); generate the CSR again",
    );
  }
  checkCsrKey(info, violations);
  const commonName = info.commonName?.toLowerCase();
  if (commonName !== undefined && first?.valid && commonName !== first.name) {
    push(
      violations,
      "csr",
      "CSR_COMMON_NAME_MISMATCH",
      `its common name ${JSON.stringify(info.commonName)} differs from domains[0] ` +
        `${JSON.stringify(first.raw)}, which becomes the certificate's common name; make a CSR ` +
        "for that domain or list the CSR's common name first",
    );
  }
}

function checkCsrKey(info: CsrInfo, violations: RuleViolation[]): void {
  const minimum = MIN_KEY_BITS[info.keyAlgorithm];
  const accepted = "use an RSA key of at least 2048 bits or an EC key of at least 256 bits (P-256)";
  if (minimum === undefined) {
    push(
      violations,
      "csr",
      "CSR_KEY_ALGORITHM_NOT_SUPPORTED",
      `its key is ${info.keyAlgorithm}, which the CAs do not certify; ${accepted}`,
    );
  } else if (info.keySize === undefined) {
    push(
      violations,
      "csr",
      "CSR_KEY_ALGORITHM_NOT_SUPPORTED",
      `the size of its ${info.keyAlgorithm} key cannot be determined (explicit curve parameters?); ${accepted}`,
    );
  } else if (info.keySize < minimum) {
    push(
      violations,
      "csr",
      "CSR_KEY_TOO_SMALL",
      `its ${info.keyAlgorithm} key has ${info.keySize} bits; ${accepted}`,
    );
  }
}

function checkDcvToken(input: OrderRuleInput, violations: RuleViolation[]): void {
  const { dcvToken, dcvMethod, klass } = input;
  if (dcvToken === undefined) {
    return;
  }
  if (!klass.immediateIssuance) {
    push(
      violations,
      "dcvToken",
      "DCV_TOKEN_NOT_SUPPORTED",
      `class ${klass.name} has no immediate issuance, so it takes no DCV token; remove dcvToken`,
    );
  }
  if (dcvMethod !== undefined && !TOKEN_METHODS.has(dcvMethod)) {
    const methods = klass.dcvMethods.filter(method => TOKEN_METHODS.has(method)).map(methodName);
    push(
      violations,
      "dcvToken",
      "DCV_TOKEN_METHOD",
      `a DCV token is used with DNS or HTTP validation, not ${methodName(dcvMethod)}; ` +
        `set dcvMethod to ${either(methods)} or remove dcvToken`,
    );
  }
}
