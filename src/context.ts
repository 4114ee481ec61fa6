/**
 * The GraphQL context: what every resolver of one request shares. `createContext` is called once
 * per request by the composition root; it builds fresh loaders, so nothing read for one request
 * is served to another except through the shared store, which is keyed by upstream account.
 */
import { type GatewayCache } from "./cache";
import { type Config } from "./config";
import { SubscriberTooSlowError } from "./errors";
import { createEventStream } from "./event-stream";
import { type IdempotencyStore } from "./idempotency";
import {
  type CertificateEvent as CertificateEventRecord,
  type EventBus,
  type EventLog,
  type WebhookService,
} from "./live/types";
import {
  createLoaders,
  forgetChanges,
  invalidateChanges,
  type LoaderChanges,
  type Loaders,
} from "./loaders";
import { type UpstreamClient } from "./upstream/client";

export {
  type CertificateEvent as CertificateEventRecord,
  type EventFilter,
  type Webhook as WebhookRecord,
  type WebhookDelivery as WebhookDeliveryRecord,
} from "./live/types";

/**
 * The live-status services (src/live/) as resolvers see them: shared by every request and
 * connection of the gateway, scoped by the caller's account and owner on each call.
 */
export interface LiveServices {
  /** The history of processed events (`certificateEvents`, `Certificate.events`). */
  readonly events: Pick<EventLog, "list">;
  /** Registration and history of webhooks. */
  readonly webhooks: Pick<WebhookService, "create" | "list" | "delete" | "deliveries">;
  /**
   * Calls `listener` with every event of `account` processed from now on, on any replica; returns
   * the unsubscribe function (`EventBus.subscribe`).
   */
  subscribe(account: string, listener: (event: CertificateEventRecord) => void): () => void;
  /** Resolves once the subscriptions made so far hear events (Redis SUBSCRIBE done). Never rejects. */
  ready(): Promise<void>;
  /**
   * The events of `account` processed from now on (of one certificate when `certificateId` is
   * given), for a subscription: at most `SUBSCRIPTION_BUFFER_EVENTS` wait for a slow consumer,
   * then the stream ends with `SubscriberTooSlowError`. Listens at once; `return()` stops it.
   */
  stream(account: string, certificateId?: string): AsyncIterableIterator<CertificateEventRecord>;
}

/** Most events buffered per subscription for a consumer that reads slower than they come. */
export const SUBSCRIPTION_BUFFER_EVENTS = 256;

/** Builds `LiveServices` over the gateway's stores. */
export function createLiveServices(deps: {
  readonly log: EventLog;
  readonly webhooks: WebhookService;
  readonly bus: EventBus & { ready?(): Promise<void> };
}): LiveServices {
  const { bus } = deps;
  return {
    events: deps.log,
    webhooks: deps.webhooks,
    subscribe: (account, listener) => bus.subscribe(account, listener),
    ready: () => (bus.ready ? bus.ready() : Promise.resolve()),
    stream: (account, certificateId) =>
      createEventStream<CertificateEventRecord>({
        listen: push =>
          bus.subscribe(account, event => {
            if (certificateId === undefined || event.certificateId === certificateId) {
              push(event);
            }
          }),
        maxBuffered: SUBSCRIPTION_BUFFER_EVENTS,
        overflowError: () => new SubscriberTooSlowError(SUBSCRIPTION_BUFFER_EVENTS),
      }),
  };
}

/** The gateway's own limits, as `config.gateway` holds them. */
export type GatewaySettings = Config["gateway"];

/**
 * How long after a mutation the shared store is invalidated a second time, in ms. A read on
 * another replica that fetched the old state just before the mutation may store it just after
 * the first invalidation; the second one removes it. (Within one process the cache already
 * refuses such late writes.)
 */
export const SECOND_INVALIDATION_DELAY_MS = 1_000;

/** What `createContext` is built from: shared by every request of the gateway. */
export interface ContextDeps {
  /** The upstream client (one pool for the whole gateway). */
  readonly upstream: UpstreamClient;
  /** The upstream login the client sends: the scope of cached values and idempotency keys. */
  readonly account: string;
  /** The shared store the loaders read through and mutations invalidate. */
  readonly cache: GatewayCache;
  /** Where idempotency keys are claimed (shared by every request and, in production, instance). */
  readonly idempotency: IdempotencyStore;
  /** `config.gateway`: fetch concurrency, page size limit, idempotency TTL. */
  readonly settings: GatewaySettings;
  /** Observer of DataLoader batch sizes (metrics); optional. */
  readonly observeBatchSize?: (loader: string, size: number) => void;
  /** Events, subscriptions and webhooks. */
  readonly live: LiveServices;
  /**
   * Who the caller is, as webhooks are owned: the API key's name, `open` without keys, or
   * `account:<tag>` in pass-through.
   */
  readonly owner: string;
}

/** The context of one GraphQL request. */
export interface Context {
  /** For mutations and un-keyed reads; keyed reads go through `loaders`. */
  readonly upstream: UpstreamClient;
  /** This request's loaders (memoised per request, reading through the shared store). */
  readonly loaders: Loaders;
  /** The upstream login: the scope of cached values and idempotency keys. */
  readonly account: string;
  readonly idempotency: IdempotencyStore;
  readonly settings: GatewaySettings;
  /** Events, subscriptions and webhooks (shared; scope every call by `account` or `owner`). */
  readonly live: LiveServices;
  /** Who owns the webhooks the caller creates and sees (see `ContextDeps.owner`). */
  readonly owner: string;
  /**
   * Makes this request's loaders and the shared store (every replica) forget what a mutation
   * changed; await it before answering, so that no later read sees the old state. Call it only
   * after the upstream accepted the mutation. Never rejects (store failures are the cache's to
   * report); a second invalidation follows `SECOND_INVALIDATION_DELAY_MS` later.
   */
  forget(changes: LoaderChanges): Promise<void>;
}

/**
 * Builds the context of one request: fresh loaders sharing one limiter of
 * `settings.fetchConcurrency` upstream reads. Never throws; does no I/O.
 */
export function createContext(deps: ContextDeps): Context {
  const { cache, account } = deps;
  const loaders = createLoaders({
    upstream: deps.upstream,
    cache,
    account,
    fetchConcurrency: deps.settings.fetchConcurrency,
    observeBatchSize: deps.observeBatchSize,
  });
  return {
    upstream: deps.upstream,
    loaders,
    account,
    idempotency: deps.idempotency,
    settings: deps.settings,
    live: deps.live,
    owner: deps.owner,
    forget: async changes => {
      forgetChanges(loaders, changes);
      await invalidateChanges(cache, account, changes);
      if (cache.kind !== "off") {
        // Not awaited: the answer must not wait for it. The timer must not hold the process up.
        setTimeout(() => {
          void invalidateChanges(cache, account, changes);
        }, SECOND_INVALIDATION_DELAY_MS).unref();
      }
    },
  };
}
