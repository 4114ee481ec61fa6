/**
 * Fan-out of processed events to the subscribers of every replica (`EventBus`).
 *
 * In Redis each account has a pub/sub channel `gw:v1:events:<account tag>` carrying the event as
 * JSON. Publishing uses the cache's connection; listening needs a connection of its own (one in
 * subscriber mode can send nothing else), made with `duplicate()` on the first `subscribe`. A
 * replica hears its own publications through Redis like everyone else's, so nothing is delivered
 * locally as well (that would deliver each event twice on the publishing replica).
 */
import { accountTag, type RedisConnection } from "../cache";
import { notify, withTimeout } from "../store-call";
import { type CertificateEvent, type EventBus } from "./types";

/** Default longest wait for publishing one event, and for each step of `close`, in ms. */
export const DEFAULT_EVENT_BUS_TIMEOUT_MS = 500;

/** A listener of `subscribe`. */
export type EventListener = (event: CertificateEvent) => void;

/** Options of `createMemoryEventBus`. */
export interface MemoryEventBusOptions {
  /** Receives what a listener threw (log it); must not throw (if it does, ignored). */
  onError?: (error: Error) => void;
}

/** Options of `createRedisEventBus`. */
export interface RedisEventBusOptions {
  /**
   * Receives failed publications and subscriptions, lost subscriber connections, unreadable
   * messages and what a listener threw (log them); must not throw (if it does, ignored).
   */
  onError?: (error: Error) => void;
  /** Longest wait for one publication, (un)subscription or step of `close`, in ms (default 500). */
  timeoutMs?: number;
}

/** The Redis bus: an `EventBus` that can say when its subscriptions are in place. */
export interface RedisEventBus extends EventBus {
  /**
   * Resolves once the Redis subscriptions of every listener added so far are active (or failed
   * and were reported). Events published before that are not heard. Never rejects; while Redis
   * is unreachable it waits for the connection to come back (or for `close`), so bound the wait
   * where that matters.
   */
  ready(): Promise<void>;
}

/**
 * The in-process bus of a single replica: `publish` calls the account's listeners at once, in
 * the order they subscribed. A listener that throws is reported and the others still run.
 */
export function createMemoryEventBus(options: MemoryEventBusOptions = {}): EventBus {
  const listeners = new Map<string, Set<EventListener>>();
  return {
    publish(event) {
      deliver(listeners.get(event.account), event, options.onError);
      return Promise.resolve();
    },
    subscribe(account, listener) {
      return addListener(listeners, account, listener, () => undefined);
    },
    close() {
      listeners.clear();
      return Promise.resolve();
    },
  };
}

/**
 * The bus shared by every replica through `redis` (the cache's connection, used to publish).
 * `publish` never rejects: a failure or timeout is reported and the event is not sent (it is in
 * the log all the same). The subscriber connection is made on the first `subscribe`, subscribes
 * to an account's channel while the account has listeners, and subscribes again after Redis comes
 * back (events published meanwhile are not heard). `close` unsubscribes and closes it; the
 * publishing connection belongs to the cache and stays open.
 */
export function createRedisEventBus(
  redis: RedisConnection,
  options: RedisEventBusOptions = {},
): RedisEventBus {
  const timeoutMs = options.timeoutMs ?? DEFAULT_EVENT_BUS_TIMEOUT_MS;
  const report = (caught: unknown): void => notify(options.onError, caught);
  const listeners = new Map<string, Set<EventListener>>();
  /** Channel -> account, for the accounts that have listeners. */
  const wanted = new Map<string, string>();
  /** Channels the subscriber connection is subscribed to (as far as this bus knows). */
  const active = new Set<string>();
  let subscriber: RedisConnection | undefined;
  let connected: Promise<boolean> | undefined;
  /** The subscription changes, one after the other. */
  let queue: Promise<void> = Promise.resolve();
  let closed = false;

  const onMessage = (message: string, channel: string): void => {
    const account = wanted.get(channel);
    if (account === undefined) {
      return;
    }
    let event: CertificateEvent;
    try {
      event = JSON.parse(message) as CertificateEvent;
    } catch (caught) {
      report(caught);
      return;
    }
    // Two logins with the same tag would share a channel: deliver only the account's own events.
    if (event?.account === account) {
      deliver(listeners.get(account), event, options.onError);
    }
  };

  const connection = (): { client: RedisConnection; connected: Promise<boolean> } => {
    if (!subscriber || !connected) {
      const client = redis.duplicate();
      client.on("error", (caught: unknown) => report(caught));
      // After a reconnection, subscribe again to whatever a failed SUBSCRIBE left out (the
      // client restores the ones that had succeeded; subscribing to those again is a no-op).
      client.on("ready", () => {
        if (!closed) {
          active.clear();
          void schedule();
        }
      });
      subscriber = client;
      connected = client.connect().then(
        () => true,
        (caught: unknown) => {
          if (!closed) {
            report(caught);
          }
          return false;
        },
      );
    }
    return { client: subscriber, connected };
  };

  /** Makes the subscriptions match `wanted`. */
  const sync = async (): Promise<void> => {
    if (closed) {
      return;
    }
    const { client, connected: isConnected } = connection();
    if (!(await isConnected) || closed) {
      return;
    }
    for (const channel of wanted.keys()) {
      if (!active.has(channel)) {
        try {
          await withTimeout(client.subscribe(channel, onMessage), timeoutMs, "event subscribe");
          active.add(channel);
        } catch (caught) {
          report(caught);
        }
      }
    }
    for (const channel of [...active]) {
      if (!wanted.has(channel)) {
        try {
          await withTimeout(client.unsubscribe(channel, onMessage), timeoutMs, "event unsubscribe");
          active.delete(channel);
        } catch (caught) {
          report(caught);
        }
      }
    }
  };

  const schedule = (): Promise<void> => {
    queue = queue.then(sync).catch(report);
    return queue;
  };

  return {
    async publish(event) {
      if (closed) {
        return;
      }
      try {
        await withTimeout(
          redis.publish(channelOf(event.account), JSON.stringify(event)),
          timeoutMs,
          "event publish",
        );
      } catch (caught) {
        report(caught);
      }
    },
    subscribe(account, listener) {
      if (closed) {
        return () => undefined;
      }
      const channel = channelOf(account);
      const unsubscribe = addListener(listeners, account, listener, () => {
        wanted.delete(channel);
        void schedule();
      });
      if (!wanted.has(channel)) {
        wanted.set(channel, account);
        void schedule();
      }
      return unsubscribe;
    },
    async ready() {
      await queue;
    },
    async close() {
      if (closed) {
        return;
      }
      closed = true;
      listeners.clear();
      wanted.clear();
      const client = subscriber;
      subscriber = undefined;
      if (!client) {
        return;
      }
      try {
        if (client.isReady && active.size > 0) {
          await withTimeout(client.unsubscribe(), timeoutMs, "event bus unsubscribe");
        }
        await withTimeout(client.close(), timeoutMs, "event bus close");
      } catch {
        // Not connected, or too slow: drop the connection.
        try {
          client.destroy();
        } catch {
          // Already closed.
        }
      }
      active.clear();
    },
  };
}

/** The pub/sub channel of `account`'s events. */
export function channelOf(account: string): string {
  return `gw:v1:events:${accountTag(account)}`;
}

/**
 * Adds `listener` to `account`'s set; the returned function removes it (once) and calls
 * `onEmpty` when the account has no listener left.
 */
function addListener(
  listeners: Map<string, Set<EventListener>>,
  account: string,
  listener: EventListener,
  onEmpty: () => void,
): () => void {
  // A wrapper per subscription, so the same function subscribed twice is two subscriptions.
  const entry: EventListener = event => listener(event);
  let set = listeners.get(account);
  if (!set) {
    set = new Set();
    listeners.set(account, set);
  }
  set.add(entry);
  let subscribed = true;
  return () => {
    if (!subscribed) {
      return;
    }
    subscribed = false;
    const current = listeners.get(account);
    if (current?.delete(entry) && current.size === 0) {
      listeners.delete(account);
      onEmpty();
    }
  };
}

/** Calls each listener with `event`; one that throws is reported and does not stop the others. */
function deliver(
  set: Set<EventListener> | undefined,
  event: CertificateEvent,
  onError: ((error: Error) => void) | undefined,
): void {
  for (const listener of [...(set ?? [])]) {
    try {
      listener(event);
    } catch (caught) {
      notify(onError, caught);
    }
  }
}
