/**
 * Idempotency keys for commands that cost money: a command sent with a key runs at most once while
 * the key's record lives, and every later request with the key gets the first one's result.
 * GraphQL-agnostic; resolvers map the errors below onto client-facing codes.
 */
import { createHash, randomUUID } from "node:crypto";
import { accountTag, type RedisLikeClient } from "./cache";

/** The shortest time a key may be kept: the promise made to clients is "at least a day". */
export const MIN_IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

/** What one guarded command is: whose key, which operation, which input, how long to remember. */
export interface IdempotencyScope {
  /** The upstream account the command is sent as; keys of different accounts never meet. */
  account: string;
  /** The client's idempotency key. */
  key: string;
  /** The operation the key was used for, e.g. "orderCertificate". */
  operation: string;
  /** `fingerprintOf` the operation's input (after GraphQL defaults were applied). */
  fingerprint: string;
  /** How long the record is kept after the command settled, in ms; at least `MIN_IDEMPOTENCY_TTL_MS`. */
  ttlMs: number;
  /**
   * What reconciliation needs to find the command's effect upstream should its outcome be
   * unknown (for a certificate: class, domains, CSR key). JSON-serialisable; the store keeps a
   * copy with the record and `inspect` returns it. Never part of the fingerprint.
   */
  lookup?: unknown;
}

/**
 * The life of a key's record:
 * - `pending`: the command is being sent; callers with the same key wait for it.
 * - `done`: it succeeded; the stored result is replayed to every later caller.
 * - `failed`: it certainly did not run (the error said `outcomeUnknown === false`); the key is
 *   free again, a corrected retry with the same key proceeds. Kept only for `inspect`.
 * - `unknown`: it may have run (timeout or lost connection after sending, or an error that does
 *   not say); later callers get `IdempotencyOutcomeUnknownError` until reconciliation settles it.
 */
export type IdempotencyState = "pending" | "done" | "failed" | "unknown";

/** A copy of a key's record, as `inspect` returns it (for reconciliation and support). */
export interface IdempotencyRecord {
  readonly account: string;
  readonly key: string;
  readonly operation: string;
  readonly fingerprint: string;
  readonly state: IdempotencyState;
  /** When the key was claimed (the store's clock, epoch ms). */
  readonly claimedAt: number;
  /** When the command settled; `null` while pending. */
  readonly settledAt: number | null;
  /** When the record will be forgotten; `null` while pending (a pending record never expires). */
  readonly expiresAt: number | null;
  /** `done`: a JSON copy of the result. */
  readonly result?: unknown;
  /** `failed` and `unknown`: the error's code (if it had one) and message. */
  readonly error?: { readonly code?: string; readonly message: string };
  /** The scope's `lookup`, when the first attempt gave one (a JSON copy). */
  readonly lookup?: unknown;
}

/** How reconciliation settles an `unknown` record after looking the command up upstream. */
export type UnknownOutcomeResolution =
  /** The command did run: later callers get `result` (JSON-serialisable) as if it had been stored. */
  | { readonly outcome: "done"; readonly result: unknown }
  /** The command did not run: the key is released and a retry with it proceeds. */
  | { readonly outcome: "not-run" };

/**
 * Runs commands at most once per (account, key). Implementations must make the claim atomic and
 * must refuse (`IdempotencyUnavailableError`) rather than send unguarded when they cannot claim.
 *
 * Two implementations: `createMemoryIdempotencyStore` (one process) and
 * `createRedisIdempotencyStore` (every replica sharing one Redis), which maps onto it so:
 * - record key `gw:v1:idem:<accountTag(account)>:<sha256(key)>` (no login or key in clear), value
 *   a JSON record (operation, fingerprint, state, times, result as JSON text, error, the scope's
 *   `lookup`) plus an owner token.
 * - claim: `SET k <pending record> NX PX ttlMs`. Pending records keep the full TTL, never a short
 *   lease: a crashed owner may have sent the command, so its key must stay blocked.
 * - settle: compare-and-set (a Lua script: `GET k` equals the pending record this attempt wrote,
 *   then `SET k <done|failed|unknown record> PX ttlMs`).
 * - not claimed: `GET k`; `failed` retries the claim (compare-and-set on the failed record), then
 *   operation and fingerprint are compared (conflict); `done` replays, `unknown` throws, `pending`
 *   polls with backoff up to a bound, then throws `IdempotencyInProgressError`.
 * - any Redis error or timeout while claiming: `IdempotencyUnavailableError`, nothing is sent (a
 *   claim that may have landed is settled `failed`). A Redis error while storing a result after
 *   the command succeeded leaves the record `pending`, which later callers see as in progress and
 *   reconciliation treats as unknown.
 * - `inspect` is `GET`; `resolveUnknown` is the compare-and-set on the `unknown` record.
 */
export interface IdempotencyStore {
  /**
   * Sends the command (`send`) unless the key was used before: the first caller's `send` runs;
   * concurrent callers with the same key, operation and fingerprint wait for it and get the same
   * outcome (result or error); later callers get a JSON copy of the stored result. Every caller,
   * the first included, gets a JSON copy (`JSON.parse(JSON.stringify(result))`), so `T` must be
   * JSON-serialisable and should be a plain-data shape (Dates would come back as strings).
   *
   * @throws IdempotencyConflictError the key was used for another operation or input.
   * @throws IdempotencyOutcomeUnknownError an earlier attempt with the key may have run.
   * @throws IdempotencyUnavailableError the claim could not be made; nothing was sent.
   * @throws IdempotencyInProgressError (shared stores only) waited too long for another attempt.
   * @throws whatever `send` throws, to the first caller and to those waiting on it.
   * @throws RangeError `scope.ttlMs` below `MIN_IDEMPOTENCY_TTL_MS` or an empty key (a bug).
   */
  run<T>(scope: IdempotencyScope, send: () => Promise<T>): Promise<T>;
  /** The record of a key, or `undefined` when there is none (never used, expired or evicted). */
  inspect(account: string, key: string): Promise<IdempotencyRecord | undefined>;
  /**
   * Settles an `unknown` record once reconciliation found out what happened. Resolves `false`
   * (and changes nothing) when the record is missing or not `unknown`.
   */
  resolveUnknown(
    account: string,
    key: string,
    resolution: UnknownOutcomeResolution,
  ): Promise<boolean>;
  /** Releases the store's resources; `run` then throws `IdempotencyUnavailableError`. */
  close(): Promise<void>;
}

/**
 * What `send`'s errors may say about the command: `outcomeUnknown === false` means it certainly
 * did not run (a definite upstream rejection, a refused connection), so the key is released.
 * `true`, or an error that does not say (a bug after the call returned), keeps the key blocked.
 * `UpstreamError` carries this property.
 */
export interface OutcomeAwareError {
  readonly outcomeUnknown?: boolean;
}

/** True when `error` says the command certainly did not run (`outcomeUnknown === false`). */
export function isDefiniteFailure(error: unknown): boolean {
  return (
    typeof error === "object" &&
    error !== null &&
    (error as OutcomeAwareError).outcomeUnknown === false
  );
}

/** The key was used before for another operation or with another input; nothing was sent. */
export class IdempotencyConflictError extends Error {
  override readonly name = "IdempotencyConflictError";
  readonly code = "IDEMPOTENCY_KEY_REUSED" as const;

  /** @param operation - the operation the key was first used for */
  constructor(readonly operation: string) {
    super(
      `This idempotency key was already used for ${operation} with a different input; ` +
        "use a new key for a different request",
    );
  }
}

/** The key could not be claimed (store full, closed or unreachable): nothing was sent. */
export class IdempotencyUnavailableError extends Error {
  override readonly name = "IdempotencyUnavailableError";
  readonly code = "IDEMPOTENCY_UNAVAILABLE" as const;

  /**
   * @param detail - why, for the message (no key, no input)
   * @param options - the store's error, if any
   */
  constructor(detail: string, options?: { cause?: unknown }) {
    super(
      `The request was not sent: its idempotency key could not be recorded (${detail}); try again later`,
      options,
    );
  }
}

/**
 * An earlier attempt with this key may or may not have run upstream: it is not sent again.
 * Thrown by the stores to callers after the first (the first caller gets the original error), and
 * by reconciliation while it cannot tell yet (`retryAfterMs`).
 */
export class IdempotencyOutcomeUnknownError extends Error {
  override readonly name = "IdempotencyOutcomeUnknownError";
  readonly code = "UPSTREAM_OUTCOME_UNKNOWN" as const;

  /**
   * @param operation - the operation of the first attempt
   * @param attemptedAt - when the first attempt was made (epoch ms)
   * @param retryAfterMs - when known, how long until a retry with the key can be settled
   */
  constructor(
    readonly operation: string,
    readonly attemptedAt: number,
    readonly retryAfterMs?: number,
  ) {
    super(
      `The first ${operation} request with this idempotency key (${new Date(attemptedAt).toISOString()}) ` +
        "may or may not have been carried out upstream, so it is not sent again yet. Ask again " +
        "later with the same key: the gateway first looks upstream for what the first request " +
        "created. Never repeat it with a new key without checking your certificates and orders",
    );
  }
}

/**
 * Another request with this key is still running and a shared store gave up waiting for it.
 * Never thrown by the memory store, whose waiters wait as long as the first attempt runs.
 */
export class IdempotencyInProgressError extends Error {
  override readonly name = "IdempotencyInProgressError";
  readonly code = "IDEMPOTENCY_IN_PROGRESS" as const;

  /** @param operation - the operation of the attempt in progress */
  constructor(readonly operation: string) {
    super(
      `A ${operation} request with this idempotency key is still in progress; ask again later with the same key`,
    );
  }
}

/**
 * SHA-256 (hex) of the canonical JSON of `value`: object keys sorted at every level, `undefined`
 * properties left out, `toJSON` honoured, as `JSON.stringify` would otherwise. Equal inputs give
 * equal fingerprints whatever their key order or prototype (graphql-js builds input objects
 * without one). Pure.
 *
 * @throws TypeError for values JSON cannot hold (BigInt, cycles).
 */
export function fingerprintOf(value: unknown): string {
  return createHash("sha256")
    .update(canonicalJson(value, new Set()) ?? "null")
    .digest("hex");
}

function canonicalJson(value: unknown, ancestors: Set<object>): string | undefined {
  const candidate: unknown =
    typeof value === "object" &&
    value !== null &&
    typeof (value as { toJSON?: unknown }).toJSON === "function"
      ? (value as { toJSON: () => unknown }).toJSON()
      : value;
  if (candidate === null || typeof candidate !== "object") {
    // Primitives (and functions/symbols/undefined, which come back undefined) as JSON has them.
    return JSON.stringify(candidate);
  }
  if (ancestors.has(candidate)) {
    throw new TypeError("fingerprintOf: the value contains a cycle");
  }
  ancestors.add(candidate);
  let json: string;
  if (Array.isArray(candidate)) {
    json = `[${candidate.map((item: unknown) => canonicalJson(item, ancestors) ?? "null").join(",")}]`;
  } else {
    const members: string[] = [];
    for (const name of Object.keys(candidate).sort()) {
      const member = canonicalJson((candidate as Record<string, unknown>)[name], ancestors);
      if (member !== undefined) {
        members.push(`${JSON.stringify(name)}:${member}`);
      }
    }
    json = `{${members.join(",")}}`;
  }
  ancestors.delete(candidate);
  return json;
}

/** Options of {@link createMemoryIdempotencyStore}. */
export interface MemoryIdempotencyStoreOptions {
  /** The clock, epoch ms. Default `Date.now`. */
  now?: () => number;
  /** Most records kept (all states together). Default 10 000. */
  maxEntries?: number;
}

/** Default `maxEntries`: a settled record holds one certificate's JSON, a few kilobytes. */
const DEFAULT_MAX_ENTRIES = 10_000;

/** The stored result of a `done` record: JSON text, or `undefined` for a result of `undefined`. */
type StoredResult = string | undefined;

interface Entry {
  readonly account: string;
  readonly key: string;
  readonly operation: string;
  readonly fingerprint: string;
  readonly ttlMs: number;
  state: IdempotencyState;
  readonly claimedAt: number;
  settledAt: number | null;
  /** `Infinity` while pending. */
  expiresAt: number;
  /** Pending: the attempt every caller with this key awaits. */
  attempt?: Promise<StoredResult>;
  result?: StoredResult;
  error?: { code?: string; message: string };
  /** JSON text of the scope's `lookup`. */
  readonly lookup?: string;
}

/**
 * An in-process `IdempotencyStore`: one `Map`, claims are synchronous (the record is inserted
 * before `send` is called and before any `await`), so it guards one gateway process only. Use it
 * for a single instance; several instances need the shared (Redis) store described on the
 * interface.
 *
 * Memory is bounded by `maxEntries`. When full, expired records go first, then `failed` ones (their
 * keys are free anyway). Pending, done and unknown records are never evicted early, because that
 * would let a repeated key send the command again: when only those remain, `run` refuses with
 * `IdempotencyUnavailableError` instead.
 *
 * @throws RangeError for a `maxEntries` that is not a positive integer.
 */
export function createMemoryIdempotencyStore(
  options: MemoryIdempotencyStoreOptions = {},
): IdempotencyStore {
  const now = options.now ?? Date.now;
  const maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
  if (!Number.isInteger(maxEntries) || maxEntries < 1) {
    throw new RangeError(`maxEntries must be a positive integer, got ${maxEntries}`);
  }
  const entries = new Map<string, Entry>();
  let closed = false;

  // JSON of the pair, so no account or key can forge another pair's id with a separator.
  const idOf = (account: string, key: string): string => JSON.stringify([account, key]);

  function live(id: string, at: number): Entry | undefined {
    const entry = entries.get(id);
    if (entry !== undefined && entry.expiresAt <= at) {
      entries.delete(id);
      return undefined;
    }
    return entry;
  }

  function makeRoom(at: number): void {
    if (entries.size < maxEntries) {
      return;
    }
    for (const [id, entry] of entries) {
      if (entry.expiresAt <= at) {
        entries.delete(id);
      }
    }
    for (const [id, entry] of entries) {
      if (entries.size < maxEntries) {
        return;
      }
      if (entry.state === "failed") {
        entries.delete(id);
      }
    }
    if (entries.size >= maxEntries) {
      throw new IdempotencyUnavailableError(
        `the in-memory store holds ${maxEntries} live keys, its limit`,
      );
    }
  }

  function settle(entry: Entry, state: IdempotencyState): void {
    const at = now();
    entry.state = state;
    entry.settledAt = at;
    entry.expiresAt = at + entry.ttlMs;
    delete entry.attempt;
  }

  async function execute<T>(entry: Entry, send: () => Promise<T>): Promise<StoredResult> {
    let value: T;
    try {
      value = await send();
    } catch (error) {
      entry.error = describeError(error);
      settle(entry, isDefiniteFailure(error) ? "failed" : "unknown");
      throw error;
    }
    let stored: StoredResult;
    try {
      stored = JSON.stringify(value);
    } catch (cause) {
      // The command ran but its result cannot be replayed: block the key, never resend.
      entry.error = { message: "the result could not be stored (not JSON-serialisable)" };
      settle(entry, "unknown");
      const message = `idempotency: the result of ${entry.operation} is not JSON-serialisable`;
      throw new TypeError(message, { cause });
    }
    entry.result = stored;
    settle(entry, "done");
    return stored;
  }

  async function run<T>(scope: IdempotencyScope, send: () => Promise<T>): Promise<T> {
    if (!(scope.ttlMs >= MIN_IDEMPOTENCY_TTL_MS) || scope.key === "") {
      throw new RangeError(
        `idempotency: ttlMs must be at least ${MIN_IDEMPOTENCY_TTL_MS} and the key non-empty`,
      );
    }
    if (closed) {
      throw new IdempotencyUnavailableError("the store is closed");
    }
    // From here to entries.set nothing awaits: checking and claiming is one synchronous step.
    const at = now();
    const id = idOf(scope.account, scope.key);
    const existing = live(id, at);
    if (existing !== undefined && existing.state !== "failed") {
      if (existing.operation !== scope.operation || existing.fingerprint !== scope.fingerprint) {
        throw new IdempotencyConflictError(existing.operation);
      }
      if (existing.state === "unknown") {
        throw new IdempotencyOutcomeUnknownError(existing.operation, existing.claimedAt);
      }
      return replay<T>(existing.state === "pending" ? await existing.attempt : existing.result);
    }
    if (existing !== undefined) {
      entries.delete(id); // a failed attempt released its key
    }
    makeRoom(at);
    const entry: Entry = {
      account: scope.account,
      key: scope.key,
      operation: scope.operation,
      fingerprint: scope.fingerprint,
      ttlMs: scope.ttlMs,
      state: "pending",
      claimedAt: at,
      settledAt: null,
      expiresAt: Infinity,
      ...(scope.lookup === undefined ? {} : { lookup: JSON.stringify(scope.lookup) }),
    };
    entries.set(id, entry);
    // send starts on the next microtask, so waiters always find the attempt on the record.
    const pending = Promise.resolve().then(() => execute(entry, send));
    entry.attempt = pending;
    return replay<T>(await pending);
  }

  return {
    run,
    inspect: (account, key) => {
      const entry = live(idOf(account, key), now());
      return Promise.resolve(entry === undefined ? undefined : snapshot(entry));
    },
    resolveUnknown: (account, key, resolution) => {
      const entry = live(idOf(account, key), now());
      if (entry?.state !== "unknown") {
        return Promise.resolve(false);
      }
      if (resolution.outcome === "done") {
        entry.result = JSON.stringify(resolution.result);
        delete entry.error;
        settle(entry, "done");
      } else {
        settle(entry, "failed");
      }
      return Promise.resolve(true);
    },
    close: () => {
      closed = true;
      entries.clear();
      return Promise.resolve();
    },
  };
}

function replay<T>(stored: StoredResult): T {
  return (stored === undefined ? undefined : JSON.parse(stored)) as T;
}

function snapshot(entry: Entry): IdempotencyRecord {
  return {
    account: entry.account,
    key: entry.key,
    operation: entry.operation,
    fingerprint: entry.fingerprint,
    state: entry.state,
    claimedAt: entry.claimedAt,
    settledAt: entry.settledAt,
    expiresAt: entry.state === "pending" ? null : entry.expiresAt,
    ...(entry.state === "done" ? { result: replay<unknown>(entry.result) } : {}),
    ...(entry.error === undefined ? {} : { error: { ...entry.error } }),
    ...(entry.lookup === undefined ? {} : { lookup: JSON.parse(entry.lookup) as unknown }),
  };
}

function describeError(error: unknown): { code?: string; message: string } {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return typeof code === "string" ? { code, message } : { message };
}

/** Default `timeoutMs` of the Redis store: one Redis call on loopback or in a zone takes < 5 ms. */
export const DEFAULT_REDIS_IDEMPOTENCY_TIMEOUT_MS = 500;
/** Default `waitMs` of the Redis store: how long a duplicate waits for the first attempt. */
export const DEFAULT_REDIS_IDEMPOTENCY_WAIT_MS = 30_000;

/** Options of {@link createRedisIdempotencyStore}. */
export interface RedisIdempotencyStoreOptions {
  /** Longest wait for one Redis call, in ms (default `DEFAULT_REDIS_IDEMPOTENCY_TIMEOUT_MS`). */
  timeoutMs?: number;
  /**
   * How long a caller waits for an attempt with the same key that another request (on any
   * replica) is running, in ms, before `IdempotencyInProgressError` (default
   * `DEFAULT_REDIS_IDEMPOTENCY_WAIT_MS`).
   */
  waitMs?: number;
  /** First pause between two reads while waiting, in ms (default 20); doubles up to 500. */
  pollMs?: number;
  /** The clock of the records' times, epoch ms. Default `Date.now`. */
  now?: () => number;
  /**
   * Told about Redis failures that did not fail the call: a result that could not be stored
   * (the key stays pending), a claim that could not be cleaned up. Must not throw.
   */
  onError?: (error: Error, operation: "settle" | "release") => void;
}

const REDIS_KEY_PREFIX = "gw:v1:idem";
const MAX_POLL_MS = 500;
/** Claims lost to a record that vanished or changed between two calls, before giving up. */
const MAX_CLAIM_RACES = 8;

/**
 * Compare-and-set: replaces the value of KEYS[1] by ARGV[2] with a TTL of ARGV[3] ms when it is
 * exactly ARGV[1]. Returns 1 when it did, 0 otherwise. Records are compared as the exact text
 * written, owner token included, so no other attempt's record can match.
 */
const COMPARE_AND_SET = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
`;

/** A record as stored in Redis (JSON). Neither the account nor the key: the caller has them. */
interface RedisRecord {
  readonly v: 1;
  /** Random per attempt: the settle compare-and-set only matches the attempt's own record. */
  readonly owner: string;
  readonly operation: string;
  readonly fingerprint: string;
  readonly state: IdempotencyState;
  readonly claimedAt: number;
  readonly settledAt: number | null;
  readonly ttlMs: number;
  /** `done`: the result as JSON text (absent for a result of `undefined`). */
  readonly result?: string;
  readonly error?: { code?: string; message: string };
  /** The scope's `lookup` (JSON), for reconciliation. */
  readonly lookup?: unknown;
}

/** A Redis call that failed or did not answer in time. */
class RedisCallError extends Error {
  override readonly name = "RedisCallError";
}

/**
 * An `IdempotencyStore` on Redis, shared by every gateway replica that uses the same Redis: a key
 * claimed through one replica blocks it on all of them. `client` is the shared cache's connection
 * (`cache.redis()`); the store does not close it. The key layout and the protocol are described
 * on `IdempotencyStore`.
 *
 * Differences from the memory store, both forced by Redis: waiters poll (at most `waitMs`, then
 * `IdempotencyInProgressError`; ask again later with the same key); and a waiter that sees the
 * attempt it waited for fail for certain (`failed`) claims the key and sends itself instead of
 * receiving the first caller's error object (the first attempt did not run, so the command still
 * runs at most once). Pending records expire with the scope's TTL (at least a day), not never.
 *
 * Every Redis call runs under `timeoutMs`. When Redis is unreachable, slow or closed, `run`
 * refuses with `IdempotencyUnavailableError` and nothing is sent.
 */
export function createRedisIdempotencyStore(
  client: RedisLikeClient,
  options: RedisIdempotencyStoreOptions = {},
): IdempotencyStore {
  const timeoutMs = options.timeoutMs ?? DEFAULT_REDIS_IDEMPOTENCY_TIMEOUT_MS;
  const waitMs = options.waitMs ?? DEFAULT_REDIS_IDEMPOTENCY_WAIT_MS;
  const firstPollMs = Math.max(1, options.pollMs ?? 20);
  const now = options.now ?? Date.now;
  const onError = (error: Error, operation: "settle" | "release"): void => {
    try {
      options.onError?.(error, operation);
    } catch {
      // A broken logger must not break an order.
    }
  };
  let closed = false;

  async function redis<T>(what: string, task: () => Promise<T>): Promise<T> {
    if (closed) {
      throw new RedisCallError("the store is closed");
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        task(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new RedisCallError(`Redis ${what} timed out after ${timeoutMs} ms`)),
            timeoutMs,
          );
          timer.unref();
        }),
      ]);
    } catch (error) {
      throw error instanceof RedisCallError
        ? error
        : new RedisCallError(`Redis ${what} failed`, { cause: error });
    } finally {
      clearTimeout(timer);
    }
  }

  async function compareAndSet(key: string, expected: string, next: string, ttlMs: number) {
    const replaced = await redis("compare-and-set", () =>
      client.eval(COMPARE_AND_SET, {
        keys: [key],
        arguments: [expected, next, String(Math.max(1, Math.floor(ttlMs)))],
      }),
    );
    return Number(replaced) === 1;
  }

  /** Stores how the attempt ended; a failure leaves the record pending (reported, not thrown). */
  async function settle(key: string, claim: string, record: RedisRecord): Promise<void> {
    try {
      const replaced = await compareAndSet(key, claim, JSON.stringify(record), record.ttlMs);
      if (!replaced) {
        onError(new Error("the pending record changed before it was settled"), "settle");
      }
    } catch (error) {
      onError(error as Error, "settle");
    }
  }

  /**
   * After a claim whose outcome is unknown (an error or a timeout of the call itself): marks it
   * `failed` if it landed, since nothing was sent, so the key is free for a retry.
   */
  async function release(key: string, claim: string, record: RedisRecord): Promise<void> {
    const released: RedisRecord = {
      ...record,
      state: "failed",
      settledAt: now(),
      error: {
        code: "IDEMPOTENCY_UNAVAILABLE",
        message: "the claim could not be confirmed; nothing was sent",
      },
    };
    try {
      await compareAndSet(key, claim, JSON.stringify(released), record.ttlMs);
    } catch (error) {
      onError(error as Error, "release");
    }
  }

  async function execute<T>(
    key: string,
    claim: string,
    record: RedisRecord,
    send: () => Promise<T>,
  ): Promise<T> {
    let value: T;
    try {
      value = await send();
    } catch (error) {
      await settle(key, claim, {
        ...record,
        state: isDefiniteFailure(error) ? "failed" : "unknown",
        settledAt: now(),
        error: describeError(error),
      });
      throw error;
    }
    let stored: StoredResult;
    try {
      stored = JSON.stringify(value);
    } catch (cause) {
      // The command ran but its result cannot be replayed: block the key, never resend.
      await settle(key, claim, {
        ...record,
        state: "unknown",
        settledAt: now(),
        error: { message: "the result could not be stored (not JSON-serialisable)" },
      });
      const message = `idempotency: the result of ${record.operation} is not JSON-serialisable`;
      throw new TypeError(message, { cause });
    }
    await settle(key, claim, {
      ...record,
      state: "done",
      settledAt: now(),
      ...(stored === undefined ? {} : { result: stored }),
    });
    return replay<T>(stored);
  }

  async function run<T>(scope: IdempotencyScope, send: () => Promise<T>): Promise<T> {
    if (!(scope.ttlMs >= MIN_IDEMPOTENCY_TTL_MS) || scope.key === "") {
      throw new RangeError(
        `idempotency: ttlMs must be at least ${MIN_IDEMPOTENCY_TTL_MS} and the key non-empty`,
      );
    }
    if (closed) {
      throw new IdempotencyUnavailableError("the store is closed");
    }
    const key = redisKey(scope.account, scope.key);
    const record: RedisRecord = {
      v: 1,
      owner: randomUUID(),
      operation: scope.operation,
      fingerprint: scope.fingerprint,
      state: "pending",
      claimedAt: now(),
      settledAt: null,
      ttlMs: scope.ttlMs,
      ...(scope.lookup === undefined ? {} : { lookup: scope.lookup }),
    };
    const claim = JSON.stringify(record);
    const unavailable = async (error: unknown, landed: boolean): Promise<never> => {
      if (landed) {
        await release(key, claim, record);
      }
      throw new IdempotencyUnavailableError("the shared store did not answer", { cause: error });
    };

    const waitUntil = performance.now() + waitMs;
    let pauseMs = firstPollMs;
    let races = 0;
    // The record to claim over: none (SET NX), or a failed attempt's (compare-and-set).
    let released: string | undefined;
    for (;;) {
      let claimed: boolean;
      try {
        claimed =
          released === undefined
            ? (await redis("claim", () =>
                client.set(key, claim, {
                  condition: "NX",
                  expiration: { type: "PX", value: scope.ttlMs },
                }),
              )) === "OK"
            : await compareAndSet(key, released, claim, scope.ttlMs);
      } catch (error) {
        return unavailable(error, true);
      }
      if (claimed) {
        return execute(key, claim, record, send);
      }

      let text: string | null;
      try {
        text = await redis("read", () => client.get(key));
      } catch (error) {
        return unavailable(error, false);
      }
      const found = text === null ? undefined : parseRecord(text);
      if (text !== null && found === undefined) {
        throw new IdempotencyUnavailableError("the stored record of the key is unreadable");
      }
      if (found === undefined || found.state === "failed") {
        // Gone since the claim (expired), or released by an attempt that certainly did not run:
        // claim again. Losing that race over and over means something else writes the key.
        races += 1;
        if (races >= MAX_CLAIM_RACES) {
          throw new IdempotencyUnavailableError("the key changed on every attempt to claim it");
        }
        released = text ?? undefined;
        continue;
      }
      if (found.operation !== scope.operation || found.fingerprint !== scope.fingerprint) {
        throw new IdempotencyConflictError(found.operation);
      }
      if (found.state === "unknown") {
        throw new IdempotencyOutcomeUnknownError(found.operation, found.claimedAt);
      }
      if (found.state === "done") {
        return replay<T>(found.result);
      }
      // Pending: another request (maybe on another replica) is sending it; wait and look again.
      if (performance.now() + pauseMs > waitUntil || closed) {
        throw new IdempotencyInProgressError(found.operation);
      }
      await new Promise(resolve => setTimeout(resolve, pauseMs));
      pauseMs = Math.min(pauseMs * 2, MAX_POLL_MS);
      released = undefined;
    }
  }

  async function read(account: string, key: string): Promise<[string, RedisRecord] | undefined> {
    let text: string | null;
    try {
      text = await redis("read", () => client.get(redisKey(account, key)));
    } catch (error) {
      throw new IdempotencyUnavailableError("the shared store did not answer", { cause: error });
    }
    const record = text === null ? undefined : parseRecord(text);
    return text === null || record === undefined ? undefined : [text, record];
  }

  return {
    run,
    inspect: async (account, key) => {
      const found = await read(account, key);
      return found === undefined ? undefined : toIdempotencyRecord(account, key, found[1]);
    },
    resolveUnknown: async (account, key, resolution) => {
      const found = await read(account, key);
      if (found?.[1].state !== "unknown") {
        return false;
      }
      const [text, record] = found;
      const settled: RedisRecord =
        resolution.outcome === "done"
          ? {
              ...withoutError(record),
              state: "done",
              settledAt: now(),
              ...(resolution.result === undefined
                ? {}
                : { result: JSON.stringify(resolution.result) }),
            }
          : { ...record, state: "failed", settledAt: now() };
      try {
        return await compareAndSet(
          redisKey(account, key),
          text,
          JSON.stringify(settled),
          record.ttlMs,
        );
      } catch (error) {
        throw new IdempotencyUnavailableError("the shared store did not answer", { cause: error });
      }
    },
    close: () => {
      closed = true;
      return Promise.resolve();
    },
  };
}

function redisKey(account: string, key: string): string {
  const hashed = createHash("sha256").update(key).digest("hex");
  return `${REDIS_KEY_PREFIX}:${accountTag(account)}:${hashed}`;
}

const STATES: ReadonlySet<string> = new Set<IdempotencyState>([
  "pending",
  "done",
  "failed",
  "unknown",
]);

/** The record in `text`, or `undefined` when it is not one this store wrote. */
function parseRecord(text: string): RedisRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) {
    return undefined;
  }
  const record = value as Partial<RedisRecord>;
  const valid =
    record.v === 1 &&
    typeof record.operation === "string" &&
    typeof record.fingerprint === "string" &&
    typeof record.state === "string" &&
    STATES.has(record.state) &&
    typeof record.claimedAt === "number" &&
    typeof record.ttlMs === "number";
  return valid ? (record as RedisRecord) : undefined;
}

function withoutError(record: RedisRecord): RedisRecord {
  const { error: _error, ...rest } = record;
  return rest;
}

function toIdempotencyRecord(account: string, key: string, record: RedisRecord): IdempotencyRecord {
  const settledAt = record.settledAt ?? null;
  return {
    account,
    key,
    operation: record.operation,
    fingerprint: record.fingerprint,
    state: record.state,
    claimedAt: record.claimedAt,
    settledAt,
    expiresAt: record.state === "pending" || settledAt === null ? null : settledAt + record.ttlMs,
    ...(record.state === "done" ? { result: replay<unknown>(record.result) } : {}),
    ...(record.error === undefined ? {} : { error: { ...record.error } }),
    ...(record.lookup === undefined ? {} : { lookup: record.lookup }),
  };
}
