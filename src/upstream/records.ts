/**
 * Pure decoders from a `WireReply` to the records of `types.ts` (manual chapter 8 and the
 * examples of 9.1). They are tolerant the way the provider's SDKs are: a missing property becomes
 * `null`, an empty list or a default; class names arrive in any case (`SSL123DV`, `RapidSSL`);
 * dates come with or without `.0`, and an empty date is `null`. They throw `RecordDecodeError`
 * only when a reply lacks what identifies the object (its id) or holds a value that cannot mean
 * anything (an unknown status), because inventing those would be worse than failing.
 */
import { type WireReply, multiline, rows, value, values } from "./codec";
import {
  type ApproverEmailRecord,
  type CertificateCheckRecord,
  type CertificateOrderRecord,
  type CertificateOrderRowRecord,
  type CertificateQuoteRecord,
  type CertificateRecord,
  type CertificateRowRecord,
  type CertificateStatusValue,
  type ClassRecord,
  type ContactOrganizationRecord,
  type ContactRecord,
  type ContactRequirementValue,
  type ContactRowRecord,
  type ContactTypeValue,
  type CreatedContactRecord,
  type CrtCheckRecord,
  type CsrCheckRecord,
  type DcvMethodValue,
  type DomainValidationRecord,
  type OrderCertificateEntry,
  type PageRecord,
} from "./types";

/** A reply does not hold what a record needs (its id) or holds a value with no meaning. */
export class RecordDecodeError extends Error {
  override readonly name = "RecordDecodeError";
}

/** A reply in a JSON-serialisable form (for the idempotency store): properties as entries. */
export interface StoredReply {
  code: number;
  description: string;
  properties: [string, string[]][];
}

/** Converts a reply to plain JSON data; `fromStoredReply` gives back an equivalent reply. */
export function toStoredReply(reply: WireReply): StoredReply {
  return {
    code: reply.code,
    description: reply.description,
    properties: [...reply.properties].map(([name, items]) => [name, [...items]]),
  };
}

/** Rebuilds a `WireReply` from `toStoredReply`'s output (columns and paging are not kept). */
export function fromStoredReply(stored: StoredReply): WireReply {
  return {
    code: stored.code,
    description: stored.description,
    properties: new Map(stored.properties),
    columns: [],
  };
}

const DATE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(?:Z|UTC|\+00:?00)?$/i;

/**
 * Parses an upstream date (`2022-06-27 13:05:54.0`, `2022-06-27 13:05:54`, `2022-06-27`), always
 * UTC. Empty, zero (`0000-00-00 …`) or unreadable values are `null`.
 */
export function decodeDate(text: string | undefined | null): Date | null {
  const match = DATE.exec((text ?? "").trim());
  if (!match) {
    return null;
  }
  const [, y, mo, d, h, mi, s, frac] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  if (year === 0 || month < 1 || month > 12 || day < 1 || day > 31) {
    return null;
  }
  const millis = frac === undefined ? 0 : Math.round(Number(`0.${frac}`) * 1000);
  const date = new Date(
    Date.UTC(year, month - 1, day, Number(h ?? 0), Number(mi ?? 0), Number(s ?? 0), millis),
  );
  return Number.isNaN(date.getTime()) ? null : date;
}

/** Names the provider used before the 2022 classes, and misspellings seen in its replies. */
const CLASS_ALIASES: Readonly<Record<string, string>> = Object.freeze({
  rapidssl: "rapidssldv",
  ssl123: "ssl123dv",
  positivessl: "positivessldv",
  positivssldv: "positivessldv",
});

/** Lower-case class name as the CLASS parameter takes it (`SSL123DV` -> `ssl123dv`). */
export function decodeClassName(text: string | undefined | null): string {
  const name = (text ?? "").trim().toLowerCase();
  return CLASS_ALIASES[name] ?? name;
}

const STATUSES: ReadonlySet<string> = new Set<CertificateStatusValue>([
  "active",
  "processing",
  "expired",
  "revoked",
  "failed",
  "canceled",
  "cancel_processing",
  "revoke_processing",
]);

/** Spellings of API version 1 (manual 8.1.7) for the statuses of version 2. */
const STATUS_ALIASES: Readonly<Record<string, CertificateStatusValue>> = Object.freeze({
  requested: "processing",
  pending: "processing",
  cancelled: "canceled",
  cancel_pending: "cancel_processing",
  revoke_pending: "revoke_processing",
});

/**
 * A status of manual 9.4 from any case and `-`/blank spelling. A missing status is `processing`
 * (replies to a just-sent order may omit it); an unknown one throws `RecordDecodeError`.
 */
export function decodeStatus(text: string | undefined | null): CertificateStatusValue {
  const status = (text ?? "")
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, "_");
  if (status === "") {
    return "processing";
  }
  if (STATUSES.has(status)) {
    return status as CertificateStatusValue;
  }
  const alias = STATUS_ALIASES[status];
  if (alias) {
    return alias;
  }
  throw new RecordDecodeError(`unknown status "${status}"`);
}

/** A DCV method from any spelling (`DNS-TXT`, `dns_txt`, `FILE`); `null` when unknown or empty. */
export function decodeDcvMethod(text: string | undefined | null): DcvMethodValue | null {
  const method = (text ?? "")
    .trim()
    .toLowerCase()
    .replace(/[\s_]+/g, "-");
  switch (method) {
    case "email":
    case "dns-txt":
    case "dns-cname":
    case "http":
    case "https":
      return method;
    case "dns":
      return "dns-txt";
    case "file":
      return "http";
    default:
      return null;
  }
}

/** A contact type from any spelling (`EV approver`, `ev_approver`); `null` when unknown. */
export function decodeContactType(text: string | undefined | null): ContactTypeValue | null {
  const type = (text ?? "")
    .trim()
    .toLowerCase()
    .replace(/[\s_-]+/g, "");
  return type === "organization" || type === "tech" || type === "evapprover" ? type : null;
}

function text(reply: WireReply, ...names: string[]): string | null {
  for (const name of names) {
    const found = value(reply, name);
    if (found !== undefined && found.trim() !== "") {
      return found.trim();
    }
  }
  return null;
}

function list(reply: WireReply, ...names: string[]): string[] {
  for (const name of names) {
    const found = values(reply, name).map(v => v.trim());
    if (found.length > 0) {
      return found;
    }
  }
  return [];
}

function pem(reply: WireReply, ...names: string[]): string | null {
  for (const name of names) {
    const found = multiline(reply, name);
    if (found !== undefined) {
      return found;
    }
  }
  return null;
}

function flag(reply: WireReply, name: string): boolean | undefined {
  const found = text(reply, name);
  if (found === null) {
    return undefined;
  }
  return /^(1|yes|true|y)$/i.test(found);
}

function int(reply: WireReply, ...names: string[]): number | undefined {
  const found = text(reply, ...names);
  if (found === null || !/^-?\d+$/.test(found)) {
    return undefined;
  }
  return Number(found);
}

function optional(found: string | null | undefined): string | null {
  const trimmed = (found ?? "").trim();
  return trimmed === "" ? null : trimmed;
}

function requirement(found: string | null): ContactRequirementValue {
  const upper = (found ?? "").trim().toUpperCase();
  if (upper === "MANDATORY" || upper === "REQUIRED" || upper === "1") {
    return "MANDATORY";
  }
  if (upper === "OPTIONAL") {
    return "OPTIONAL";
  }
  return "NO";
}

function required(found: string | null, what: string): string {
  if (found === null) {
    throw new RecordDecodeError(`the reply has no ${what}`);
  }
  return found;
}

/** The class names of GetCertificateInfo without CLASS (manual 9.1.1), lower case, in order. */
export function decodeClassNames(reply: WireReply): string[] {
  const seen = new Set<string>();
  for (const name of list(reply, "class")) {
    const decoded = decodeClassName(name);
    if (decoded !== "") {
      seen.add(decoded);
    }
  }
  return [...seen];
}

/**
 * One class from GetCertificateInfo with CLASS (manual 9.1.2). `requested` names the class when
 * the reply does not. Flags missing from the reply read as "not supported", except EMAIL
 * validation, which every class of the product matrix (9.3.3) offers.
 */
export function decodeClass(reply: WireReply, requested?: string): ClassRecord {
  const name = decodeClassName(text(reply, "class") ?? requested);
  if (name === "") {
    throw new RecordDecodeError("the reply has no class");
  }
  const dcvMethods: DcvMethodValue[] = [];
  const http = flag(reply, "dcv http") ?? flag(reply, "file auth") ?? false;
  const dnsTxt = flag(reply, "dcv dns txt") ?? flag(reply, "dns auth") ?? false;
  const dnsCname = flag(reply, "dcv dns cname") ?? flag(reply, "dns auth") ?? false;
  if (flag(reply, "dcv email") ?? true) {
    dcvMethods.push("email");
  }
  if (dnsTxt) {
    dcvMethods.push("dns-txt");
  }
  if (dnsCname) {
    dcvMethods.push("dns-cname");
  }
  if (http) {
    dcvMethods.push("http");
  }
  // The manual's example has one HTTP flag; the product matrix lists HTTPS beside it everywhere.
  if (flag(reply, "dcv https") ?? http) {
    dcvMethods.push("https");
  }
  const maxDomains = int(reply, "max domains") ?? 1;
  const type = (text(reply, "type") ?? "").toUpperCase();
  const method = (text(reply, "validation method") ?? "").toLowerCase();
  const validationType: ClassRecord["validationType"] =
    type === "EV" || method === "extended"
      ? "EV"
      : type === "OV" || method === "organization"
        ? "OV"
        : "DV";
  const periods = list(reply, "periods")
    .flatMap(p => p.split(","))
    .map(p => p.trim())
    .filter(p => p !== "");
  return {
    name,
    displayName: text(reply, "name") ?? name.toUpperCase(),
    brand: text(reply, "brand", "provider") ?? text(reply, "supplier") ?? "",
    supplier: text(reply, "supplier", "provider") ?? text(reply, "brand") ?? "",
    validationType,
    wildcard: flag(reply, "wildcard") ?? false,
    san: flag(reply, "san") ?? flag(reply, "supports san") ?? maxDomains > 1,
    includedDomains: int(reply, "included domains with base") ?? 1,
    maxDomains,
    maxDomainsIncludingAlternatives: int(reply, "max domains including alternatives") ?? maxDomains,
    maxFreeAlternatives: int(reply, "max free alternatives") ?? 0,
    maxWildcardDomains: int(reply, "max wildcard domains") ?? maxDomains,
    maxNonWildcardDomains: int(reply, "max nonwildcard domains") ?? maxDomains,
    dcvMethods,
    techContact: requirement(text(reply, "techcontact", "tech contact")),
    organizationContact: requirement(text(reply, "organizationcontact", "organization contact")),
    evApproverContact: requirement(text(reply, "evapprovercontact", "ev approver contact")),
    periods: periods.length > 0 ? periods : ["1y"],
    immediateIssuance: flag(reply, "supports immediate issuance") ?? false,
    refundOnCancel: flag(reply, "refund on cancel") ?? flag(reply, "supports refund") ?? false,
    serverTypes: list(reply, "server type", "servertype"),
    prefix: text(reply, "prefix") ?? "",
  };
}

function decodeValidations(reply: WireReply, domains: readonly string[]): DomainValidationRecord[] {
  const dcvDomains = list(reply, "dcv domain", "dcvdomain");
  const methods = list(reply, "dcv method", "dcvmethod");
  const emails = list(reply, "dcv email", "approveremail");
  const records = list(reply, "dns rr", "dnauth name", "dnsauth name");
  const fileNames = list(reply, "file name", "fileauth name");
  const contents = list(reply, "file contents", "fileauth contents");
  // Per-domain arrays have one value per domain; anything else is one value shared by all
  // (a file's content sent as lines, or a single method for the whole certificate).
  const at = (items: readonly string[], index: number): string | null => {
    if (items.length === domains.length) {
      return optional(items[index]);
    }
    if (items.length === 1) {
      return optional(items[0]);
    }
    return null;
  };
  const shared = (items: readonly string[], index: number): string | null =>
    items.length === domains.length || items.length <= 1
      ? at(items, index)
      : optional(items.join("\n"));
  return domains.map((domain, index) => ({
    domain,
    dcvDomain: at(dcvDomains, index) ?? domain,
    method: decodeDcvMethod(at(methods, index)),
    email: at(emails, index),
    dnsRecord: at(records, index),
    fileName: at(fileNames, index),
    fileContents: shared(contents, index),
  }));
}

/**
 * A full certificate from StatusCertificate (manual 9.1.21, 9.1.22) or from the reply of
 * AddCertificate, RenewCertificate or ReissueCertificate (9.1.16-9.1.25), which carry the same
 * properties. The order id is `order` or `certificateorder`; the issued PEM `cert` or `crt`.
 */
export function decodeCertificate(reply: WireReply): CertificateRecord {
  const domains = list(reply, "domain").filter(d => d !== "");
  return {
    id: required(text(reply, "certificate"), "certificate id"),
    status: decodeStatus(text(reply, "status")),
    className: decodeClassName(text(reply, "class")),
    orderId: text(reply, "order", "certificateorder"),
    domains,
    validations: decodeValidations(reply, domains),
    serverType: text(reply, "server type", "servertype", "webservertype"),
    csr: pem(reply, "csr"),
    crt: pem(reply, "cert", "crt"),
    intermediate: pem(reply, "intermediate", "intermediate crt"),
    root: pem(reply, "root", "root crt"),
    techContactId: text(reply, "techcontact", "tech contact"),
    organizationContactId: text(reply, "organizationcontact", "organization contact"),
    evApproverContactId: text(reply, "evapprovercontact", "ev approver contact"),
    orderPaidUntil: decodeDate(text(reply, "order paid until", "paid until")),
    createdAt: decodeDate(text(reply, "created date")),
    updatedAt: decodeDate(text(reply, "updated date")),
    expiresAt: decodeDate(text(reply, "expiration date", "certificate expiration date")),
  };
}

/** The list-row view of a full certificate (what QueryCertificateList would have said). */
export function toCertificateRow(record: CertificateRecord): CertificateRowRecord {
  return {
    id: record.id,
    status: record.status,
    className: record.className,
    orderId: record.orderId,
    serverType: record.serverType,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    expiresAt: record.expiresAt,
  };
}

function page<T>(reply: WireReply, items: T[], offset: number): PageRecord<T> {
  return {
    items,
    first: reply.paging?.first ?? offset,
    limit: reply.paging?.limit ?? items.length,
    total: reply.paging
      ? Math.max(reply.paging.total, reply.paging.first + items.length)
      : items.length,
  };
}

function cell(row: Record<string, string>, ...names: string[]): string | null {
  for (const name of names) {
    const found = optional(row[name]);
    if (found !== null) {
      return found;
    }
  }
  return null;
}

/**
 * One page of QueryCertificateList with `wide=1` (manual 9.1.23). `offset` is the FIRST that was
 * sent, used when the reply has no paging figures. Rows without an id are skipped.
 */
export function decodeCertificateRows(
  reply: WireReply,
  offset = 0,
): PageRecord<CertificateRowRecord> {
  const items: CertificateRowRecord[] = [];
  for (const row of rows(reply)) {
    const id = cell(row, "certificate");
    if (id === null) {
      continue;
    }
    items.push({
      id,
      status: decodeStatus(cell(row, "status")),
      className: decodeClassName(cell(row, "class")),
      orderId: cell(row, "certificateorder", "order"),
      serverType: cell(row, "servertype", "webservertype"),
      createdAt: decodeDate(cell(row, "createddate")),
      updatedAt: decodeDate(cell(row, "updateddate")),
      expiresAt: decodeDate(cell(row, "expirationdate")),
    });
  }
  return page(reply, items, offset);
}

/**
 * A certificate order from StatusCertificateOrder (manual 9.1.30). Its certificates come in the
 * upstream's order (oldest first), with their parallel status and expiration date.
 */
export function decodeOrder(reply: WireReply, requestedId?: string): CertificateOrderRecord {
  const ids = list(reply, "certificate").filter(id => id !== "");
  const statuses = values(reply, "certificate status");
  const expirations = values(reply, "certificate expiration date");
  const certificates: OrderCertificateEntry[] = ids.map((id, index) => {
    const status = optional(statuses[index]);
    return {
      id,
      status: status === null ? null : decodeStatus(status),
      expiresAt: decodeDate(expirations[index]),
    };
  });
  return {
    id: required(text(reply, "certificateorder", "order") ?? optional(requestedId), "order id"),
    status: decodeStatus(text(reply, "status")),
    className: decodeClassName(text(reply, "class")),
    ca: text(reply, "ca"),
    certificates,
    paidUntil: decodeDate(text(reply, "paid until", "paiduntil")),
    createdAt: decodeDate(text(reply, "created date")),
    updatedAt: decodeDate(text(reply, "updated date")),
  };
}

/** The list-row view of a full order. */
export function toOrderRow(record: CertificateOrderRecord): CertificateOrderRowRecord {
  return {
    id: record.id,
    status: record.status,
    className: record.className,
    paidUntil: record.paidUntil,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}

/** One page of QueryCertificateOrderList with `wide=1` (manual 9.1.31). */
export function decodeOrderRows(
  reply: WireReply,
  offset = 0,
): PageRecord<CertificateOrderRowRecord> {
  const items: CertificateOrderRowRecord[] = [];
  for (const row of rows(reply)) {
    const id = cell(row, "certificateorder");
    if (id === null) {
      continue;
    }
    items.push({
      id,
      status: decodeStatus(cell(row, "status")),
      className: decodeClassName(cell(row, "class")),
      paidUntil: decodeDate(cell(row, "paiduntil")),
      createdAt: decodeDate(cell(row, "createddate")),
      updatedAt: decodeDate(cell(row, "updateddate")),
    });
  }
  return page(reply, items, offset);
}

function organizationOf(
  get: (...names: string[]) => string | null,
): ContactOrganizationRecord | null {
  const organization: ContactOrganizationRecord = {
    name: get("organizationname", "organization"),
    dba: get("organizationdba"),
    street: get("organizationstreet"),
    zip: get("organizationzip"),
    city: get("organizationcity"),
    state: get("organizationstate"),
    country: get("organizationcountry"),
    phone: get("organizationphone"),
    email: get("organizationemail"),
  };
  return Object.values(organization).some(v => v !== null) ? organization : null;
}

function contactType(found: string | null): ContactTypeValue {
  const type = decodeContactType(found);
  if (type === null) {
    throw new RecordDecodeError(`unknown contact type "${found ?? ""}"`);
  }
  return type;
}

/**
 * A contact from StatusCertificateContact (manual 9.1.12, which does not repeat the id: pass the
 * one that was asked for). The organization is `null` when all its fields are empty.
 */
export function decodeContact(reply: WireReply, requestedId?: string): ContactRecord {
  const get = (...names: string[]): string | null => text(reply, ...names);
  return {
    id: required(get("certificatecontact", "contact") ?? optional(requestedId), "contact id"),
    type: contactType(get("type")),
    status: get("status"),
    firstName: get("first name"),
    lastName: get("last name"),
    jobTitle: get("job title"),
    email: get("email"),
    phone: get("phone"),
    organization: organizationOf(get),
    createdAt: decodeDate(get("created date")),
    updatedAt: decodeDate(get("updated date")),
  };
}

/** One page of QueryCertificateContactList with `wide=1` (manual 9.1.11). */
export function decodeContactRows(reply: WireReply, offset = 0): PageRecord<ContactRowRecord> {
  const hasStatus = reply.properties.has("status");
  const items: ContactRowRecord[] = [];
  for (const row of rows(reply)) {
    const get = (...names: string[]): string | null => cell(row, ...names);
    const id = get("certificatecontact", "contact");
    if (id === null) {
      continue;
    }
    const item: ContactRowRecord = {
      id,
      type: contactType(get("type")),
      firstName: get("firstname"),
      lastName: get("lastname"),
      jobTitle: get("jobtitle"),
      email: get("email"),
      phone: get("phone"),
      organization: organizationOf(get),
      createdAt: decodeDate(get("createddate")),
      updatedAt: decodeDate(get("updateddate")),
    };
    if (hasStatus) {
      item.status = get("status");
    }
    items.push(item);
  }
  return page(reply, items, offset);
}

/** The list-row view of a full contact. */
export function toContactRow(record: ContactRecord): ContactRowRecord {
  return { ...record };
}

/** The reply of AddCertificateContact (manual 9.1.7). */
export function decodeCreatedContact(reply: WireReply): CreatedContactRecord {
  return {
    id: required(text(reply, "certificatecontact", "contact"), "contact id"),
    status: text(reply, "status"),
  };
}

function csrCheck(reply: WireReply): CsrCheckRecord | null {
  const record: CsrCheckRecord = {
    commonName: text(reply, "csr commonname", "csr subject commonname") ?? undefined,
    subject: text(reply, "csr subject") ?? undefined,
    subjectAltNames: list(reply, "csr san"),
    keyAlgorithm: text(reply, "csr public key algorithm") ?? undefined,
    keySize: int(reply, "csr public key size", "csr size"),
    signatureAlgorithm: text(reply, "csr signature algorithm") ?? undefined,
    organization: text(reply, "csr subject organization", "csr organization") ?? undefined,
    country: text(reply, "csr subject country", "csr country") ?? undefined,
  };
  const known = Object.entries(record).some(([key, v]) =>
    key === "subjectAltNames" ? (v as string[]).length > 0 : v !== undefined,
  );
  return known ? record : null;
}

function crtCheck(reply: WireReply): CrtCheckRecord | null {
  const record: CrtCheckRecord = {
    commonName: text(reply, "crt subject commonname", "crt commonname") ?? undefined,
    subject: text(reply, "crt subject") ?? undefined,
    issuer: text(reply, "crt issuer") ?? undefined,
    serialNumber: text(reply, "crt serial") ?? undefined,
    notBefore: decodeDate(text(reply, "crt validity not before")),
    notAfter: decodeDate(text(reply, "crt validity not after")),
    subjectAltNames: list(reply, "crt san"),
    keyAlgorithm: text(reply, "crt public key algorithm") ?? undefined,
    keySize: int(reply, "crt public key size", "crt size"),
    signatureAlgorithm: text(reply, "crt signature algorithm") ?? undefined,
  };
  const known = Object.entries(record).some(([key, v]) =>
    key === "subjectAltNames" ? (v as string[]).length > 0 : v !== undefined && v !== null,
  );
  return known ? record : null;
}

/**
 * The reply of CheckCertificate (manual 9.1.3-9.1.6, 9.1.20): parsed CSR and CRT details, the
 * approver addresses per domain (parallel `dcv email`/`domain` arrays) and the DCV token.
 */
export function decodeCheck(reply: WireReply): CertificateCheckRecord {
  const emails = values(reply, "dcv email");
  const domains = values(reply, "domain");
  const approverEmails: ApproverEmailRecord[] = [];
  emails.forEach((email, index) => {
    const address = email.trim();
    if (address !== "") {
      approverEmails.push({ domain: (domains[index] ?? "").trim(), email: address });
    }
  });
  return {
    csr: csrCheck(reply),
    crt: crtCheck(reply),
    approverEmails,
    dcvToken: text(reply, "dcv token", "dcvtoken"),
  };
}

const DECIMAL = /^-?\d+(\.\d+)?$/;

function decimal(found: string | null): string {
  const trimmed = (found ?? "").trim().replace(",", ".");
  return DECIMAL.test(trimmed) ? trimmed : "0";
}

/** The reply of AddCertificate with CHECKONLY=1 (manual 9.1.13-9.1.15). */
export function decodeQuote(reply: WireReply): CertificateQuoteRecord {
  const types = list(reply, "billingtype");
  const counts = values(reply, "billingcount");
  const className = optional(text(reply, "class"));
  return {
    className: className === null ? null : decodeClassName(className),
    domains: list(reply, "domain").filter(d => d !== ""),
    lines: types.map((billingType, index) => ({
      billingType,
      count: Number.parseInt(counts[index] ?? "1", 10) || 0,
    })),
    price: decimal(text(reply, "price")),
    vat: decimal(text(reply, "vat")),
  };
}
