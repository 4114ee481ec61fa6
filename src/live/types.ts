/**
 * Live status (events, subscriptions, webhooks, expiry watch): the shapes and the contracts the
 * parts share. Nothing here does I/O.
 *
 * The flow of one event:
 *
 * ```
 * upstream QueryEventList/StatusEvent ─┐                 ┌─> EventLog (certificateEvents, Certificate.events)
 *                                      ├─> EventPipeline ┼─> EventBus (subscriptions, every replica)
 * expiry watch (thresholds) ───────────┘   (once: claim) └─> WebhookQueue (partners, retried for a day)
 * ```
 *
 * One poller per upstream account runs across all replicas (a `Lease` in the shared store). Each
 * event is claimed once (`EventClaims`), the cached certificate and order it concerns are
 * invalidated, then it is recorded, published and queued for webhooks; only then is it marked
 * seen upstream (DeleteEvent).
 */

/** The event kinds the gateway knows: the subclasses of manual 9.5 and its own expiry warning. */
export const CERTIFICATE_EVENT_TYPES = [
  "REQUEST_SUCCESSFUL",
  "REQUEST_FAILED",
  "REISSUE_SUCCESSFUL",
  "REISSUE_FAILED",
  "CLOSE_SUCCESSFUL",
  "EXPIRING",
] as const;
export type CertificateEventType = (typeof CERTIFICATE_EVENT_TYPES)[number];

/** The class the gateway's own expiry warnings carry (the upstream's classes are in 9.5). */
export const EXPIRY_EVENT_CLASS = "CERTIFICATE_EXPIRY";
/** The subclass of the gateway's own expiry warnings. */
export const EXPIRY_EVENT_SUBCLASS = "EXPIRING";

/**
 * One event as the gateway keeps and publishes it. JSON-safe (dates as ISO 8601 strings), so it
 * crosses Redis and webhooks unchanged.
 */
export interface CertificateEvent {
  /**
   * Unique within the account: the upstream's event id (digits), or for expiry warnings
   * `expiring:<certificate>:<threshold>d:<notAfter yyyy-mm-dd>`.
   */
  readonly id: string;
  /** The upstream login the event belongs to (never shown to clients). */
  readonly account: string;
  /** `CERTIFICATE_REQUEST`, `CERTIFICATE_REISSUE`, `CERTIFICATE_CLOSE` or `CERTIFICATE_EXPIRY`. */
  readonly eventClass: string;
  /** `REQUEST_SUCCESSFUL` ... or `EXPIRING`; unknown upstream subclasses are kept as sent. */
  readonly subclass: string;
  /** The object the event is about, as the upstream names it (`object_id`). */
  readonly objectId: string;
  /** The certificate concerned (for SSL events the object is the certificate). */
  readonly certificateId: string | null;
  /** The certificate's order, from the event's data (`certificateorder=`), when known. */
  readonly orderId: string | null;
  /** When it happened (upstream `date`, or when the threshold was crossed), ISO 8601. */
  readonly date: string;
  /** The upstream's description (`info`), or the gateway's for expiry warnings. */
  readonly info: string;
  /**
   * The event's data as `name -> value` (StatusEvent `data` lines `name=value`). Expiry warnings
   * carry `expiresAt`, `daysLeft` and `thresholdDays`.
   */
  readonly data: Readonly<Record<string, string>>;
  /** `upstream` (QueryEventList) or `gateway` (expiry watch). */
  readonly source: "upstream" | "gateway";
  /** When the gateway processed it, ISO 8601. */
  readonly receivedAt: string;
}

/** The kind of `event` when the gateway knows it, else `null`. */
export function eventTypeOf(
  event: Pick<CertificateEvent, "subclass">,
): CertificateEventType | null {
  return (CERTIFICATE_EVENT_TYPES as readonly string[]).includes(event.subclass)
    ? (event.subclass as CertificateEventType)
    : null;
}

/** Which recorded events a query wants; every field optional, all given ones must match. */
export interface EventFilter {
  readonly types?: readonly CertificateEventType[];
  readonly certificateId?: string;
  readonly orderId?: string;
  /** Events dated at or after this instant. */
  readonly since?: Date;
  /** Events dated before this instant. */
  readonly until?: Date;
}

/** A page of recorded events, newest first. */
export interface EventPage {
  readonly items: readonly CertificateEvent[];
  /** Events matching the filter in all. */
  readonly total: number;
}

/**
 * The events the gateway processed, per account, newest first, bounded (oldest dropped first).
 * Memory or Redis (shared by the replicas).
 */
export interface EventLog {
  /** Records `event` (its account's log). Never rejects for a store failure: reports and drops. */
  append(event: CertificateEvent): Promise<void>;
  /** A page of the account's events matching `filter`, newest first. */
  list(account: string, filter: EventFilter, offset: number, limit: number): Promise<EventPage>;
  close(): Promise<void>;
}

/** The state of an event id in `EventClaims`. */
export type ClaimResult = "claimed" | "busy" | "done";

/**
 * Processing each event once across replicas: `claim` before processing (atomic: SET NX PX in
 * Redis), `complete` after. A claim whose holder died expires after `claimTtlMs`, so the event is
 * processed again (it is still upstream: it is only deleted after `complete`).
 */
export interface EventClaims {
  /** `claimed`: process it now; `busy`: someone else is; `done`: already processed. */
  claim(account: string, eventId: string): Promise<ClaimResult>;
  /** Marks the event processed (kept for the dedup window). */
  complete(account: string, eventId: string): Promise<void>;
  /** Forgets a claim whose processing failed, so the next poll tries again. */
  release(account: string, eventId: string): Promise<void>;
}

/** A lease held by one replica at a time (the account's poller), renewed while it runs. */
export interface Lease {
  /**
   * Takes or renews the lease `name` for `holder` for `ttlMs`: true when `holder` holds it now.
   * Atomic (Lua compare-and-set in Redis). False when the store fails (nobody polls rather than two).
   */
  acquire(name: string, holder: string, ttlMs: number): Promise<boolean>;
  /** Gives the lease up if `holder` holds it (on stop), so another replica takes over at once. */
  release(name: string, holder: string): Promise<void>;
}

/**
 * Fan-out of processed events to every replica's subscribers (Redis pub/sub, or in-process).
 * A replica hears the events it publishes itself through the same path.
 */
export interface EventBus {
  /** Sends `event` to every subscriber of its account on every replica. Never rejects. */
  publish(event: CertificateEvent): Promise<void>;
  /** Calls `listener` for each event of `account` from now on; returns the unsubscribe function. */
  subscribe(account: string, listener: (event: CertificateEvent) => void): () => void;
  close(): Promise<void>;
}

/** A partner's registered endpoint (never includes its secret). */
export interface Webhook {
  readonly id: string;
  /** Who registered it: the API key's name (`open` without keys, `account:<tag>` in pass-through). */
  readonly owner: string;
  /** The upstream login whose events it receives. */
  readonly account: string;
  readonly url: string;
  /** The event kinds it wants; empty means every kind. */
  readonly events: readonly CertificateEventType[];
  /** ISO 8601. */
  readonly createdAt: string;
}

/** One attempt (or the queued state) of delivering one event to one webhook. */
export interface WebhookDelivery {
  readonly id: string;
  readonly webhookId: string;
  readonly eventId: string;
  readonly eventType: string;
  /** `pending` (queued or retrying), `delivered` (2xx), `failed` (gave up after a day or refused). */
  readonly state: "pending" | "delivered" | "failed";
  /** Attempts made so far. */
  readonly attempts: number;
  /** The last attempt's HTTP status, when an answer came. */
  readonly lastStatus: number | null;
  /** The last attempt's error (timeout, refused address, connection), when there was one. */
  readonly lastError: string | null;
  /** ISO 8601 timestamps. */
  readonly createdAt: string;
  readonly lastAttemptAt: string | null;
  readonly nextAttemptAt: string | null;
}

/** Registration, queueing and history of webhooks (memory or Redis). */
export interface WebhookService {
  /**
   * Registers `url` for `owner`'s events of `account`. Checks the URL (https or http, no
   * credentials, a public address unless private targets are allowed) and throws a
   * `WebhookUrlError` saying what to fix. Returns the webhook and its signing secret (shown once).
   */
  create(
    owner: string,
    account: string,
    url: string,
    events: readonly CertificateEventType[],
  ): Promise<{ webhook: Webhook; secret: string }>;
  list(owner: string): Promise<Webhook[]>;
  /** False when `owner` has no webhook `id`. Pending deliveries of it are dropped. */
  delete(owner: string, id: string): Promise<boolean>;
  /** The deliveries of `owner`'s webhook `id`, newest first; null when there is no such webhook. */
  deliveries(
    owner: string,
    id: string,
    offset: number,
    limit: number,
  ): Promise<{ items: WebhookDelivery[]; total: number } | null>;
  /** Queues `event` for every webhook of its account that wants its kind. Called once per event. */
  enqueue(event: CertificateEvent): Promise<void>;
  /** Starts the delivery worker (any replica may run one: due deliveries are claimed atomically). */
  start(): void;
  /** Stops the worker, waits for attempts under way (bounded). */
  stop(): Promise<void>;
}
