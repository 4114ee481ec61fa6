/**
 * Idempotency keys for commands that cost money: a command sent with a key runs at most once while
 * the key's record lives, and every later request with the key gets the first one's result.
 * GraphQL-agnostic; resolvers map the errors below onto client-facing codes.
 */
import { createHash } from "node:crypto";

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
 * A Redis implementation maps onto it without changing callers:
 * - record key `idem:{account}:{sha256(key)}`, value a JSON record like `IdempotencyRecord`
 *   plus an owner token; results are stored as the JSON text this memory store keeps.
 * - claim: `SET k <pending record> NX PX ttlMs`. Pending records keep the full TTL, never a short
 *   lease: a crashed owner may have sent the command, so its key must stay blocked.
 * - settle: a Lua script that checks the owner token, then `SET k <done|failed|unknown record> XX
 *   PX ttlMs` and `PUBLISH idem:{account}:{sha256(key)} <state>`.
 * - not claimed: `GET k`; compare operation and fingerprint (conflict); `done` replays, `unknown`
 *   throws, `failed` retries the claim, `pending` subscribes to the channel, re-reads once to close
 *   the race, and waits (or polls with backoff) up to a bound, then throws
 *   `IdempotencyInProgressError`.
 * - any Redis error while claiming: `IdempotencyUnavailableError`, nothing is sent. A Redis error
 *   while storing a result after the command succeeded leaves the record `pending`, which later
 *   callers see as in progress and reconciliation treats as unknown.
 * - `inspect` is `GET`; `resolveUnknown` is a Lua compare-and-set on `state == "unknown"`.
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
 * Thrown to callers after the first; the first caller gets the original error.
 */
export class IdempotencyOutcomeUnknownError extends Error {
  override readonly name = "IdempotencyOutcomeUnknownError";
  readonly code = "UPSTREAM_OUTCOME_UNKNOWN" as const;

  /**
   * @param operation - the operation of the first attempt
   * @param attemptedAt - when the first attempt was made (epoch ms)
   */
  constructor(
    readonly operation: string,
    readonly attemptedAt: number,
  ) {
    super(
      `The first ${operation} request with this idempotency key (${new Date(attemptedAt).toISOString()}) ` +
        "may or may not have been carried out upstream, so it is not sent again. Check your " +
        "certificates and orders before repeating it with a new key",
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
  };
}

function describeError(error: unknown): { code?: string; message: string } {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return typeof code === "string" ? { code, message } : { message };
}
