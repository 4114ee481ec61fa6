/**
 * The per-request loaders. `createLoaders` builds a fresh set for every GraphQL request: their
 * memo is the guarantee that, within one request, no upstream object is asked for twice, and it
 * must not outlive the request (a later request must see later data). Reuse across requests and
 * replicas is the shared store's job: every batch reads through `cache.readThrough`, keyed by the
 * request's upstream account, with the TTLs of `cache-policy.ts`.
 */
import { type GatewayCache } from "../cache";
import { type UpstreamClient } from "../upstream/client";
import {
  type ClassLoader,
  type ClassNamesLoader,
  createClassLoader,
  createClassNamesLoader,
} from "./certificate-class.loader";
import {
  CONTACT_SWEEP,
  type ContactLoader,
  type ContactPageLoader,
  type ContactRowLoader,
  createContactLoader,
  createContactPageLoader,
  createContactRowLoader,
} from "./certificate-contact.loader";
import {
  createOrderLoader,
  createOrderPageLoader,
  createOrderRowLoader,
  type OrderLoader,
  type OrderPageLoader,
  type OrderRowLoader,
} from "./certificate-order.loader";
import {
  type CertificateLoader,
  type CertificatePageLoader,
  type CertificateRowLoader,
  createCertificateLoader,
  createCertificatePageLoader,
  createCertificateRowLoader,
} from "./certificate.loader";
import { createLimiter } from "./limiter";
import { type CacheScope } from "./read-through";

export { ALL_CLASSES } from "./certificate-class.loader";
export { CONTACT_SWEEP, type ContactListQuery } from "./certificate-contact.loader";
export { type OrderListQuery } from "./certificate-order.loader";
export { type CertificateListQuery } from "./certificate.loader";

/** Every loader of one request, by the name its DataLoader carries. */
export interface Loaders {
  /** Full certificates (StatusCertificate). */
  readonly certificateById: CertificateLoader;
  /** List-row view of certificates; primed by `certificatePage`. */
  readonly certificateRowById: CertificateRowLoader;
  /** Pages of QueryCertificateList. */
  readonly certificatePage: CertificatePageLoader;
  /** Full certificate orders (StatusCertificateOrder). */
  readonly orderById: OrderLoader;
  /** List-row view of orders; primed by `orderPage`. */
  readonly orderRowById: OrderRowLoader;
  /** Pages of QueryCertificateOrderList. */
  readonly orderPage: OrderPageLoader;
  /** Full certificate contacts (StatusCertificateContact). */
  readonly contactById: ContactLoader;
  /** List-row view of contacts; primed by `contactPage`. */
  readonly contactRowById: ContactRowLoader;
  /** Pages of QueryCertificateContactList. */
  readonly contactPage: ContactPageLoader;
  /** Certificate classes (GetCertificateInfo CLASS=...). */
  readonly classByName: ClassLoader;
  /** The list of class names (GetCertificateInfo). */
  readonly classNames: ClassNamesLoader;
  /**
   * Starts loading the account's contact sweep (`CONTACT_SWEEP`: one contact list command for
   * many contacts) without waiting for it, so that `contactRowById` finds it ready. Never
   * rejects: a failed sweep is retried by the row loader's fallback, per contact.
   */
  readonly prefetchContacts: () => void;
}

/** What the loaders of a request need. */
export interface LoaderDeps {
  readonly upstream: UpstreamClient;
  /** The shared store every read goes through (`CACHE_URL=off`: one that stores nothing). */
  readonly cache: GatewayCache;
  /** The upstream login the reads are made as: the scope of every value stored or served. */
  readonly account: string;
  /** Most upstream reads in flight at once for this request (at least 1). */
  readonly fetchConcurrency: number;
  /** Observer of DataLoader batch sizes (metrics); optional. */
  readonly observeBatchSize?: (loader: string, size: number) => void;
}

/**
 * Builds the loaders of one request. Every upstream read they make shares one limiter of
 * `fetchConcurrency` slots. Never throws; does no I/O.
 */
export function createLoaders(deps: LoaderDeps): Loaders {
  const { upstream } = deps;
  const store: CacheScope = {
    cache: deps.cache,
    account: deps.account,
    observeBatchSize: deps.observeBatchSize,
  };
  const limit = createLimiter(deps.fetchConcurrency);
  const certificateById = createCertificateLoader(upstream, store, limit);
  const certificateRowById = createCertificateRowLoader(certificateById);
  const orderById = createOrderLoader(upstream, store, limit);
  const orderRowById = createOrderRowLoader(orderById);
  const contactById = createContactLoader(upstream, store, limit);
  // The row loader sweeps through the page loader, which primes the row loader: a cycle, closed
  // by a function the row loader calls only once batches run.
  const contactRowById = createContactRowLoader(contactById, () => contactPage);
  const contactPage = createContactPageLoader(upstream, store, limit, contactRowById);
  return {
    certificateById,
    certificateRowById,
    certificatePage: createCertificatePageLoader(upstream, store, limit, certificateRowById),
    orderById,
    orderRowById,
    orderPage: createOrderPageLoader(upstream, store, limit, orderRowById),
    contactById,
    contactRowById,
    contactPage,
    classByName: createClassLoader(upstream, store, limit),
    classNames: createClassNamesLoader(upstream, store, limit),
    prefetchContacts: () => {
      contactPage.load(CONTACT_SWEEP).catch(() => undefined);
    },
  };
}

/** What a mutation changed, so that the loaders forget it. */
export interface LoaderChanges {
  /** Certificates whose state changed (revoked, reissued, renewed, resent). */
  readonly certificateIds?: readonly string[];
  /** Orders whose state changed. */
  readonly orderIds?: readonly string[];
  /**
   * Every certificate may have changed (an order was canceled or revoked as a whole). The
   * request's loaders forget them all; the shared store cannot, so name the order's certificates
   * in `certificateIds` too.
   */
  readonly allCertificates?: boolean;
  /** A contact was created: contact lists are stale. */
  readonly contacts?: boolean;
}

/**
 * Makes the loaders forget what a mutation changed: the named certificates and orders (full and
 * row views) and every list page of their kind, so the rest of the request reads fresh data.
 */
export function forgetChanges(loaders: Loaders, changes: LoaderChanges): void {
  const certificates = changes.certificateIds ?? [];
  const orders = changes.orderIds ?? [];
  if (certificates.length > 0 || orders.length > 0 || changes.allCertificates) {
    loaders.certificatePage.clearAll();
    loaders.orderPage.clearAll();
  }
  if (changes.allCertificates) {
    loaders.certificateById.clearAll();
    loaders.certificateRowById.clearAll();
  }
  for (const id of certificates) {
    loaders.certificateById.clear(id);
    loaders.certificateRowById.clear(id);
  }
  for (const id of orders) {
    loaders.orderById.clear(id);
    loaders.orderRowById.clear(id);
  }
  if (changes.contacts) {
    loaders.contactPage.clearAll();
  }
}

/**
 * Removes what a mutation changed from the shared store, for every replica: the named
 * certificates and orders, and every cached list page of `account` (any mutation can change a
 * list: a new certificate, a status filter, a new contact). Call it after the mutation succeeded
 * and before answering. Never rejects: the cache reports and counts its own failures.
 */
export async function invalidateChanges(
  cache: GatewayCache,
  account: string,
  changes: LoaderChanges,
): Promise<void> {
  const certificates = changes.certificateIds ?? [];
  const orders = changes.orderIds ?? [];
  await Promise.all([
    certificates.length > 0 ? cache.invalidate("certificate", account, certificates) : undefined,
    orders.length > 0 ? cache.invalidate("order", account, orders) : undefined,
    cache.invalidateLists(account),
  ]);
}
