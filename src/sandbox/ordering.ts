/**
 * Orders, renewals and reissues: the checks of an AddCertificate/RenewCertificate request
 * against its class (`draftOrder`, no side effects, also the whole of `checkonly=1`) and the
 * creation of the order and certificate (`placeOrder`, `placeReissue`).
 */
import { type CsrInfo, parseCsr, publicKeyFingerprint } from "../pki/csr";
import { PemError } from "../pki/errors";
import {
  type CertificateClass,
  DEFAULT_SERVER_TYPE,
  type DcvMethod,
  findClass,
  serverTypes,
} from "./catalog";
import { addMs, addYears, wholeSeconds } from "./clock";
import { commitContacts, type ContactPlan, planContacts } from "./contacts";
import { type HandlerContext } from "./context";
import { buildDcv } from "./dcv";
import { failCertificate, issueCertificate } from "./lifecycle";
import { flag, indexed, oneOf, optional, type Params, pem } from "./params";
import { fail } from "./reply";
import {
  baseDomain,
  checkKeySize,
  dcvDomainOf,
  isApproverEmail,
  isEmail,
  isWildcard,
  normalizeDomain,
  type PlannedDomain,
  planDomains,
  type Quote,
  quote,
} from "./rules";
import {
  type AccountState,
  type CertificateContacts,
  type CertificateOrigin,
  type CertificateRecord,
  type DcvTokenRecord,
  type OrderRecord,
} from "./store";

/** How long a token of CheckCertificate `generatedcvtoken=1` stays valid (9.1.20). */
export const DCV_TOKEN_DAYS = 30;

/** The `dcvmethod` values the commands take (8.1.2; `FILE` of RenewCertificate is HTTP). */
const METHOD_VALUES = ["EMAIL", "DNS-TXT", "DNS-CNAME", "HTTP", "HTTPS", "FILE"] as const;

/** A CSR as sent and as parsed. */
export interface ParsedCsr {
  /** The request as canonical PEM. */
  pem: string;
  info: CsrInfo;
}

/**
 * Reads the CSR of a command (`csr0..n`): 504 when `needed` and absent, 505 when it is not a
 * certificate request, 541 when its signature does not verify or its key is too small.
 */
export function readCsr(params: Params, needed: true): ParsedCsr;
export function readCsr(params: Params, needed: boolean): ParsedCsr | undefined;
export function readCsr(params: Params, needed: boolean): ParsedCsr | undefined {
  const text = pem(params, "csr");
  if (text === undefined) {
    if (needed) {
      throw fail.missing("csr");
    }
    return undefined;
  }
  let info: CsrInfo;
  try {
    info = parseCsr(text);
  } catch (error) {
    if (error instanceof PemError) {
      throw error.reason === "BAD_SIGNATURE"
        ? fail.policy(`csr: ${error.message}`)
        : fail.syntax(`csr: ${error.message}`);
    }
    throw error;
  }
  if (!info.signatureValid) {
    throw fail.policy("csr: the request's signature does not verify with its own key");
  }
  checkKeySize(info);
  return { pem: info.pem, info };
}

/** The class named by `class`: 504 when absent, 541 when the provider has no such class. */
export function readClass(params: Params): CertificateClass {
  const name = optional(params, "class");
  if (name === undefined) {
    throw fail.missing("class");
  }
  const cls = findClass(name);
  if (!cls) {
    throw fail.policy(`class ${name} is not available`);
  }
  return cls;
}

/** The previous certificate's choices a renewal starts from. */
export interface DraftDefaults {
  csrPem: string;
  requestedDomains: string[];
  autofill: boolean;
  method: DcvMethod;
  /** Approver address per domain name. */
  emails: ReadonlyMap<string, string>;
  serverType: string;
  contacts: CertificateContacts;
}

/** A checked order request: everything needed to quote it or to place it. */
export interface OrderDraft {
  cls: CertificateClass;
  csrPem: string;
  requestedDomains: string[];
  autofill: boolean;
  domains: PlannedDomain[];
  method: DcvMethod;
  /** EMAIL: the approver per domain, parallel to `domains`. */
  emails?: string[];
  serverType: string;
  contacts: ContactPlan;
  token?: DcvTokenRecord;
  quote: Quote;
}

function readMethod(params: Params, fallback: DcvMethod): DcvMethod {
  const given = oneOf(params, "dcvmethod", METHOD_VALUES);
  if (given === undefined) {
    return fallback;
  }
  return given === "FILE" ? "http" : (given.toLowerCase() as DcvMethod);
}

function readPeriod(params: Params, cls: CertificateClass): void {
  const period = optional(params, "period");
  if (period === undefined) {
    return;
  }
  const match = /^(\d{1,3})(y?)$/i.exec(period);
  if (!match) {
    throw fail.syntax(`period: "${period}" is not 1 or 1y`);
  }
  const years = `${Number(match[1])}y`;
  if (!cls.periods.includes(years)) {
    throw fail.policy(
      `period ${period} is not available for class ${cls.id} (periods: ${cls.periods.join(", ")})`,
    );
  }
}

function readServerType(params: Params, cls: CertificateClass, fallback: string): string {
  const given = optional(params, "servertype");
  if (given === undefined) {
    return fallback;
  }
  const match = serverTypes(cls).find(t => t === given.toLowerCase());
  if (match === undefined) {
    throw fail.policy(
      `servertype ${given} is not available for ${cls.ca} classes (see GetCertificateInfo)`,
    );
  }
  return match;
}

function readDomains(
  params: Params,
  csr: CsrInfo | undefined,
): { names: string[]; wire: number[] } {
  const given = indexed(params, "domain");
  if (given.length > 0) {
    return { names: given.map(d => normalizeDomain(d.value)), wire: given.map(d => d.index) };
  }
  // Without domainN the CSR names the certificate: its common name, then its SANs.
  const fromCsr = [...new Set([csr?.commonName, ...(csr?.subjectAltNames ?? [])])].filter(
    (name): name is string => name !== undefined && name !== "",
  );
  if (fromCsr.length === 0) {
    throw fail.missing("domain0");
  }
  return { names: fromCsr.map(normalizeDomain), wire: fromCsr.map((_, i) => i) };
}

function checkMethod(
  cls: CertificateClass,
  method: DcvMethod,
  domains: readonly PlannedDomain[],
): void {
  if (!cls.dcv[method]) {
    throw fail.policy(`dcvmethod ${method.toUpperCase()} is not available for class ${cls.id}`);
  }
  if (method === "http" || method === "https") {
    const wildcard = domains.find(d => isWildcard(d.name));
    if (wildcard) {
      throw fail.policy(
        `domain ${wildcard.name}: ${method.toUpperCase()} validation is not available for wildcard domains`,
      );
    }
  }
}

/**
 * The approver address of each domain (EMAIL): `dcvemail<i>` belongs to `domain<i>` and must be
 * one of the five mailboxes of that domain or of its base domain; a free alternative takes its
 * domain's address; a domain without one gets `hostmaster@` its base domain (9.1.19).
 */
function readEmails(
  params: Params,
  domains: readonly PlannedDomain[],
  wire: readonly number[],
  defaults?: ReadonlyMap<string, string>,
): string[] {
  const byWire = new Map<number, { index: number; value: string }>();
  for (const entry of indexed(params, "dcvemail")) {
    const key = entry.index === -1 && !wire.includes(-1) ? 0 : entry.index;
    byWire.set(key, entry);
  }
  const own = domains.map(entry => {
    if (entry.givenIndex === undefined) {
      return undefined;
    }
    const wireIndex = wire[entry.givenIndex] ?? entry.givenIndex;
    const given = byWire.get(wireIndex);
    if (given) {
      const email = given.value.toLowerCase();
      const name = `dcvemail${given.index < 0 ? "" : given.index}`;
      if (!isEmail(email)) {
        throw fail.syntax(`${name}: "${given.value}" is not an e-mail address`);
      }
      if (!isApproverEmail(entry.name, email)) {
        throw fail.policy(
          `${name}: ${email} cannot approve ${entry.name} (use admin@, administrator@, hostmaster@, ` +
            `webmaster@ or postmaster@ of the domain or of ${baseDomain(entry.name)})`,
        );
      }
      return email;
    }
    const previous = defaults?.get(entry.name);
    return previous && isApproverEmail(entry.name, previous) ? previous : undefined;
  });
  const resolve = (index: number, depth = 0): string => {
    const entry = domains[index];
    if (!entry) {
      return "";
    }
    const mine = own[index];
    if (mine !== undefined) {
      return mine;
    }
    if (entry.origin !== undefined && depth < 2) {
      const originIndex = domains.findIndex(d => d.name === entry.origin);
      if (originIndex >= 0) {
        return resolve(originIndex, depth + 1);
      }
    }
    return `hostmaster@${baseDomain(dcvDomainOf(entry))}`;
  };
  return domains.map((_, index) => resolve(index));
}

/**
 * Checks a `dcvtoken` (immediate issuance, 9.1.20): the class must support immediate issuance
 * and the method be DNS or HTTP (541); the token must exist in the account, belong to the class
 * and the CSR's key, and not be expired (549, nothing created, nothing charged).
 */
export function checkToken(
  account: AccountState,
  params: Params,
  cls: CertificateClass,
  method: DcvMethod,
  csrPem: string,
  now: Date,
): DcvTokenRecord | undefined {
  const token = optional(params, "dcvtoken");
  if (token === undefined) {
    return undefined;
  }
  if (!cls.immediateIssuance) {
    throw fail.policy(`dcvtoken: class ${cls.id} does not support immediate issuance`);
  }
  if (method === "email") {
    throw fail.policy("dcvtoken: immediate issuance needs DNS or HTTP validation, not EMAIL");
  }
  const record = account.dcvTokens.get(token.toLowerCase());
  if (!record) {
    throw fail.failed(
      "dcvtoken: unknown token, generate one with CheckCertificate generatedcvtoken=1",
    );
  }
  if (record.classId !== cls.id) {
    throw fail.failed(
      `dcvtoken: the token was generated for class ${record.classId}, not ${cls.id}`,
    );
  }
  if (record.publicKeyFingerprint !== publicKeyFingerprint(csrPem)) {
    throw fail.failed("dcvtoken: the token was generated for another CSR key");
  }
  if (record.expiresAt.getTime() < now.getTime()) {
    throw fail.failed("dcvtoken: the token has expired (tokens are valid 30 days)");
  }
  return record;
}

/**
 * Checks an AddCertificate (or, with `defaults`, RenewCertificate) request against its class,
 * in this order: CSR, domains and their free alternatives, period, server type, DCV method,
 * approver addresses, contacts, DCV token; then prices it. Creates nothing.
 */
export function draftOrder(
  ctx: HandlerContext,
  cls: CertificateClass,
  defaults?: DraftDefaults,
): OrderDraft {
  const { params } = ctx;
  const csr = readCsr(params, defaults === undefined);
  const csrPem = csr?.pem ?? defaults?.csrPem ?? "";
  let requested: { names: string[]; wire: number[] };
  let autofill: boolean;
  if (defaults && indexed(params, "domain").length === 0) {
    requested = {
      names: defaults.requestedDomains,
      wire: defaults.requestedDomains.map((_, i) => i),
    };
    autofill = defaults.autofill;
  } else {
    requested = readDomains(params, csr?.info);
    autofill = !flag(params, "noautofilldomains");
  }
  const domains = planDomains(cls, requested.names, autofill);
  readPeriod(params, cls);
  const serverType = readServerType(params, cls, defaults?.serverType ?? DEFAULT_SERVER_TYPE);
  const method = readMethod(params, defaults?.method ?? "email");
  checkMethod(cls, method, domains);
  const emails =
    method === "email" ? readEmails(params, domains, requested.wire, defaults?.emails) : undefined;
  const contacts = planContacts(ctx.account, cls, params, defaults?.contacts);
  const token = checkToken(ctx.account, params, cls, method, csrPem, ctx.now);
  const draft: OrderDraft = {
    cls,
    csrPem,
    requestedDomains: requested.names,
    autofill,
    domains,
    method,
    serverType,
    contacts,
    quote: quote(cls, domains),
  };
  if (emails) {
    draft.emails = emails;
  }
  if (token) {
    draft.token = token;
  }
  return draft;
}

interface NewCertificate {
  order: OrderRecord;
  origin: CertificateOrigin;
  csrPem: string;
  requestedDomains: string[];
  autofill: boolean;
  domains: PlannedDomain[];
  method: DcvMethod;
  emails?: string[];
  serverType: string;
  contacts: CertificateContacts;
  token?: DcvTokenRecord;
}

async function createCertificate(
  ctx: HandlerContext,
  spec: NewCertificate,
): Promise<CertificateRecord> {
  const now = wholeSeconds(ctx.now);
  const cls = spec.order.cls;
  const cert: CertificateRecord = {
    id: ctx.store.ids.certificate(cls.prefix),
    orderId: spec.order.id,
    cls,
    origin: spec.origin,
    requestedDomains: [...spec.requestedDomains],
    autofill: spec.autofill,
    domains: spec.domains.map(d => ({ ...d })),
    dcvMethod: spec.method,
    dcv: buildDcv(
      {
        ca: cls.ca,
        method: spec.method,
        domains: spec.domains,
        csrPem: spec.csrPem,
        ...(spec.emails ? { emails: spec.emails } : {}),
        ...(spec.token ? { token: spec.token.token } : {}),
      },
      ctx.store.ids,
    ),
    csrPem: spec.csrPem,
    serverType: spec.serverType,
    contacts: spec.contacts,
    caCertificateId: ctx.store.ids.caId(),
    status: "processing",
    validationDueAt: spec.token ? null : addMs(ctx.now, ctx.issuanceDelayMs),
    createdAt: now,
    updatedAt: now,
    createdBy: ctx.account.login,
    updatedBy: ctx.account.login,
  };
  ctx.account.certificates.set(cert.id, cert);
  spec.order.certificateIds.push(cert.id);
  spec.order.updatedAt = now;
  if (spec.token) {
    // Immediate issuance: the CA checks the prepared token and issues within the request.
    try {
      await issueCertificate(ctx, cert, now);
    } catch {
      failCertificate(ctx, cert, now);
    }
  } else {
    ctx.account.pending.add(cert.id);
  }
  return cert;
}

/**
 * Places a checked order: creates its contacts, a new order (paid until one period after now,
 * or for a renewal one period after the renewed order's paid until when that is later) and its
 * first certificate, `processing` until validation passes `issuanceDelayMs` later, or issued at
 * once with a DCV token.
 */
export async function placeOrder(
  ctx: HandlerContext,
  draft: OrderDraft,
  renewal?: { cert: CertificateRecord; order: OrderRecord },
): Promise<CertificateRecord> {
  const now = wholeSeconds(ctx.now);
  const contacts = commitContacts(ctx.store, ctx.account, draft.contacts, now);
  const start =
    renewal && renewal.order.paidUntil.getTime() > now.getTime() ? renewal.order.paidUntil : now;
  const order: OrderRecord = {
    id: ctx.store.ids.order(draft.cls.prefix),
    cls: draft.cls,
    caOrderId: ctx.store.ids.caId(),
    certificateIds: [],
    createdAt: now,
    updatedAt: now,
    createdBy: ctx.account.login,
    updatedBy: ctx.account.login,
    paidUntil: addYears(start, 1),
    quote: draft.quote,
    canceled: false,
    revoked: false,
  };
  ctx.account.orders.set(order.id, order);
  if (renewal) {
    order.renewalOf = renewal.order.id;
    renewal.order.renewedBy = order.id;
  }
  const cert = await createCertificate(ctx, {
    order,
    origin: renewal ? "renewal" : "order",
    csrPem: draft.csrPem,
    requestedDomains: draft.requestedDomains,
    autofill: draft.autofill,
    domains: draft.domains,
    method: draft.method,
    ...(draft.emails ? { emails: draft.emails } : {}),
    serverType: draft.serverType,
    contacts,
    ...(draft.token ? { token: draft.token } : {}),
  });
  if (renewal) {
    cert.renewalOf = renewal.cert.id;
    renewal.cert.renewedBy = cert.id;
  }
  return cert;
}

/**
 * Reissues `original` into its order (5.2, 9.1.25): a new certificate with the same domains,
 * method, approvers, contacts and server type, the new CSR if one was given, and fresh DCV data;
 * `processing` until validation passes, or issued at once with a DCV token. The original stays.
 */
export async function placeReissue(
  ctx: HandlerContext,
  original: CertificateRecord,
  order: OrderRecord,
  csrPem: string,
  token?: DcvTokenRecord,
): Promise<CertificateRecord> {
  return createCertificate(ctx, {
    order,
    origin: "reissue",
    csrPem,
    requestedDomains: original.requestedDomains,
    autofill: original.autofill,
    domains: original.domains,
    method: original.dcvMethod,
    ...(original.dcvMethod === "email" ? { emails: original.dcv.map(d => d.email ?? "") } : {}),
    serverType: original.serverType,
    contacts: original.contacts,
    ...(token ? { token } : {}),
  });
}

/** The defaults a renewal of `cert` starts from. */
export function renewalDefaults(cert: CertificateRecord): DraftDefaults {
  const emails = new Map<string, string>();
  cert.domains.forEach((d, i) => {
    const email = cert.dcv[i]?.email;
    if (email) {
      emails.set(d.name, email);
    }
  });
  return {
    csrPem: cert.csrPem,
    requestedDomains: cert.requestedDomains,
    autofill: cert.autofill,
    method: cert.dcvMethod,
    emails,
    serverType: cert.serverType,
    contacts: cert.contacts,
  };
}
