/**
 * The gateway's shared store (`CACHE_URL`): upstream records keyed by upstream account, with a
 * TTL per value from `cache-policy.ts`. `memory` is an in-process LRU bounded in entries and
 * bytes, `redis://`/`rediss://` is one Redis shared by every replica, `off` stores nothing.
 *
 * The cache never fails a query: every store call runs under a short timeout, and an error or a
 * timeout is a miss, reported through `onEvent` and counted in `stats()`. Long-lived: one per
 * process, built by the composition root and closed on shutdown.
 *
 * Key layout (Redis and memory alike; `v1` changes when the stored format does):
 * - records: `gw:v1:<namespace>:<account tag>:<id>`
 * - lists: `gw:v1:<namespace>:<account tag>:<list generation>:<query key>`
 * - list generation: `gw:v1:listgen:<account tag>` (a random token; replaced on every mutation)
 * - persisted queries: `gw:v1:apq:<Apollo's key>`
 * - whole responses (Apollo's response cache): `gw:v1:resp:<its key>`
 *
 * The account tag is the first 16 hex digits of sha256(login), so no login appears in clear in
 * the store (`accountTag`). It hides the login from a casual `KEYS`, not from someone who can
 * guess logins: whoever can read the store can read the cached records anyway. Ids longer than
 * 200 characters are replaced by `#` and their sha256.
 */
import { createHash, randomBytes } from "node:crypto";
import KeyvRedis, { createClient } from "@keyv/redis";
import { type DeserializedData, Keyv, type KeyvStoreAdapter, type StoredData } from "keyv";
import { LRUCache } from "lru-cache";
import {
  CACHE_NAMESPACES,
  CACHE_TTL_MS,
  type CacheNamespace,
  LIST_NAMESPACES,
  ttlFor,
} from "./cache-policy";
import { type Config } from "./config";

export { type CacheNamespace } from "./cache-policy";

/** Longest wait for one store call before it counts as a miss (and an error), in ms. */
export const DEFAULT_CACHE_TIMEOUT_MS = 150;
/** Most entries of the `memory` store. */
export const DEFAULT_CACHE_MAX_ENTRIES = 10_000;
/** Most bytes of the `memory` store (keys and serialised values, UTF-16: 2 bytes a character). */
export const DEFAULT_CACHE_MAX_BYTES = 64 * 1024 * 1024;

const KEY_PREFIX = "gw:v1";
/** Persisted queries Apollo stores without a TTL would live for ever in Redis: cap them. */
const APQ_DEFAULT_TTL_MS = 24 * 60 * 60 * 1000;
/** Bookkeeping bytes per entry of the memory store, added to the key's and value's size. */
const ENTRY_OVERHEAD_BYTES = 64;
const MAX_ID_LENGTH = 200;
const CLOSE_TIMEOUT_MS = 1000;

/** Counters of one namespace (or of all, in `CacheStats.total`). Since `createCache`. */
export interface CacheCounters {
  /** Ids served from the store. */
  hits: number;
  /** Ids looked up and not found (or expired, or the lookup failed), so loaded. */
  misses: number;
  /** Store calls that failed or timed out (one per call, however many ids it was for). */
  errors: number;
  /** Values written to the store. */
  sets: number;
  /** Ids invalidated; `invalidateLists` counts one for each list namespace. */
  invalidations: number;
}

/**
 * What `stats()` reports under `byNamespace`: the record namespaces, Apollo's `apq` and the
 * whole-response cache (`response`).
 */
export type CacheStatsNamespace = CacheNamespace | "apq" | "response";

/** A snapshot of the counters. */
export interface CacheStats {
  readonly kind: Config["cache"]["kind"];
  readonly total: Readonly<CacheCounters>;
  readonly byNamespace: Readonly<Record<CacheStatsNamespace, Readonly<CacheCounters>>>;
  /** Failed (re)connection attempts of the Redis client; 0 for `memory` and `off`. */
  readonly connectionErrors: number;
}

/** The store calls an error event can be about. */
export type CacheOperation = "get" | "set" | "delete" | "generation" | "ping" | "close";

/**
 * What the cache reports through `onEvent`, for logs and metrics. `error` is one failed or timed
 * out store call (the query went on as if it had missed): during an outage that is one per
 * request, so aggregate or rate-limit before logging. `connection` is a change of the Redis
 * client's state, reported once per change, not for every reconnection attempt.
 */
export type CacheEvent =
  | {
      readonly type: "error";
      readonly operation: CacheOperation;
      readonly namespace: CacheStatsNamespace | undefined;
      readonly timedOut: boolean;
      readonly error: Error;
    }
  | { readonly type: "connection"; readonly state: "ready" | "down"; readonly error?: Error };

/**
 * The commands of the Redis client that other stores (idempotency keys, rate limits) need for
 * atomic claims. It is the cache's own connection: no timeout is applied to these calls, so wrap
 * them; while Redis is unreachable they fail at once (the offline queue is disabled).
 */
export interface RedisLikeClient {
  /** `SET key value [NX|XX] [PX ms]`: `{ condition: "NX", expiration: { type: "PX", value } }`. */
  set(
    key: string,
    value: string,
    options?: {
      condition?: "NX" | "XX";
      expiration?: { type: "PX" | "EX"; value: number };
    },
  ): Promise<string | null>;
  get(key: string): Promise<string | null>;
  del(keys: string | string[]): Promise<number>;
  incr(key: string): Promise<number>;
  pExpire(key: string, milliseconds: number): Promise<number>;
  eval(script: string, options?: { keys?: string[]; arguments?: string[] }): Promise<unknown>;
}

/** Tuning and hooks of `createCache`; every field is optional. */
export interface CacheOptions {
  /** Receives errors and connection changes (log them); must not throw (if it does, ignored). */
  onEvent?: (event: CacheEvent) => void;
  /** Longest wait for one store call, in ms (default `DEFAULT_CACHE_TIMEOUT_MS`). */
  timeoutMs?: number;
  /** `memory`: most entries (default `DEFAULT_CACHE_MAX_ENTRIES`). */
  maxEntries?: number;
  /** `memory`: most bytes of keys and values (default `DEFAULT_CACHE_MAX_BYTES`). */
  maxBytes?: number;
  /** The clock TTLs are measured with, epoch ms (default `Date.now`); tests move it forward. */
  now?: () => number;
  /** `memory`: a Keyv store to use instead of the LRU (tests: a store that fails or hangs). */
  store?: KeyvStoreAdapter;
}

/** The shared store. One per process; every method is safe to call concurrently. */
export interface GatewayCache {
  readonly kind: Config["cache"]["kind"];
  /**
   * The values of `ids` (for a list namespace: query keys) of `account`, from the store where
   * present and fresh; `load` is called once with all the others (never with an empty array)
   * and its values are stored with the TTL `ttlFor` gives them. Ids that another call in this
   * process is already looking up or loading are not loaded again: that call's result is shared.
   *
   * Returns id -> value for the ids found; an id `load` leaves out (or maps to `null`/`undefined`)
   * is absent and is not stored. Values must survive JSON (`Date`s are revived); values served
   * from the store are fresh copies, loaded ones are returned as `load` gave them.
   * Rejects only when `load` rejects (then with its error); with `off` it only calls `load`.
   */
  readThrough<T>(
    namespace: CacheNamespace,
    account: string,
    ids: readonly string[],
    load: (missing: string[]) => Promise<ReadonlyMap<string, T>>,
  ): Promise<Map<string, T>>;
  /**
   * Removes `ids` of `account` from the store, and makes loads of them already under way in this
   * process not store their (possibly older) result. Call it after a mutation succeeded and
   * before answering. Never rejects: a store failure is reported and counted.
   */
  invalidate(namespace: CacheNamespace, account: string, ids: readonly string[]): Promise<void>;
  /**
   * Drops every cached list page of `account` on every replica at once, by replacing the
   * account's list generation (part of every list key). Call it after any mutation of the
   * account. Never rejects.
   */
  invalidateLists(account: string): Promise<void>;
  /** A snapshot of the counters. */
  stats(): CacheStats;
  /**
   * The Keyv Apollo's persisted queries use (wrap it in `@apollo/utils.keyvadapter`'s
   * `KeyvAdapter`): same store, keys under `gw:v1:apq:`, same timeouts; a failing store is a miss
   * and a lost write, never an error. `undefined` when the cache is off.
   */
  keyv(): Keyv | undefined;
  /**
   * The Keyv of whole cached responses (Apollo's response cache plugin, through `KeyvAdapter`):
   * same store, keys under `gw:v1:resp:`, same timeouts and failure rules as `keyv()`.
   * `undefined` when the cache is off.
   */
  responseKeyv(): Keyv | undefined;
  /**
   * The account's list generation (created when there is none): it changes with every mutation
   * of the account and every upstream event processed for it, on every replica, so a key that
   * contains it is never served after such a change. `undefined` when the store failed or the
   * cache is off: then nothing keyed by it may be read or written.
   */
  listGeneration(account: string): Promise<string | undefined>;
  /** The Redis client for atomic claims (see `RedisLikeClient`); `undefined` unless `redis`. */
  redis(): RedisLikeClient | undefined;
  /**
   * The same connection with the whole node-redis API (sorted sets, hashes, `duplicate()` for a
   * pub/sub subscriber), for the live-status stores; `undefined` unless `redis`. Same rules as
   * `redis()`: no timeout is applied, commands fail at once while Redis is unreachable.
   */
  redisConnection(): RedisConnection | undefined;
  /**
   * True when the store answers within the timeout (`memory` and `off`: always). For /readyz;
   * queries work without the store, so a false need not make the gateway unready.
   */
  ping(): Promise<boolean>;
  /**
   * Closes the Redis connection (waits at most about a second); idempotent. Afterwards every
   * Redis call is a miss without touching the network (reads still load); `memory` and `off`
   * keep working.
   */
  close(): Promise<void>;
}

/**
 * The part of store keys that stands for an upstream account: the first 16 hex digits of the
 * sha256 of the login. For other stores sharing the Redis (idempotency keys, rate limits).
 */
export function accountTag(account: string): string {
  let tag = accountTags.get(account);
  if (tag === undefined) {
    tag = createHash("sha256").update(account).digest("hex").slice(0, 16);
    if (accountTags.size >= ACCOUNT_TAGS_KEPT) {
      accountTags.clear();
    }
    accountTags.set(account, tag);
  }
  return tag;
}

/** Tags computed lately (every cache call needs one; hashing each time showed in profiles). */
const accountTags = new Map<string, string>();
const ACCOUNT_TAGS_KEPT = 1_000;

/**
 * Builds the store `config` asks for. Does not wait for Redis: the client connects (and
 * reconnects) in the background, and until it is ready every read is a miss. Never throws for
 * an unreachable Redis; throws only for an invalid URL.
 */
export function createCache(config: Config["cache"], options: CacheOptions = {}): GatewayCache {
  const context: Context = {
    onEvent: options.onEvent ?? (() => undefined),
    timeoutMs: options.timeoutMs ?? DEFAULT_CACHE_TIMEOUT_MS,
    now: options.now ?? Date.now,
    counters: emptyCounters(),
    connectionErrors: 0,
  };
  switch (config.kind) {
    case "off":
      return new OffCache(context);
    case "memory": {
      const store =
        options.store ??
        new LruStore(
          options.maxEntries ?? DEFAULT_CACHE_MAX_ENTRIES,
          options.maxBytes ?? DEFAULT_CACHE_MAX_BYTES,
        );
      return new StoreCache("memory", context, store, undefined);
    }
    case "redis": {
      const client = createRedisClient(config.url, context);
      const store = new KeyvRedis(client, { throwOnErrors: true, throwOnConnectError: true });
      return new StoreCache("redis", context, store, client);
    }
  }
}

interface Context {
  readonly onEvent: (event: CacheEvent) => void;
  readonly timeoutMs: number;
  readonly now: () => number;
  readonly counters: Record<CacheStatsNamespace, CacheCounters>;
  connectionErrors: number;
}

type RedisClient = ReturnType<typeof createRedisClient>;
/** The full node-redis client of a `redis` cache (see `GatewayCache.redisConnection`). */
export type RedisConnection = RedisClient;

type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false };

/** What a lookup in flight resolves to; shared by every caller that joined it. */
type Slot = { readonly found: true; readonly value: unknown } | { readonly found: false };

interface Flight {
  readonly namespace: CacheNamespace;
  readonly tag: string;
  readonly promise: Promise<Slot>;
  /** Set by an invalidation while the flight runs: its result must not be stored. */
  stale: boolean;
}

interface OwnFlight {
  readonly id: string;
  readonly flightKey: string;
  readonly flight: Flight;
  readonly settle: (slot: Slot) => void;
  readonly fail: (error: unknown) => void;
}

/** A value as stored: `v` the value, `x` when it expires by the cache's clock (epoch ms). */
interface Envelope {
  readonly v: unknown;
  readonly x: number;
}

class CacheTimeoutError extends Error {
  constructor(operation: CacheOperation, timeoutMs: number) {
    super(`cache ${operation} timed out after ${timeoutMs} ms`);
    this.name = "CacheTimeoutError";
  }
}

const isList = (namespace: CacheNamespace): boolean => LIST_NAMESPACES.includes(namespace);

class StoreCache implements GatewayCache {
  private readonly data: Keyv;
  private readonly apq: Keyv;
  private readonly responses: Keyv;
  private readonly inflight = new Map<string, Flight>();
  /** Generations being created, by account tag (see `generation`). */
  private readonly creatingGeneration = new Map<string, Promise<string | undefined>>();
  private closed = false;

  constructor(
    readonly kind: "memory" | "redis",
    private readonly context: Context,
    store: KeyvStoreAdapter,
    private readonly client: RedisClient | undefined,
  ) {
    // No Keyv namespace (it would also rename the Redis adapter's keys): keys are built here.
    this.data = new Keyv({
      store,
      namespace: undefined,
      useKeyPrefix: false,
      serialize: serializeJson,
      deserialize: deserializeJson,
      throwOnErrors: true,
    });
    this.apq = new Keyv({
      store: new GuardedStore(store, `${KEY_PREFIX}:apq:`, (operation, task) =>
        this.guard(operation, "apq", task),
      ),
      namespace: undefined,
      useKeyPrefix: false,
    });
    const responseCounters = context.counters.response;
    this.responses = new Keyv({
      store: new GuardedStore(
        store,
        `${KEY_PREFIX}:resp:`,
        (operation, task) => this.guard(operation, "response", task),
        {
          get: hit => {
            responseCounters[hit ? "hits" : "misses"] += 1;
          },
          set: () => {
            responseCounters.sets += 1;
          },
        },
      ),
      namespace: undefined,
      useKeyPrefix: false,
    });
  }

  async readThrough<T>(
    namespace: CacheNamespace,
    account: string,
    ids: readonly string[],
    load: (missing: string[]) => Promise<ReadonlyMap<string, T>>,
  ): Promise<Map<string, T>> {
    const tag = accountTag(account);
    const unique = [...new Set(ids)];
    const waits: Promise<Slot>[] = [];
    const own: OwnFlight[] = [];
    for (const id of unique) {
      const flightKey = recordKey(namespace, tag, id);
      const joined = this.inflight.get(flightKey);
      if (joined) {
        waits.push(joined.promise);
        continue;
      }
      const started = startFlight(namespace, tag, id, flightKey);
      this.inflight.set(flightKey, started.flight);
      own.push(started);
      waits.push(started.flight.promise);
    }
    if (own.length > 0) {
      await this.fill(namespace, tag, own, load);
    }
    const slots = await Promise.all(waits);
    const result = new Map<string, T>();
    slots.forEach((slot, index) => {
      if (slot.found) {
        result.set(unique[index]!, slot.value as T);
      }
    });
    return result;
  }

  async invalidate(
    namespace: CacheNamespace,
    account: string,
    ids: readonly string[],
  ): Promise<void> {
    const tag = accountTag(account);
    const unique = [...new Set(ids)];
    for (const id of unique) {
      const flightKey = recordKey(namespace, tag, id);
      const flight = this.inflight.get(flightKey);
      if (flight) {
        flight.stale = true;
        this.inflight.delete(flightKey);
      }
    }
    this.context.counters[namespace].invalidations += unique.length;
    let generation: string | undefined;
    if (isList(namespace)) {
      generation = await this.generation(namespace, tag, false);
      if (generation === undefined) {
        return; // nothing is reachable without a generation
      }
    }
    const keys = unique.map(id => dataKey(namespace, tag, id, generation));
    await this.guard("delete", namespace, () => this.data.deleteMany(keys));
  }

  async invalidateLists(account: string): Promise<void> {
    const tag = accountTag(account);
    for (const [flightKey, flight] of this.inflight) {
      if (flight.tag === tag && isList(flight.namespace)) {
        flight.stale = true;
        this.inflight.delete(flightKey);
      }
    }
    for (const namespace of LIST_NAMESPACES) {
      this.context.counters[namespace].invalidations += 1;
    }
    // A fresh random token, not a counter: concurrent bumps on two replicas cannot collide.
    // A failure is counted under certificateList (the generation belongs to all three lists).
    await this.guard("generation", "certificateList", () =>
      this.data.set(generationKey(tag), newGeneration(), CACHE_TTL_MS.listGeneration),
    );
  }

  stats(): CacheStats {
    return snapshot(this.kind, this.context);
  }

  keyv(): Keyv {
    return this.apq;
  }

  responseKeyv(): Keyv {
    return this.responses;
  }

  listGeneration(account: string): Promise<string | undefined> {
    return this.generation("certificateList", accountTag(account), true);
  }

  redis(): RedisLikeClient | undefined {
    return this.client;
  }

  redisConnection(): RedisConnection | undefined {
    return this.client;
  }

  async ping(): Promise<boolean> {
    const client = this.client;
    if (!client) {
      return true;
    }
    const outcome = await this.guard("ping", undefined, () => client.ping());
    return outcome.ok && outcome.value === "PONG";
  }

  async close(): Promise<void> {
    if (this.closed) {
      return;
    }
    this.closed = true;
    const client = this.client;
    if (!client?.isOpen) {
      return;
    }
    // Graceful first (pending writes finish), then cut: a hung Redis must not hold up shutdown.
    const timer = { id: undefined as NodeJS.Timeout | undefined };
    const graceful = await Promise.race([
      client.close().then(
        () => true,
        () => false,
      ),
      new Promise<boolean>(resolve => {
        timer.id = setTimeout(() => resolve(false), CLOSE_TIMEOUT_MS);
      }),
    ]);
    clearTimeout(timer.id);
    if (!graceful && client.isOpen) {
      client.destroy();
    }
  }

  /** Looks up the flights this call owns, loads the missing ones once, stores what it loaded. */
  private async fill<T>(
    namespace: CacheNamespace,
    tag: string,
    own: OwnFlight[],
    load: (missing: string[]) => Promise<ReadonlyMap<string, T>>,
  ): Promise<void> {
    const counters = this.context.counters[namespace];
    const stored: (string | undefined)[] = [];
    try {
      let generation: string | undefined;
      let storable = true;
      if (isList(namespace)) {
        generation = await this.generation(namespace, tag, true);
        storable = generation !== undefined;
      }
      const keys = own.map(entry => dataKey(namespace, tag, entry.id, generation));
      const found = storable ? await this.lookup(namespace, keys) : keys.map(() => undefined);
      const missing: number[] = [];
      const now = this.context.now();
      own.forEach((entry, index) => {
        const envelope = found[index];
        if (isEnvelope(envelope) && envelope.x > now) {
          counters.hits += 1;
          entry.settle({ found: true, value: envelope.v });
        } else {
          counters.misses += 1;
          missing.push(index);
        }
      });
      if (missing.length === 0) {
        return;
      }
      const loaded = await load(missing.map(index => own[index]!.id));
      const entries: { key: string; value: Envelope; ttl: number }[] = [];
      const loadedAt = this.context.now();
      for (const index of missing) {
        const entry = own[index]!;
        const value = loaded.get(entry.id);
        if (value === undefined || value === null) {
          entry.settle({ found: false });
          continue;
        }
        entry.settle({ found: true, value });
        const ttl = ttlFor(namespace, value, loadedAt);
        if (storable && ttl !== undefined && !entry.flight.stale) {
          const ttlMs = Math.max(1, Math.floor(ttl));
          entries.push({ key: keys[index]!, value: { v: value, x: loadedAt + ttlMs }, ttl: ttlMs });
          stored[index] = keys[index];
        }
      }
      if (entries.length > 0) {
        const outcome = await this.guard("set", namespace, () => this.data.setMany(entries));
        if (outcome.ok) {
          counters.sets += entries.length;
        }
        // An invalidation that ran while the write was on its way may have deleted before it
        // landed: delete again what was invalidated meanwhile.
        const raced = own.flatMap((entry, index) => {
          const key = stored[index];
          return entry.flight.stale && key !== undefined ? [key] : [];
        });
        if (raced.length > 0) {
          await this.guard("delete", namespace, () => this.data.deleteMany(raced));
        }
      }
    } catch (error) {
      // Only `load` throws here: every flight not yet settled fails with its error.
      for (const entry of own) {
        entry.fail(error);
      }
      throw error;
    } finally {
      for (const entry of own) {
        if (this.inflight.get(entry.flightKey) === entry.flight) {
          this.inflight.delete(entry.flightKey);
        }
      }
    }
  }

  /** Values of `keys` (undefined where absent); all undefined when the store failed. */
  private async lookup(namespace: CacheNamespace, keys: string[]): Promise<unknown[]> {
    const store = this.data.store as KeyvStoreAdapter;
    // Keyv swallows per-key errors when the store has no getMany: ask key by key then.
    const outcome = await this.guard("get", namespace, () =>
      store.getMany
        ? this.data.getMany<unknown>(keys)
        : Promise.all(keys.map(key => this.data.get<unknown>(key))),
    );
    return outcome.ok ? outcome.value : keys.map(() => undefined);
  }

  /**
   * The account's list generation, or `undefined` when the store failed. With `create`, an
   * absent generation (never set, expired, evicted) is replaced by a new one: lists stored under
   * an older one must never become reachable again.
   */
  private async generation(
    namespace: CacheNamespace,
    tag: string,
    create: boolean,
  ): Promise<string | undefined> {
    const key = generationKey(tag);
    const current = await this.guard("generation", namespace, () => this.data.get<unknown>(key));
    if (!current.ok) {
      return undefined;
    }
    if (typeof current.value === "string") {
      return current.value;
    }
    if (!create) {
      return undefined;
    }
    // One creation per account at a time in this process: two lists read together on a fresh
    // account (a page and the contacts it prefetches) must not store under two generations, one
    // of them unreachable at once. Across replicas the last write wins; a page stored under the
    // other is only a lost entry, never a stale one.
    let creating = this.creatingGeneration.get(tag);
    if (!creating) {
      const fresh = newGeneration();
      creating = this.guard("generation", namespace, () =>
        this.data.set(key, fresh, CACHE_TTL_MS.listGeneration),
      )
        .then(written => (written.ok ? fresh : undefined))
        .finally(() => this.creatingGeneration.delete(tag));
      this.creatingGeneration.set(tag, creating);
    }
    return creating;
  }

  /** Runs one store call under the timeout; a failure is reported, counted and returned. */
  private async guard<T>(
    operation: CacheOperation,
    namespace: CacheStatsNamespace | undefined,
    task: () => Promise<T>,
  ): Promise<Outcome<T>> {
    if (this.closed && this.client) {
      // The Redis adapter would reconnect a closed client on its next call.
      return { ok: false };
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      const value = await Promise.race([
        task(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new CacheTimeoutError(operation, this.context.timeoutMs)),
            this.context.timeoutMs,
          );
          timer.unref();
        }),
      ]);
      return { ok: true, value };
    } catch (caught) {
      const error = caught instanceof Error ? caught : new Error(String(caught));
      if (namespace !== undefined) {
        this.context.counters[namespace].errors += 1;
      }
      report(this.context, {
        type: "error",
        operation,
        namespace,
        timedOut: error instanceof CacheTimeoutError,
        error,
      });
      return { ok: false };
    } finally {
      clearTimeout(timer);
    }
  }
}

/** `CACHE_URL=off`: nothing is stored, every read loads. */
class OffCache implements GatewayCache {
  readonly kind = "off";

  constructor(private readonly context: Context) {}

  async readThrough<T>(
    namespace: CacheNamespace,
    _account: string,
    ids: readonly string[],
    load: (missing: string[]) => Promise<ReadonlyMap<string, T>>,
  ): Promise<Map<string, T>> {
    const unique = [...new Set(ids)];
    if (unique.length === 0) {
      return new Map();
    }
    this.context.counters[namespace].misses += unique.length;
    const loaded = await load(unique);
    const result = new Map<string, T>();
    for (const id of unique) {
      const value = loaded.get(id);
      if (value !== undefined && value !== null) {
        result.set(id, value);
      }
    }
    return result;
  }

  invalidate(): Promise<void> {
    return Promise.resolve();
  }

  invalidateLists(): Promise<void> {
    return Promise.resolve();
  }

  stats(): CacheStats {
    return snapshot(this.kind, this.context);
  }

  keyv(): undefined {
    return undefined;
  }

  responseKeyv(): undefined {
    return undefined;
  }

  listGeneration(): Promise<undefined> {
    return Promise.resolve(undefined);
  }

  redis(): undefined {
    return undefined;
  }

  redisConnection(): undefined {
    return undefined;
  }

  ping(): Promise<boolean> {
    return Promise.resolve(true);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * The `memory` store: an LRU bounded in entries and in bytes (Keyv hands it serialised strings,
 * so a value's size is its length). Entries also expire on their TTL.
 */
class LruStore implements KeyvStoreAdapter {
  readonly opts = {};
  namespace?: string;
  private readonly lru: LRUCache<string, string>;

  constructor(maxEntries: number, maxBytes: number) {
    this.lru = new LRUCache<string, string>({
      max: Math.max(1, Math.floor(maxEntries)),
      maxSize: Math.max(1, Math.floor(maxBytes)),
      sizeCalculation: (value, key) => 2 * (key.length + value.length) + ENTRY_OVERHEAD_BYTES,
    });
  }

  get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    return Promise.resolve(this.lru.get(key) as Value | undefined);
  }

  set(key: string, value: unknown, ttl?: number): Promise<boolean> {
    // Too large for the store: lru-cache refuses it (and drops an older value of the key).
    this.lru.set(key, typeof value === "string" ? value : JSON.stringify(value), { ttl });
    return Promise.resolve(true);
  }

  delete(key: string): Promise<boolean> {
    return Promise.resolve(this.lru.delete(key));
  }

  deleteMany(keys: string[]): Promise<boolean> {
    let deleted = false;
    for (const key of keys) {
      deleted = this.lru.delete(key) || deleted;
    }
    return Promise.resolve(deleted);
  }

  clear(): Promise<void> {
    this.lru.clear();
    return Promise.resolve();
  }

  has(key: string): Promise<boolean> {
    return Promise.resolve(this.lru.has(key));
  }

  on(): this {
    return this;
  }
}

/**
 * The persisted queries' view of the store: keys under `prefix`, every call under the timeout,
 * failures reported and turned into a miss or a lost write (Apollo must not fail on them).
 * `clear` does nothing: the store is shared with the records.
 */
class GuardedStore implements KeyvStoreAdapter {
  readonly opts = {};
  namespace?: string;

  constructor(
    private readonly inner: KeyvStoreAdapter,
    private readonly prefix: string,
    private readonly guard: <T>(
      operation: CacheOperation,
      task: () => Promise<T>,
    ) => Promise<Outcome<T>>,
    private readonly counters: { get?: (hit: boolean) => void; set?: () => void } = {},
  ) {}

  async get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    const outcome = await this.guard("get", () => this.inner.get<Value>(this.prefix + key));
    const value = outcome.ok ? outcome.value : undefined;
    this.counters.get?.(value !== undefined);
    return value;
  }

  async set(key: string, value: unknown, ttl?: number): Promise<boolean> {
    const ttlMs = ttl !== undefined && ttl > 0 ? ttl : APQ_DEFAULT_TTL_MS;
    const outcome = await this.guard("set", async () => {
      await this.inner.set(this.prefix + key, value, ttlMs);
    });
    if (outcome.ok) {
      this.counters.set?.();
    }
    return outcome.ok;
  }

  async delete(key: string): Promise<boolean> {
    const outcome = await this.guard("delete", () => this.inner.delete(this.prefix + key));
    return outcome.ok && outcome.value;
  }

  clear(): Promise<void> {
    return Promise.resolve();
  }

  on(): this {
    return this;
  }
}

function createRedisClient(url: string, context: Context) {
  const client = createClient({
    url,
    // Fail a command at once while disconnected instead of queueing it until Redis is back.
    disableOfflineQueue: true,
    commandsQueueMaxLength: 10_000,
    socket: {
      connectTimeout: 2_000,
      // Never give up (a closed client would stay closed); retry at most every second.
      reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 1_000),
    },
  });
  let state: "connecting" | "ready" | "down" = "connecting";
  client.on("error", (caught: unknown) => {
    context.connectionErrors += 1;
    if (state !== "down") {
      state = "down";
      const error = caught instanceof Error ? caught : new Error(String(caught));
      report(context, { type: "connection", state: "down", error });
    }
  });
  client.on("ready", () => {
    state = "ready";
    report(context, { type: "connection", state: "ready" });
  });
  // Failures are reported through "error" above; connect() itself only rejects when closed.
  client.connect().catch(() => undefined);
  return client;
}

function report(context: Context, event: CacheEvent): void {
  try {
    context.onEvent(event);
  } catch {
    // A broken logger must not break a query.
  }
}

function startFlight(
  namespace: CacheNamespace,
  tag: string,
  id: string,
  flightKey: string,
): OwnFlight {
  let settle!: (slot: Slot) => void;
  let fail!: (error: unknown) => void;
  const promise = new Promise<Slot>((resolve, reject) => {
    settle = resolve;
    fail = reject;
  });
  // Marked handled: a failed flight nobody joined must not become an unhandled rejection.
  promise.catch(() => undefined);
  return { id, flightKey, flight: { namespace, tag, promise, stale: false }, settle, fail };
}

function idPart(id: string): string {
  return id.length > MAX_ID_LENGTH ? `#${createHash("sha256").update(id).digest("hex")}` : id;
}

function recordKey(namespace: CacheNamespace, tag: string, id: string): string {
  return `${KEY_PREFIX}:${namespace}:${tag}:${idPart(id)}`;
}

function dataKey(
  namespace: CacheNamespace,
  tag: string,
  id: string,
  generation: string | undefined,
): string {
  return generation === undefined
    ? recordKey(namespace, tag, id)
    : `${KEY_PREFIX}:${namespace}:${tag}:${generation}:${idPart(id)}`;
}

function generationKey(tag: string): string {
  return `${KEY_PREFIX}:listgen:${tag}`;
}

function newGeneration(): string {
  return randomBytes(6).toString("hex");
}

function isEnvelope(value: unknown): value is Envelope {
  return (
    typeof value === "object" &&
    value !== null &&
    "v" in value &&
    typeof (value as { x?: unknown }).x === "number"
  );
}

function emptyCounters(): Record<CacheStatsNamespace, CacheCounters> {
  const counters = {} as Record<CacheStatsNamespace, CacheCounters>;
  for (const namespace of [...CACHE_NAMESPACES, "apq" as const, "response" as const]) {
    counters[namespace] = { hits: 0, misses: 0, errors: 0, sets: 0, invalidations: 0 };
  }
  return counters;
}

function snapshot(kind: Config["cache"]["kind"], context: Context): CacheStats {
  const total: CacheCounters = { hits: 0, misses: 0, errors: 0, sets: 0, invalidations: 0 };
  const byNamespace = {} as Record<CacheStatsNamespace, CacheCounters>;
  for (const [namespace, counters] of Object.entries(context.counters)) {
    byNamespace[namespace as CacheStatsNamespace] = { ...counters };
    total.hits += counters.hits;
    total.misses += counters.misses;
    total.errors += counters.errors;
    total.sets += counters.sets;
    total.invalidations += counters.invalidations;
  }
  return { kind, total, byNamespace, connectionErrors: context.connectionErrors };
}

/** The tag of a serialised `Date`: `{"$date": "<ISO 8601>"}` (`null` for an invalid date). */
const DATE_TAG = "$date";

/**
 * `value` with every `Date` replaced by its `{"$date": ...}` tag: a copy of the objects and
 * arrays on the way (strings are shared, not visited), for `JSON.stringify` without a replacer,
 * which would be called back for every string of a record. Plain data only (records, pages):
 * other objects are kept as they are (`JSON.stringify` handles them as before).
 */
function tagDates(value: unknown): unknown {
  if (typeof value !== "object" || value === null) {
    return value;
  }
  if (value instanceof Date) {
    return { [DATE_TAG]: Number.isNaN(value.getTime()) ? null : value.toISOString() };
  }
  if (Array.isArray(value)) {
    return value.map(tagDates);
  }
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) {
    return value;
  }
  const copy: Record<string, unknown> = {};
  for (const [field, item] of Object.entries(value)) {
    Object.defineProperty(copy, field, {
      value: tagDates(item),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return copy;
}

/**
 * Replaces every `{"$date": ...}` in a parsed tree by its `Date`, in place. A walk over objects
 * only: unlike a `JSON.parse` reviver it never calls back for the strings (PEMs are most of a
 * record), which made reviving the costliest part of a cache hit.
 */
function reviveDates(value: unknown): unknown {
  if (typeof value !== "object" || value === null) {
    return value;
  }
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      const item: unknown = value[index];
      const revived = reviveDates(item);
      if (revived !== item) {
        value[index] = revived;
      }
    }
    return value;
  }
  const record = value as Record<string, unknown>;
  const fields = Object.keys(record);
  if (fields.length === 1 && fields[0] === DATE_TAG) {
    const text = record[DATE_TAG];
    return new Date(typeof text === "string" ? text : Number.NaN);
  }
  for (const field of fields) {
    const item = record[field];
    const revived = reviveDates(item);
    // Only dates are replaced: nothing else is assigned (a "__proto__" key stays a plain field).
    if (revived !== item) {
      Object.defineProperty(record, field, {
        value: revived,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
  }
  return record;
}

function serializeJson<Value>(data: DeserializedData<Value>): string {
  return JSON.stringify(tagDates(data));
}

function deserializeJson<Value>(text: string): DeserializedData<Value> | undefined {
  const parsed: unknown = JSON.parse(text);
  // Most values hold dates; a text without the tag has none to revive.
  return (text.includes(`"${DATE_TAG}"`) ? reviveDates(parsed) : parsed) as
    DeserializedData<Value> | undefined;
}
