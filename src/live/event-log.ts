/**
 * The record of processed events (`EventLog`): per account, newest first, bounded. Backs the
 * `certificateEvents` query and `Certificate.events`.
 *
 * Order: by the event's `date`, newest first; events of the same instant by `receivedAt`, then by
 * id (numeric ids as numbers), newest first. When an account holds more than `maxPerAccount`
 * events, the oldest by that order are dropped.
 *
 * Redis layout (shared by every replica):
 * - `gw:v1:events:<account tag>:index`: sorted set of event ids, scored by the event's date (ms)
 * - `gw:v1:events:<account tag>:data`: hash of event id -> the event as JSON
 *
 * Appending is one Lua script (add unless present, then drop the oldest beyond the bound), so the
 * two keys never disagree for long and an id appended twice is kept once.
 */
import { accountTag, type RedisConnection } from "../cache";
import { notify, withTimeout } from "../store-call";
import {
  type CertificateEvent,
  type EventFilter,
  type EventLog,
  type EventPage,
  eventTypeOf,
} from "./types";

/** Longest wait for one Redis call of the log, in ms. */
export const DEFAULT_EVENT_LOG_TIMEOUT_MS = 150;

/** Options of `createMemoryEventLog`. */
export interface MemoryEventLogOptions {
  /** Most events kept per account (at least 1); older ones are dropped. */
  maxPerAccount: number;
}

/** Options of `createRedisEventLog`. */
export interface RedisEventLogOptions {
  /** Most events kept per account (at least 1); older ones are dropped. */
  maxPerAccount: number;
  /** Longest wait for one Redis call, in ms (default `DEFAULT_EVENT_LOG_TIMEOUT_MS`). */
  timeoutMs?: number;
  /** Receives every failed or timed out Redis call (log it); must not throw (if it does, ignored). */
  onError?: (error: Error) => void;
}

/**
 * The in-process log of one replica (no Redis). Every method is synchronous underneath; `list`
 * returns copies of nothing (events are read-only values). Throws `RangeError` for a
 * `maxPerAccount` below 1.
 */
export function createMemoryEventLog(options: MemoryEventLogOptions): EventLog {
  const max = positiveInteger("maxPerAccount", options.maxPerAccount);
  /** Per account: events newest first, and the ids among them. */
  const accounts = new Map<string, { events: CertificateEvent[]; ids: Set<string> }>();

  return {
    append(event) {
      let entry = accounts.get(event.account);
      if (!entry) {
        entry = { events: [], ids: new Set() };
        accounts.set(event.account, entry);
      }
      if (entry.ids.has(event.id)) {
        return Promise.resolve();
      }
      const index = entry.events.findIndex(other => compareNewestFirst(event, other) < 0);
      entry.events.splice(index < 0 ? entry.events.length : index, 0, event);
      entry.ids.add(event.id);
      for (const dropped of entry.events.splice(max)) {
        entry.ids.delete(dropped.id);
      }
      return Promise.resolve();
    },
    list(account, filter, offset, limit) {
      const events = accounts.get(account)?.events ?? [];
      return Promise.resolve(pageOf(events, filter, offset, limit));
    },
    close() {
      accounts.clear();
      return Promise.resolve();
    },
  };
}

/**
 * Adds the event (ARGV: id, score, JSON, max) unless its id is present, then drops the oldest
 * beyond max from both keys. Returns 1 when added, 0 when the id was already there.
 */
const APPEND_SCRIPT = `
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then
  return 0
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
local extra = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[4])
if extra > 0 then
  local oldest = redis.call('ZPOPMIN', KEYS[1], extra)
  for i = 1, #oldest, 2 do
    redis.call('HDEL', KEYS[2], oldest[i])
  end
end
return 1
`;

/**
 * The log shared by every replica, in `redis` (the cache's connection). Every call runs under
 * `timeoutMs`: `append` never rejects (a failure is reported through `onError` and the event is
 * not recorded), `list` answers an empty page when the store fails. `close` does not close the
 * connection, which belongs to the cache. Throws `RangeError` for a `maxPerAccount` below 1.
 *
 * `list` reads the events of the requested date range (`since`/`until`) and filters the rest in
 * process, so a query costs up to `maxPerAccount` events: keep the bound in the thousands.
 */
export function createRedisEventLog(
  redis: RedisConnection,
  options: RedisEventLogOptions,
): EventLog {
  const max = positiveInteger("maxPerAccount", options.maxPerAccount);
  const timeoutMs = options.timeoutMs ?? DEFAULT_EVENT_LOG_TIMEOUT_MS;
  const report = (caught: unknown): void => notify(options.onError, caught);

  return {
    async append(event) {
      const keys = logKeys(event.account);
      try {
        await withTimeout(
          redis.eval(APPEND_SCRIPT, {
            keys: [keys.index, keys.data],
            arguments: [event.id, String(dateMs(event)), JSON.stringify(event), String(max)],
          }),
          timeoutMs,
          "event log append",
        );
      } catch (caught) {
        report(caught);
      }
    },
    async list(account, filter, offset, limit) {
      const keys = logKeys(account);
      try {
        const ids = await withTimeout(
          redis.zRange(
            keys.index,
            filter.until ? `(${filter.until.getTime()}` : "+inf",
            filter.since ? filter.since.getTime() : "-inf",
            { BY: "SCORE", REV: true },
          ),
          timeoutMs,
          "event log range",
        );
        if (ids.length === 0) {
          return { items: [], total: 0 };
        }
        const texts = await withTimeout(redis.hmGet(keys.data, ids), timeoutMs, "event log read");
        const events: CertificateEvent[] = [];
        for (const text of texts) {
          // An id dropped between the two calls has no data any more: skip it.
          const event = text === null ? undefined : parseEvent(text);
          if (event) {
            events.push(event);
          }
        }
        events.sort(compareNewestFirst);
        return pageOf(events, filter, offset, limit);
      } catch (caught) {
        report(caught);
        return { items: [], total: 0 };
      }
    },
    close() {
      return Promise.resolve();
    },
  };
}

/** The Redis keys of `account`'s log. */
function logKeys(account: string): { index: string; data: string } {
  const base = `gw:v1:events:${accountTag(account)}`;
  return { index: `${base}:index`, data: `${base}:data` };
}

function dateMs(event: CertificateEvent): number {
  const ms = Date.parse(event.date);
  return Number.isNaN(ms) ? 0 : ms;
}

/** Numeric ids compare as numbers (`10` after `9`), others as text. */
function compareIds(a: string, b: string): number {
  if (/^\d+$/.test(a) && /^\d+$/.test(b)) {
    return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Negative when `a` comes before `b` in the log (is newer). */
function compareNewestFirst(a: CertificateEvent, b: CertificateEvent): number {
  return (
    dateMs(b) - dateMs(a) ||
    (Date.parse(b.receivedAt) || 0) - (Date.parse(a.receivedAt) || 0) ||
    compareIds(b.id, a.id)
  );
}

function matches(event: CertificateEvent, filter: EventFilter): boolean {
  if (filter.types && filter.types.length > 0) {
    const type = eventTypeOf(event);
    if (type === null || !filter.types.includes(type)) {
      return false;
    }
  }
  if (filter.certificateId !== undefined && event.certificateId !== filter.certificateId) {
    return false;
  }
  if (filter.orderId !== undefined && event.orderId !== filter.orderId) {
    return false;
  }
  const ms = dateMs(event);
  if (filter.since && ms < filter.since.getTime()) {
    return false;
  }
  if (filter.until && ms >= filter.until.getTime()) {
    return false;
  }
  return true;
}

/** The page `offset`/`limit` of the events (newest first) matching `filter`. */
function pageOf(
  events: readonly CertificateEvent[],
  filter: EventFilter,
  offset: number,
  limit: number,
): EventPage {
  const matching = events.filter(event => matches(event, filter));
  const start = Math.max(0, Math.floor(offset));
  const count = Math.max(0, Math.floor(limit));
  return { items: matching.slice(start, start + count), total: matching.length };
}

/** The event stored as JSON, or `undefined` when the text is not one (never trust the store). */
function parseEvent(text: string): CertificateEvent | undefined {
  try {
    const value = JSON.parse(text) as Partial<CertificateEvent> | null;
    if (
      value === null ||
      typeof value !== "object" ||
      typeof value.id !== "string" ||
      typeof value.account !== "string" ||
      typeof value.date !== "string"
    ) {
      return undefined;
    }
    return value as CertificateEvent;
  } catch {
    return undefined;
  }
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`event log: ${name} must be an integer >= 1`);
  }
  return value;
}
