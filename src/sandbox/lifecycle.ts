/**
 * The life cycle of certificates and orders (manual chapters 4, 5, 9.4, 9.5), applied lazily:
 * before each request the server settles every transition of the account that is due at `now`,
 * in the order they fell due and dated when they fell due. No timer runs in between, so an
 * injected clock drives everything and a stopped sandbox leaves nothing behind.
 */
import {
  type CertificateOrganization,
  type IssuedCertificate,
  type IssueRequest,
  type SandboxCa,
} from "./ca";
import { addDays, wholeSeconds } from "./clock";
import {
  type AccountState,
  type CertificateRecord,
  type EventKind,
  type EventRecord,
  type IssuedMaterial,
  type SandboxStore,
} from "./store";

/** What the life-cycle functions work on: the store, the CA and the caller's account. */
export interface LifecycleContext {
  store: SandboxStore;
  ca: SandboxCa;
  account: AccountState;
}

/** The description of each event (manual 9.5), answered as `info` by StatusEvent. */
const EVENT_INFO: Readonly<Record<string, string>> = {
  REQUEST_SUCCESSFUL: "The CA issued the certificate and it is now available via StatusCertificate",
  REQUEST_FAILED: "The certificate could not be issued",
  REISSUE_SUCCESSFUL:
    "The reissue was done and the new certificate is available via StatusCertificate",
  REISSUE_FAILED: "The certificate could not be reissued",
  CLOSE_SUCCESSFUL: "The certificate was successfully cancelled or revoked",
};

/**
 * Days a certificate issued at `issuedAt` may be valid under the CA/Browser Forum's schedule
 * (ballot SC-081), one day short of each limit: 397 before 15 March 2026, then 199, from
 * 15 March 2027 99, from 15 March 2029 46.
 */
export function maxLifetimeDays(issuedAt: Date): number {
  const t = issuedAt.getTime();
  if (t >= Date.UTC(2029, 2, 15)) {
    return 46;
  }
  if (t >= Date.UTC(2027, 2, 15)) {
    return 99;
  }
  if (t >= Date.UTC(2026, 2, 15)) {
    return 199;
  }
  return 397;
}

/** The notAfter of a certificate issued at `issuedAt`: the lifetime limit, capped by paid until. */
export function lifetimeEnd(issuedAt: Date, paidUntil: Date): Date {
  const limit = addDays(issuedAt, maxLifetimeDays(issuedAt));
  return wholeSeconds(limit.getTime() < paidUntil.getTime() ? limit : paidUntil);
}

/** Records an event of the account about `cert`, dated `date`, with the next event id. */
export function addEvent(
  ctx: LifecycleContext,
  kind: EventKind,
  cert: CertificateRecord,
  date: Date,
): EventRecord {
  const [eventClass, subclass] = kind;
  const event: EventRecord = {
    id: ctx.store.ids.event(),
    eventClass,
    subclass,
    objectId: cert.id,
    date,
    data: [
      `certificate=${cert.id}`,
      `certificateorder=${cert.orderId}`,
      `class=${cert.cls.id}`,
      `domain=${cert.domains[0]?.name ?? ""}`,
      `status=${cert.status}`,
    ],
    info: EVENT_INFO[subclass] ?? "",
  };
  ctx.account.events.set(event.id, event);
  return event;
}

/** `true` when a domain can never pass validation: everything under `.invalid` (RFC 2606). */
export function failsValidation(cert: CertificateRecord): boolean {
  return cert.domains.some(d => d.name === "invalid" || d.name.endsWith(".invalid"));
}

function organizationOf(
  ctx: LifecycleContext,
  cert: CertificateRecord,
): CertificateOrganization | undefined {
  if (cert.cls.type === "DV") {
    return undefined;
  }
  const contact = ctx.account.contacts.get(cert.contacts.organization[0] ?? "");
  if (
    !contact ||
    contact.organizationName === "" ||
    !/^[A-Za-z]{2}$/.test(contact.organizationCountry)
  ) {
    return undefined;
  }
  const organization: CertificateOrganization = {
    name: contact.organizationName,
    country: contact.organizationCountry,
  };
  if (contact.organizationCity) {
    organization.city = contact.organizationCity;
  }
  if (contact.organizationState) {
    organization.state = contact.organizationState;
  }
  return organization;
}

/** The CA request that issues `cert` at `at` (notBefore = `at`, notAfter = `lifetimeEnd`). */
export function issuanceRequest(
  ctx: LifecycleContext,
  cert: CertificateRecord,
  at: Date,
): IssueRequest {
  const order = ctx.account.orders.get(cert.orderId);
  const notBefore = wholeSeconds(at);
  const notAfter = lifetimeEnd(notBefore, order?.paidUntil ?? addDays(notBefore, 365));
  const organization = organizationOf(ctx, cert);
  return {
    csrPem: cert.csrPem,
    domains: cert.domains.map(d => d.name),
    brand: cert.cls.ca,
    notBefore,
    notAfter,
    ...(organization ? { organization } : {}),
  };
}

/**
 * Records that `cert` was issued at `at` with the CA's answer `issued` to `request`: the
 * certificate becomes `active`, its order is updated, and REQUEST_SUCCESSFUL or
 * REISSUE_SUCCESSFUL is recorded.
 */
export function markIssued(
  ctx: LifecycleContext,
  cert: CertificateRecord,
  at: Date,
  request: IssueRequest,
  issued: IssuedCertificate,
): IssuedMaterial {
  const material: IssuedMaterial = {
    ...issued,
    notBefore: request.notBefore,
    notAfter: request.notAfter,
  };
  cert.issued = material;
  cert.status = "active";
  cert.validationDueAt = null;
  cert.updatedAt = at;
  ctx.account.pending.delete(cert.id);
  const order = ctx.account.orders.get(cert.orderId);
  if (order) {
    order.updatedAt = at;
  }
  addEvent(
    ctx,
    cert.origin === "reissue"
      ? ["CERTIFICATE_REISSUE", "REISSUE_SUCCESSFUL"]
      : ["CERTIFICATE_REQUEST", "REQUEST_SUCCESSFUL"],
    cert,
    at,
  );
  return material;
}

/** Has the CA issue `cert` at `at` and records it (`issuanceRequest`, then `markIssued`). */
export async function issueCertificate(
  ctx: LifecycleContext,
  cert: CertificateRecord,
  at: Date,
): Promise<IssuedMaterial> {
  const request = issuanceRequest(ctx, cert, at);
  return markIssued(ctx, cert, at, request, await ctx.ca.issue(request));
}

/**
 * Runs `tasks` with at most `limit` in flight and resolves with their results in order. The CA
 * signs through WebCrypto's thread pool, so a few concurrent issues finish several times faster
 * than one after the other.
 */
export async function runConcurrently<T>(
  tasks: readonly (() => Promise<T>)[],
  limit = 8,
): Promise<T[]> {
  const results: T[] = new Array<T>(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const index = next++;
      const task = tasks[index];
      if (task) {
        results[index] = await task();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}

/** Makes `cert` `failed` at `at` and records REQUEST_FAILED or REISSUE_FAILED. */
export function failCertificate(ctx: LifecycleContext, cert: CertificateRecord, at: Date): void {
  cert.status = "failed";
  cert.validationDueAt = null;
  cert.updatedAt = at;
  ctx.account.pending.delete(cert.id);
  const order = ctx.account.orders.get(cert.orderId);
  if (order) {
    order.updatedAt = at;
  }
  addEvent(
    ctx,
    cert.origin === "reissue"
      ? ["CERTIFICATE_REISSUE", "REISSUE_FAILED"]
      : ["CERTIFICATE_REQUEST", "REQUEST_FAILED"],
    cert,
    at,
  );
}

/**
 * Ends an active or processing certificate as `revoked` or `canceled` at `at` and records
 * CLOSE_SUCCESSFUL (9.5: "successfully cancelled or revoked").
 */
export function closeCertificate(
  ctx: LifecycleContext,
  cert: CertificateRecord,
  status: "revoked" | "canceled",
  at: Date,
): void {
  cert.status = status;
  cert.validationDueAt = null;
  cert.updatedAt = at;
  cert.updatedBy = ctx.account.login;
  ctx.account.pending.delete(cert.id);
  addEvent(ctx, ["CERTIFICATE_CLOSE", "CLOSE_SUCCESSFUL"], cert, at);
}

/**
 * Settles every validation of the account that is due at `now`, oldest first: a certificate
 * with a domain under `.invalid` fails, any other is issued, each dated when it fell due.
 */
export async function settleAccount(ctx: LifecycleContext, now: Date): Promise<void> {
  const due: CertificateRecord[] = [];
  for (const id of ctx.account.pending) {
    const cert = ctx.account.certificates.get(id);
    if (!cert || cert.status !== "processing") {
      ctx.account.pending.delete(id);
    } else if (cert.validationDueAt && cert.validationDueAt.getTime() <= now.getTime()) {
      due.push(cert);
    }
  }
  due.sort(
    (a, b) =>
      (a.validationDueAt?.getTime() ?? 0) - (b.validationDueAt?.getTime() ?? 0) ||
      (a.id < b.id ? -1 : 1),
  );
  // The CA works concurrently; the results are recorded in the order the validations fell due.
  const passing = due.filter(cert => !failsValidation(cert));
  const requests = passing.map(cert => issuanceRequest(ctx, cert, cert.validationDueAt ?? now));
  // A request the CA refuses fails its certificate rather than every later command of the account.
  const issued = await runConcurrently(
    requests.map(request => () => ctx.ca.issue(request).catch(() => undefined)),
  );
  const position = new Map(passing.map((cert, index) => [cert, index]));
  for (const cert of due) {
    const at = cert.validationDueAt ?? now;
    const index = position.get(cert) ?? -1;
    const request = requests[index];
    const result = issued[index];
    if (request && result) {
      markIssued(ctx, cert, at, request, result);
    } else {
      failCertificate(ctx, cert, at);
    }
  }
}
