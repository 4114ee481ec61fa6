/**
 * What happens to one event, whoever found it (the upstream poller or the expiry watch): claim it
 * so it is processed once across replicas, drop what the cache holds about it, then record,
 * publish and queue it for webhooks, and mark it done.
 *
 * The cache is invalidated before anything is published: a subscriber that reacts to the event by
 * querying the certificate must see its new state, not the cached one.
 */
import { type GatewayCache } from "../cache";
import { notify } from "../store-call";
import {
  type CertificateEvent,
  type EventBus,
  type EventClaims,
  type EventLog,
  type WebhookService,
} from "./types";

/** What `process` did with an event. */
export type ProcessOutcome =
  /** Processed now (invalidated, logged, published, queued, marked done). */
  | "processed"
  /** Processed before (by this or another replica): nothing was done. */
  | "duplicate"
  /** Another replica is processing it now, or the claim store failed: nothing was done. */
  | "busy";

/** What the pipeline works with; one per process. */
export interface EventPipelineDeps {
  /** The gateway's cache: the event's certificate, order and the account's lists are dropped. */
  cache: Pick<GatewayCache, "invalidate" | "invalidateLists">;
  log: EventLog;
  claims: EventClaims;
  bus: EventBus;
  /** The webhook queue, when webhooks are on. */
  webhooks?: Pick<WebhookService, "enqueue">;
  /** Receives a failed release of a claim after a failed step (log it); must not throw. */
  onError?: (error: Error) => void;
  /** The clock of `receivedAt` (default real time). */
  now?: () => Date;
}

/** Processes events once each; safe to call concurrently (the claims serialise each id). */
export interface EventPipeline {
  /**
   * Processes `event` unless it was or is being processed. The event is stored and sent with
   * `receivedAt` set to now. Rejects with the error of a step that failed (the cache, the log,
   * the bus or the webhook queue); the claim is then released, so the event is processed again
   * when it comes again (an upstream event stays upstream until processed).
   */
  process(event: CertificateEvent): Promise<ProcessOutcome>;
}

/** Builds the pipeline over the given stores. */
export function createEventPipeline(deps: EventPipelineDeps): EventPipeline {
  const now = deps.now ?? (() => new Date());

  async function process(event: CertificateEvent): Promise<ProcessOutcome> {
    const claim = await deps.claims.claim(event.account, event.id);
    if (claim === "done") {
      return "duplicate";
    }
    if (claim === "busy") {
      return "busy";
    }
    const received: CertificateEvent = { ...event, receivedAt: now().toISOString() };
    try {
      await invalidate(received);
      await deps.log.append(received);
      await deps.bus.publish(received);
      await deps.webhooks?.enqueue(received);
    } catch (error) {
      try {
        await deps.claims.release(event.account, event.id);
      } catch (caught) {
        notify(deps.onError, caught);
      }
      throw error;
    }
    await deps.claims.complete(event.account, event.id);
    return "processed";
  }

  async function invalidate(event: CertificateEvent): Promise<void> {
    const work: Promise<void>[] = [deps.cache.invalidateLists(event.account)];
    if (event.certificateId !== null) {
      work.push(deps.cache.invalidate("certificate", event.account, [event.certificateId]));
    }
    if (event.orderId !== null) {
      work.push(deps.cache.invalidate("order", event.account, [event.orderId]));
    }
    await Promise.all(work);
  }

  return { process };
}
