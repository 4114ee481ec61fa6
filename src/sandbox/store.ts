/**
 * The sandbox's state: one `AccountState` per login holding its certificates, orders, contacts,
 * events and DCV tokens. Every account sees only its own objects. Requests of one account run one
 * at a time (`runExclusive`), so a command and the transitions settled before it never interleave
 * with another command of the same account.
 */
import { type CertificateClass, type DcvMethod } from "./catalog";
import { type DcvRecord } from "./dcv";
import { type IdAllocator } from "./ids";
import { type PlannedDomain, type Quote } from "./rules";

/** Stored status of a certificate; `expired` is derived from the clock (see `certificateStatus`). */
export type StoredCertificateStatus = "processing" | "active" | "revoked" | "failed" | "canceled";

/** Status of a certificate as replies show it (manual 9.4.1, lower case as in API version 2). */
export type CertificateStatus = StoredCertificateStatus | "expired";

/** Status of an order as replies show it (manual 9.4.2). */
export type OrderStatus = "processing" | "active" | "expired" | "failed" | "canceled" | "revoked";

/** How a certificate came to be. */
export type CertificateOrigin = "order" | "reissue" | "renewal";

/** The issued X.509 material of a certificate. */
export interface IssuedMaterial {
  certPem: string;
  intermediatePem: string;
  rootPem: string;
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
}

/** Contacts of a certificate by role, as CertificateContact ids. */
export interface CertificateContacts {
  tech: string[];
  organization: string[];
  evapprover: string[];
}

/** One certificate (manual 6.2). */
export interface CertificateRecord {
  id: string;
  orderId: string;
  cls: CertificateClass;
  origin: CertificateOrigin;
  /** The domains as requested (before free alternatives), for renewals. */
  requestedDomains: string[];
  autofill: boolean;
  /** The final domain list with free alternatives. */
  domains: PlannedDomain[];
  dcvMethod: DcvMethod;
  dcv: DcvRecord[];
  csrPem: string;
  serverType: string;
  contacts: CertificateContacts;
  caCertificateId: string;
  status: StoredCertificateStatus;
  /** When validation passes (or fails); `null` waits for ResendNotification. */
  validationDueAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  createdBy: string;
  updatedBy: string;
  issued?: IssuedMaterial;
  /** The certificate this one renews (renewals only). */
  renewalOf?: string;
  /** The certificate that renews this one. */
  renewedBy?: string;
}

/** One order: the container of a certificate and its reissues (manual 6.3). */
export interface OrderRecord {
  id: string;
  cls: CertificateClass;
  caOrderId: string;
  certificateIds: string[];
  createdAt: Date;
  updatedAt: Date;
  createdBy: string;
  updatedBy: string;
  paidUntil: Date;
  quote: Quote;
  canceled: boolean;
  revoked: boolean;
  /** Amount refunded on cancellation, in minor units (0 for classes without refunds, 7.5). */
  refundMinor?: number;
  /** The order this one renews. */
  renewalOf?: string;
  /** The order that renews this one. */
  renewedBy?: string;
}

/** The roles a CertificateContact can have (manual 6.4). */
export type ContactType = "tech" | "organization" | "evapprover";

/** One CertificateContact (manual 6.4, 9.1.12): immutable once created. */
export interface ContactRecord {
  id: string;
  type: ContactType;
  firstName: string;
  lastName: string;
  jobTitle: string;
  phone: string;
  email: string;
  organizationName: string;
  organizationDba: string;
  organizationStreet: string;
  organizationCity: string;
  organizationState: string;
  organizationZip: string;
  organizationCountry: string;
  organizationPhone: string;
  organizationEmail: string;
  organizationCategory: string;
  status: "unverified";
  createdAt: Date;
  createdBy: string;
}

/** The event classes and subclasses of the SSL system (manual 9.5). */
export type EventKind =
  | ["CERTIFICATE_REQUEST", "REQUEST_SUCCESSFUL"]
  | ["CERTIFICATE_REQUEST", "REQUEST_FAILED"]
  | ["CERTIFICATE_REISSUE", "REISSUE_SUCCESSFUL"]
  | ["CERTIFICATE_REISSUE", "REISSUE_FAILED"]
  | ["CERTIFICATE_CLOSE", "CLOSE_SUCCESSFUL"];

/** One event of an account (QueryEventList / StatusEvent). */
export interface EventRecord {
  id: string;
  eventClass: string;
  subclass: string;
  objectId: string;
  date: Date;
  data: string[];
  info: string;
}

/** A DCV token handed out by CheckCertificate (generatedcvtoken=1), valid 30 days (9.1.20). */
export interface DcvTokenRecord {
  token: string;
  classId: string;
  publicKeyFingerprint: string;
  expiresAt: Date;
}

/** Everything one account owns. */
export interface AccountState {
  login: string;
  certificates: Map<string, CertificateRecord>;
  orders: Map<string, OrderRecord>;
  contacts: Map<string, ContactRecord>;
  events: Map<string, EventRecord>;
  dcvTokens: Map<string, DcvTokenRecord>;
  /** Ids of certificates in `processing`, for settling without scanning everything. */
  pending: Set<string>;
}

/** Creates the empty state of an account. */
export function createAccountState(login: string): AccountState {
  return {
    login,
    certificates: new Map(),
    orders: new Map(),
    contacts: new Map(),
    events: new Map(),
    dcvTokens: new Map(),
    pending: new Set(),
  };
}

/** The sandbox-wide store: accounts, the id allocator and the per-account request queue. */
export class SandboxStore {
  private readonly accounts = new Map<string, AccountState>();
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(readonly ids: IdAllocator) {}

  /** The state of `login`, created empty on first use. */
  account(login: string): AccountState {
    let state = this.accounts.get(login);
    if (!state) {
      state = createAccountState(login);
      this.accounts.set(login, state);
    }
    return state;
  }

  /**
   * Runs `task` after every earlier task of the same account has finished (FIFO); tasks of
   * different accounts run concurrently. A failing task does not block the queue.
   */
  runExclusive<T>(login: string, task: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(login) ?? Promise.resolve();
    const run = previous.then(task, task);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(login, settled);
    void settled.then(() => {
      if (this.queues.get(login) === settled) {
        this.queues.delete(login);
      }
    });
    return run;
  }
}

/** The status of a certificate at `now`: an active certificate past its notAfter is `expired`. */
export function certificateStatus(cert: CertificateRecord, now: Date): CertificateStatus {
  if (cert.status === "active" && cert.issued && cert.issued.notAfter.getTime() < now.getTime()) {
    return "expired";
  }
  return cert.status;
}

/**
 * The status of an order at `now` (9.4.2): canceled and revoked as set by those commands; then
 * `expired` once past paid until; `processing` while a certificate is; `active` once one was
 * issued; `failed` when none could be.
 */
export function orderStatus(
  order: OrderRecord,
  certificates: ReadonlyMap<string, CertificateRecord>,
  now: Date,
): OrderStatus {
  if (order.canceled) {
    return "canceled";
  }
  if (order.revoked) {
    return "revoked";
  }
  if (order.paidUntil.getTime() < now.getTime()) {
    return "expired";
  }
  const certs = order.certificateIds
    .map(id => certificates.get(id))
    .filter((c): c is CertificateRecord => c !== undefined);
  if (certs.some(c => c.status === "processing")) {
    return "processing";
  }
  if (certs.some(c => c.issued !== undefined)) {
    return "active";
  }
  return "failed";
}

/** `true` when any certificate of the order was ever issued. */
export function orderWasIssued(
  order: OrderRecord,
  certificates: ReadonlyMap<string, CertificateRecord>,
): boolean {
  return order.certificateIds.some(id => certificates.get(id)?.issued !== undefined);
}
