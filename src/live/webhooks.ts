/**
 * Webhooks: partners register endpoints per API key, and every event of the account is POSTed
 * to them as signed JSON (`webhook-signing.ts`), retried with backoff for a day, each delivery
 * recorded with its outcome. Long-lived: one service per process, built by the composition root,
 * its worker started with the gateway and stopped (before the Redis connection closes) on
 * shutdown.
 *
 * Every replica runs a worker. Due deliveries are claimed atomically in the store (a claim hides
 * the delivery for one attempt's timeout plus a margin), so exactly one replica attempts each; if
 * that replica dies mid-attempt the delivery is due again once the claim lapses. A receiver may
 * therefore, rarely, get a delivery twice: deduplicate on `Webhook-Id`.
 */
import { createHash, randomBytes } from "node:crypto";
import { request } from "undici";
import { type RedisConnection } from "../cache";
import {
  type CertificateEvent,
  CERTIFICATE_EVENT_TYPES,
  eventTypeOf,
  type Webhook,
  type WebhookDelivery,
  type WebhookService,
} from "./types";
import { createWebhookSecret, webhookHeaders } from "./webhook-signing";
import {
  createMemoryWebhookStore,
  createRedisWebhookStore,
  type DeliveryClaim,
  type StoredDelivery,
  type WebhookStore,
} from "./webhook-store";
import {
  createWebhookAgent,
  findPrivateAddressRefusal,
  resolveWebhookTarget,
  type ResolveAll,
  type WebhookDispatcher,
} from "./webhook-target";

const SECOND_MS = 1000;
const MINUTE_MS = 60 * SECOND_MS;
const HOUR_MS = 60 * MINUTE_MS;

/** Default longest wait for one attempt (connect, answer, body), in ms. */
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 10_000;
/** Default time after which a delivery that never succeeded is given up (`failed`), in ms. */
export const DEFAULT_WEBHOOK_MAX_AGE_MS = 24 * HOUR_MS;
/**
 * Default pauses after the 1st, 2nd, ... failed attempt, in ms; the last repeats. With the
 * default max age the attempts are at 0, 30 s, 2.5 min, 12.5 min, 42.5 min, 1.7 h, 3.7 h, 7.7 h,
 * 15.7 h, 23.7 h and a last one at 24 h (`webhookRetrySchedule`).
 */
export const DEFAULT_WEBHOOK_RETRY_DELAYS_MS: readonly number[] = Object.freeze([
  30 * SECOND_MS,
  2 * MINUTE_MS,
  10 * MINUTE_MS,
  30 * MINUTE_MS,
  1 * HOUR_MS,
  2 * HOUR_MS,
  4 * HOUR_MS,
  8 * HOUR_MS,
]);
/** Default pause between two looks at the queue of due deliveries, in ms. */
export const DEFAULT_WEBHOOK_POLL_INTERVAL_MS = 1000;
/** Default most webhooks per owner (API key). */
export const DEFAULT_WEBHOOKS_PER_OWNER = 20;
/** Default settled deliveries kept per webhook (pending ones are always kept). */
export const DEFAULT_WEBHOOK_DELIVERY_HISTORY = 100;
/** Default most attempts in flight per replica. */
export const DEFAULT_WEBHOOK_CONCURRENCY = 16;
/** Added to `timeoutMs` for a claim's visibility window: time to store the outcome. */
const CLAIM_MARGIN_MS = 5000;
/** Bytes of a receiver's answer read (and dropped) before the connection is cut. */
const MAX_ANSWER_BYTES = 64 * 1024;

/** What a reported error was about (`onError`). */
export type WebhookOperation = "enqueue" | "claim" | "attempt" | "settle";

/** Options of `createWebhookService`; only `allowPrivateTargets` is required. */
export interface WebhookServiceOptions {
  /** The shared Redis (`cache.redisConnection()`); absent: an in-process store (one replica). */
  readonly redis?: RedisConnection;
  /** Allow endpoints on loopback/private/link-local addresses (`GATEWAY_WEBHOOK_ALLOW_PRIVATE`). */
  readonly allowPrivateTargets: boolean;
  /** Longest wait for one attempt, in ms (default `DEFAULT_WEBHOOK_TIMEOUT_MS`). */
  readonly timeoutMs?: number;
  /** Give up a delivery this long after it was queued, in ms (default one day). */
  readonly maxAgeMs?: number;
  /** Pauses between attempts, in ms, the last repeating (default `DEFAULT_WEBHOOK_RETRY_DELAYS_MS`). */
  readonly retryDelaysMs?: readonly number[];
  /** Pause between two looks at the queue, in ms (default 1000). */
  readonly pollIntervalMs?: number;
  /** Most webhooks per owner (default 20). */
  readonly maxPerOwner?: number;
  /** Settled deliveries kept per webhook (default 100). */
  readonly deliveryHistory?: number;
  /** Most attempts in flight in this replica (default 16). */
  readonly concurrency?: number;
  /** The clock of queueing, retries and signatures, epoch ms (default `Date.now`). */
  readonly now?: () => number;
  /**
   * Sends deliveries instead of the guarded agent (`createWebhookAgent`); tests only, since it
   * bypasses the connect-time private-address check.
   */
  readonly dispatcher?: WebhookDispatcher;
  /** Resolves hosts at registration (default `dns.lookup`); tests only. */
  readonly resolve?: ResolveAll;
  /** Redis: the key prefix (default `gw:v1:wh`); tests use their own. */
  readonly keyPrefix?: string;
  /** Redis: longest wait for one store call, in ms (default 1000). */
  readonly storeTimeoutMs?: number;
  /** Told about failures that did not reach a caller (worker, store). Must not throw. */
  readonly onError?: (error: Error, operation: WebhookOperation) => void;
  /** Told about every attempt's recorded outcome (logs, metrics). Must not throw. */
  readonly onAttempt?: (delivery: WebhookDelivery) => void;
}

/** The service with a hook to run the worker once (tests, and a final drain). */
export interface ManagedWebhookService extends WebhookService {
  /**
   * Attempts every delivery due now (by the service's clock) and waits for the attempts; returns
   * how many were attempted. Works whether or not the worker runs. Never rejects: store failures
   * go to `onError`.
   */
  deliverDue(): Promise<number>;
}

/** `owner` has `maxPerOwner` webhooks already. */
export class WebhookLimitError extends Error {
  readonly code = "WEBHOOK_LIMIT";

  constructor(readonly limit: number) {
    super(`At most ${limit} webhooks may be registered per API key; delete one first.`);
    this.name = "WebhookLimitError";
  }
}

/** The JSON body of a delivery (the same on every attempt of it). */
export interface WebhookPayload {
  /** The delivery's id, also in `Webhook-Id`. */
  readonly id: string;
  /** The event's subclass (`REQUEST_SUCCESSFUL`, ..., `EXPIRING`). */
  readonly type: string;
  readonly event: {
    readonly id: string;
    readonly class: string;
    readonly subclass: string;
    readonly certificateId: string | null;
    readonly orderId: string | null;
    readonly date: string;
    readonly info: string;
    readonly data: Readonly<Record<string, string>>;
  };
  /** When the delivery was queued, ISO 8601. */
  readonly createdAt: string;
}

/** Retry timing, in ms. */
export interface WebhookRetryPolicy {
  readonly retryDelaysMs: readonly number[];
  readonly maxAgeMs: number;
}

/**
 * When to make the next attempt after `attempts` failed ones, the last at `lastAttemptAt`, of a
 * delivery queued at `createdAt` (epoch ms): the pause for that attempt number (the last pause
 * repeats), moved back to `createdAt + maxAgeMs` if it would fall after it, so one last attempt
 * is made at the deadline. `null` when the deadline has passed: give up.
 */
export function nextWebhookAttemptAt(
  policy: WebhookRetryPolicy,
  createdAt: number,
  attempts: number,
  lastAttemptAt: number,
): number | null {
  const deadline = createdAt + policy.maxAgeMs;
  if (lastAttemptAt >= deadline || policy.retryDelaysMs.length === 0) {
    return null;
  }
  const index = Math.min(Math.max(attempts, 1), policy.retryDelaysMs.length) - 1;
  return Math.min(lastAttemptAt + (policy.retryDelaysMs[index] ?? 0), deadline);
}

/** The offsets from queueing (ms) of every attempt of a delivery that always fails instantly. */
export function webhookRetrySchedule(policy: WebhookRetryPolicy): number[] {
  const offsets = [0];
  for (;;) {
    const next = nextWebhookAttemptAt(policy, 0, offsets.length, offsets[offsets.length - 1]!);
    if (next === null) {
      return offsets;
    }
    offsets.push(next);
  }
}

/** The delivery id of `event` for `webhookId`: stable, so queueing an event twice is harmless. */
export function webhookDeliveryId(webhookId: string, event: CertificateEvent): string {
  const digest = createHash("sha256")
    .update(`${webhookId}\n${event.account}\n${event.id}`)
    .digest("hex");
  return `whd_${digest.slice(0, 32)}`;
}

/** The body sent for `event` (no account login: the partner knows whose key it registered). */
export function webhookPayload(
  deliveryId: string,
  event: CertificateEvent,
  createdAt: string,
): WebhookPayload {
  return {
    id: deliveryId,
    type: event.subclass,
    event: {
      id: event.id,
      class: event.eventClass,
      subclass: event.subclass,
      certificateId: event.certificateId,
      orderId: event.orderId,
      date: event.date,
      info: event.info,
      data: event.data,
    },
    createdAt,
  };
}

/**
 * Builds the service on Redis (`options.redis`) or in memory. Does not start the worker
 * (`start()`). Throws `RangeError` for nonsensical options.
 *
 * - `create` throws `WebhookUrlError` (what to fix in the URL), `WebhookLimitError`,
 *   `WebhookStoreError` (the store failed: nothing was registered), or `RangeError` for an event
 *   type outside `CERTIFICATE_EVENT_TYPES` (a bug: the schema's enum prevents it).
 * - `list`, `delete`, `deliveries` throw `WebhookStoreError` when the store fails.
 * - `enqueue` throws `WebhookStoreError` when the store fails, after queueing what it could: the
 *   event pipeline should release the event and process it again. Queueing is idempotent per
 *   (webhook, event) (the delivery id is derived from both), so a second `enqueue` of the same
 *   event adds only the deliveries the first one missed.
 */
export function createWebhookService(options: WebhookServiceOptions): ManagedWebhookService {
  const timeoutMs = options.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS;
  const policy: WebhookRetryPolicy = {
    retryDelaysMs: options.retryDelaysMs ?? DEFAULT_WEBHOOK_RETRY_DELAYS_MS,
    maxAgeMs: options.maxAgeMs ?? DEFAULT_WEBHOOK_MAX_AGE_MS,
  };
  const pollIntervalMs = options.pollIntervalMs ?? DEFAULT_WEBHOOK_POLL_INTERVAL_MS;
  const maxPerOwner = options.maxPerOwner ?? DEFAULT_WEBHOOKS_PER_OWNER;
  const history = options.deliveryHistory ?? DEFAULT_WEBHOOK_DELIVERY_HISTORY;
  const concurrency = options.concurrency ?? DEFAULT_WEBHOOK_CONCURRENCY;
  const now = options.now ?? Date.now;
  const positive = { timeoutMs, pollIntervalMs, maxPerOwner, history, concurrency };
  for (const [name, value] of Object.entries({ ...positive, maxAgeMs: policy.maxAgeMs })) {
    if (!(Number.isFinite(value) && value > 0)) {
      throw new RangeError(`webhooks: ${name} must be a positive number`);
    }
  }
  if (policy.retryDelaysMs.length === 0 || policy.retryDelaysMs.some(delay => !(delay > 0))) {
    throw new RangeError("webhooks: retryDelaysMs must be a non-empty list of positive numbers");
  }

  const store: WebhookStore = options.redis
    ? createRedisWebhookStore(options.redis, {
        history,
        ...(options.keyPrefix === undefined ? {} : { keyPrefix: options.keyPrefix }),
        ...(options.storeTimeoutMs === undefined ? {} : { timeoutMs: options.storeTimeoutMs }),
      })
    : createMemoryWebhookStore({ history });

  const report = (error: unknown, operation: WebhookOperation): void => {
    try {
      options.onError?.(error instanceof Error ? error : new Error(String(error)), operation);
    } catch {
      // A failing reporter must not stop deliveries.
    }
  };

  let agent: ReturnType<typeof createWebhookAgent> | undefined;
  const dispatcher = (): WebhookDispatcher =>
    options.dispatcher ??
    (agent ??= createWebhookAgent({
      allowPrivate: options.allowPrivateTargets,
      connectTimeoutMs: timeoutMs,
    }));

  /** Attempts under way, with the controller that aborts them on a forced stop. */
  const inFlight = new Map<Promise<void>, AbortController>();
  let running = false;
  let timer: NodeJS.Timeout | undefined;

  async function send(
    hook: { url: string; secret: string },
    delivery: StoredDelivery,
    signal: AbortSignal,
  ) {
    const timestampSeconds = Math.floor(now() / 1000);
    const response = await request(hook.url, {
      method: "POST",
      dispatcher: dispatcher(),
      headers: webhookHeaders(hook.secret, delivery.id, timestampSeconds, delivery.body),
      body: delivery.body,
      signal,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    try {
      await response.body.dump({ limit: MAX_ANSWER_BYTES });
    } catch {
      // The answer's body does not matter; the status was read.
    }
    return response.statusCode;
  }

  async function attempt(claim: DeliveryClaim, controller: AbortController): Promise<void> {
    let delivery: StoredDelivery | undefined;
    let hook: Awaited<ReturnType<WebhookStore["get"]>>;
    try {
      [delivery, hook] = await Promise.all([
        store.delivery(claim.webhookId, claim.deliveryId),
        store.get(claim.webhookId),
      ]);
    } catch (error) {
      report(error, "attempt"); // the claim lapses and the delivery is due again
      return;
    }
    if (delivery?.state !== "pending" || hook === undefined) {
      await store.drop(claim).catch(error => report(error, "settle"));
      return;
    }

    const startedAt = now();
    let status: number | null = null;
    let error: string | null = null;
    let refused = false;
    const timeout = setTimeout(
      () => controller.abort(new AttemptTimeoutError(timeoutMs)),
      timeoutMs,
    );
    timeout.unref();
    try {
      status = await send(
        { url: hook.webhook.url, secret: hook.secret },
        delivery,
        controller.signal,
      );
    } catch (caught) {
      if (controller.signal.reason instanceof StopAbortError) {
        return; // stopping: leave the claim to lapse, another replica (or restart) retries
      }
      const refusal = findPrivateAddressRefusal(caught);
      refused = refusal !== undefined;
      error = refusal ? `refused: ${refusal.message}` : describeFailure(caught, controller.signal);
    } finally {
      clearTimeout(timeout);
    }

    const ok = status !== null && status >= 200 && status < 300;
    const attempts = delivery.attempts + 1;
    const next =
      ok || refused
        ? null
        : nextWebhookAttemptAt(policy, Date.parse(delivery.createdAt), attempts, startedAt);
    const settled: StoredDelivery = {
      ...delivery,
      state: ok ? "delivered" : next === null ? "failed" : "pending",
      attempts,
      lastStatus: status,
      lastError: error,
      lastAttemptAt: new Date(startedAt).toISOString(),
      nextAttemptAt: next === null ? null : new Date(next).toISOString(),
    };
    try {
      if (await store.settle(claim, settled, next)) {
        notify(settled);
      }
    } catch (caught) {
      report(caught, "settle"); // the claim lapses: the delivery is attempted again
    }
  }

  const notify = (delivery: StoredDelivery): void => {
    try {
      options.onAttempt?.(toDelivery(delivery));
    } catch {
      // Observers must not break deliveries.
    }
  };

  /** Claims up to the free slots and starts the attempts; resolves with how many it started. */
  async function claimAndStart(): Promise<{ started: Promise<void>[]; full: boolean }> {
    const free = concurrency - inFlight.size;
    if (free <= 0) {
      return { started: [], full: true };
    }
    const at = now();
    // A fraction makes the claim's token (its score) unique even for claims in the same ms.
    const visibleUntil = at + timeoutMs + CLAIM_MARGIN_MS + Math.floor(Math.random() * 1024) / 1024;
    let claims: DeliveryClaim[];
    try {
      claims = await store.claimDue(at, visibleUntil, free);
    } catch (error) {
      report(error, "claim");
      return { started: [], full: false };
    }
    const started = claims.map(claim => {
      const controller = new AbortController();
      const task = attempt(claim, controller).catch(error => report(error, "attempt"));
      inFlight.set(task, controller);
      void task.finally(() => inFlight.delete(task));
      return task;
    });
    return { started, full: claims.length === free };
  }

  async function tick(): Promise<void> {
    timer = undefined;
    let again = false;
    try {
      again = (await claimAndStart()).full && inFlight.size < concurrency;
    } finally {
      if (running) {
        timer = setTimeout(() => void tick(), again ? 0 : pollIntervalMs);
        timer.unref();
      }
    }
  }

  return {
    async create(owner, account, url, events) {
      const target = await resolveWebhookTarget(url, {
        allowPrivate: options.allowPrivateTargets,
        ...(options.resolve ? { resolve: options.resolve } : {}),
      });
      const wanted = [...new Set(events)];
      const unknown = wanted.filter(type => !CERTIFICATE_EVENT_TYPES.includes(type));
      if (unknown.length > 0) {
        throw new RangeError(`webhooks: unknown event types ${unknown.join(", ")}`);
      }
      const webhook: Webhook = {
        id: `wh_${randomBytes(12).toString("base64url")}`,
        owner,
        account,
        url: target.href,
        events: CERTIFICATE_EVENT_TYPES.filter(type => wanted.includes(type)),
        createdAt: new Date(now()).toISOString(),
      };
      const secret = createWebhookSecret();
      if (!(await store.insert({ webhook, secret }, maxPerOwner))) {
        throw new WebhookLimitError(maxPerOwner);
      }
      return { webhook, secret };
    },

    async list(owner) {
      return (await store.listByOwner(owner)).map(hook => hook.webhook);
    },

    delete: (owner, id) => store.remove(owner, id),

    async deliveries(owner, id, offset, limit) {
      const hook = await store.get(id);
      if (hook?.webhook.owner !== owner) {
        return null;
      }
      const page = await store.deliveries(id, Math.max(0, offset), Math.max(0, limit));
      return { items: page.items.map(toDelivery), total: page.total };
    },

    async enqueue(event) {
      const hooks = await store.listByAccount(event.account);
      const type = eventTypeOf(event);
      const wanting = hooks.filter(
        hook =>
          hook.webhook.events.length === 0 || (type !== null && hook.webhook.events.includes(type)),
      );
      const createdAt = now();
      const results = await Promise.allSettled(
        wanting.map(hook => {
          const id = webhookDeliveryId(hook.webhook.id, event);
          const createdAtIso = new Date(createdAt).toISOString();
          return store.addDelivery(
            {
              id,
              webhookId: hook.webhook.id,
              eventId: event.id,
              eventType: event.subclass,
              state: "pending",
              attempts: 0,
              lastStatus: null,
              lastError: null,
              createdAt: createdAtIso,
              lastAttemptAt: null,
              nextAttemptAt: createdAtIso,
              body: JSON.stringify(webhookPayload(id, event, createdAtIso)),
            },
            createdAt,
          );
        }),
      );
      const failed = results.find(result => result.status === "rejected");
      if (failed) {
        report(failed.reason, "enqueue");
        throw failed.reason;
      }
    },

    start() {
      if (running) {
        return;
      }
      running = true;
      timer = setTimeout(() => void tick(), 0);
      timer.unref();
    },

    async stop() {
      running = false;
      clearTimeout(timer);
      timer = undefined;
      const pending = [...inFlight.keys()];
      if (pending.length > 0) {
        let bound: NodeJS.Timeout | undefined;
        await Promise.race([
          Promise.allSettled(pending),
          new Promise(resolve => {
            bound = setTimeout(resolve, timeoutMs + SECOND_MS);
            bound.unref();
          }),
        ]);
        clearTimeout(bound);
        for (const controller of inFlight.values()) {
          controller.abort(new StopAbortError());
        }
        await Promise.allSettled([...inFlight.keys()]);
      }
      const closing = agent;
      agent = undefined;
      await closing?.close();
    },

    async deliverDue() {
      let attempted = 0;
      for (;;) {
        const { started } = await claimAndStart();
        if (started.length === 0) {
          await Promise.allSettled([...inFlight.keys()]);
          // Attempts of the background worker may have freed slots or made more due: look again
          // only if this pass started something.
          return attempted;
        }
        attempted += started.length;
        await Promise.allSettled(started);
      }
    },
  };
}

/** The public shape of a stored delivery (without its body). */
function toDelivery(stored: StoredDelivery): WebhookDelivery {
  const { body: _body, ...delivery } = stored;
  return delivery;
}

class AttemptTimeoutError extends Error {
  constructor(timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
    this.name = "AttemptTimeoutError";
  }
}

class StopAbortError extends Error {
  constructor() {
    super("the webhook worker stopped");
    this.name = "StopAbortError";
  }
}

/** A short description of why an attempt got no answer (no URL, no secrets, no payload). */
function describeFailure(error: unknown, signal: AbortSignal): string {
  if (signal.reason instanceof AttemptTimeoutError) {
    return `timeout: ${signal.reason.message}`;
  }
  const codes: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== undefined && current !== null; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && !codes.includes(code)) {
      codes.push(code);
    }
    current = (current as { cause?: unknown }).cause;
  }
  const code = codes[0];
  if (code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT") {
    return `timeout: no answer in time (${code})`;
  }
  if (code === "UND_ERR_CONNECT_TIMEOUT") {
    return `timeout: could not connect in time (${code})`;
  }
  const message = error instanceof Error ? error.message : String(error);
  return `connection: ${message}${code === undefined ? "" : ` (${codes.join(", ")})`}`;
}
