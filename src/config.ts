/**
 * The gateway's configuration: the only module that reads the environment. `loadConfig` is pure,
 * collects every problem and throws one `ConfigError` listing them all; it never echoes a secret.
 */
import { readFileSync } from "node:fs";
import { type ApiKeyEntry, parseApiKeys, parseApiKeysFile } from "./auth";
import { parseCorsOrigins } from "./cors";
import { type LogLevel } from "./logger";

export const UPSTREAM_URLS = Object.freeze({
  live: "https://api.rrpproxy.net/api/call.cgi",
  ote: "https://api-ote.rrpproxy.net/api/call.cgi",
});

export interface SandboxAccount {
  readonly login: string;
  readonly password: string;
}

export interface Config {
  readonly server: {
    readonly port: number;
    readonly host: string;
    readonly production: boolean;
    /** Show error messages of unexpected errors to clients (never in production by default). */
    readonly exposeErrorDetails: boolean;
    /** Serve the Apollo Sandbox explorer on GET /graphql (default: on unless production). */
    readonly explorer: boolean;
    /** Answer introspection queries (default: on unless production). */
    readonly introspection: boolean;
    /**
     * Field suggestions ("Did you mean ...?") in validation errors (default: on unless
     * production); off means Apollo's `hideSchemaDetailsFromClientErrors`.
     */
    readonly suggestions: boolean;
    /**
     * On stop (SIGTERM): how long in-flight requests may take to finish, in milliseconds; then
     * their connections are closed and upstream calls still under way are cut off.
     */
    readonly shutdownGraceMs: number;
  };
  readonly upstream: {
    /** `embedded`: the gateway starts the built-in sandbox; `remote`: `url` is used as is. */
    readonly mode: "embedded" | "remote";
    /** Full URL of `call.cgi`; empty in embedded mode until the sandbox has started. */
    readonly url: string;
    readonly login: string;
    readonly password: string;
    /** Use a persistent session (`persistent=1`, `s_sessionid`) instead of sending the password. */
    readonly session: boolean;
    /** Timeout of reads and small changes, in milliseconds. */
    readonly timeoutMs: number;
    /** Timeout of orders, renewals, reissues, revokes and cancels, in milliseconds. */
    readonly orderTimeoutMs: number;
    /** Keep-alive connections in the pool. */
    readonly connections: number;
    /** Further attempts of a read after the first one failed temporarily. */
    readonly retries: number;
    /** Base delay of the exponential backoff between retries, in milliseconds. */
    readonly retryBaseMs: number;
    /** Consecutive transport failures or timeouts that open the circuit breaker. */
    readonly circuitFailures: number;
    /** How long the open circuit sends nothing before one read probes the upstream, in ms. */
    readonly circuitOpenMs: number;
  };
  readonly cache: {
    /** `memory` (in-process LRU), `redis` (shared) or `off`. */
    readonly kind: "memory" | "redis" | "off";
    /** `redis://` or `rediss://` URL when kind is `redis`. */
    readonly url: string;
  };
  readonly sandbox: {
    /** Interface `npm run sandbox` listens on (`0.0.0.0` in a container). */
    readonly host: string;
    readonly port: number;
    readonly accounts: readonly SandboxAccount[];
    /** Sample certificates created per account at start (demos); 0 for tests. */
    readonly seed: number;
    /** Added to every reply, in milliseconds. */
    readonly latencyMs: number;
    /** Time from order to passed validation, in milliseconds. */
    readonly issuanceDelayMs: number;
  };
  readonly gateway: {
    /** Most certificates fetched at once when a list needs full records. */
    readonly fetchConcurrency: number;
    /** Largest `first` a connection accepts. */
    readonly maxPageSize: number;
    /** How long an idempotency key and its result are kept, in milliseconds. */
    readonly idempotencyTtlMs: number;
    /**
     * How old an order, renewal or reissue with an unknown outcome must be before a retry with
     * its key that finds nothing upstream sends it again, in milliseconds: the order timeout
     * (`RRPPROXY_ORDER_TIMEOUT_MS`), so the upstream had as long to finish it as the gateway would
     * have waited for it. Not a variable of its own.
     */
    readonly reconcileAfterMs: number;
  };
  readonly auth: {
    /** `keys`: callers send `Authorization: Bearer <key>`; `passthrough`: their own credentials. */
    readonly mode: "keys" | "passthrough";
    /** The API keys (names, scopes, SHA-256 digests); empty means open (loopback/sandbox only). */
    readonly apiKeys: readonly ApiKeyEntry[];
  };
  readonly cors: {
    /** Exact browser origins allowed to call the API (with credentials). */
    readonly origins: readonly string[];
    /** Also allow loopback origins: outside production when no origin is listed. */
    readonly allowLoopback: boolean;
  };
  readonly limits: {
    /** Deepest field of an operation. */
    readonly maxDepth: number;
    /** Most aliases in a document. */
    readonly maxAliases: number;
    /** Most directive uses in a document. */
    readonly maxDirectives: number;
    /** Highest estimated cost of an operation (fields times list sizes). */
    readonly maxCost: number;
    /** Most tokens of a document (Apollo's `parseOptions.maxTokens`). */
    readonly maxTokens: number;
    /** Largest request body, in bytes. */
    readonly maxBodyBytes: number;
    /** Requests per minute per API key (per account in pass-through). */
    readonly rateLimitPerMinute: number;
    /** Cool-down of an account after the upstream's abuse lock (422), in milliseconds. */
    readonly upstreamBackoffMs: number;
  };
  readonly events: {
    /**
     * How often this replica's poller asks the upstream for new events, in milliseconds; 0: no
     * poller here (subscriptions and webhooks still get what other replicas poll).
     */
    readonly pollMs: number;
    /**
     * How long the poller's lease lasts without renewal, in milliseconds: when the replica holding
     * it dies, another one takes over after at most this long.
     */
    readonly leaseMs: number;
    /** Most events kept per upstream account in the history (`certificateEvents`). */
    readonly logMaxPerAccount: number;
    /** Days before expiry at which an `EXPIRING` event is raised, largest first; empty: off. */
    readonly expiryThresholdsDays: readonly number[];
    /** How often the expiry watch scans the certificates, in milliseconds. */
    readonly expiryScanMs: number;
  };
  readonly webhooks: {
    /** Allow webhook URLs on loopback, private and link-local addresses (tests, private networks). */
    readonly allowPrivateTargets: boolean;
    /** Timeout of one delivery attempt, in milliseconds. */
    readonly timeoutMs: number;
  };
  readonly subscriptions: {
    /** Most WebSocket connections this replica holds at once; 0: no WebSocket endpoint. */
    readonly maxConnections: number;
  };
  readonly log: {
    /** pino level; `silent` logs nothing. */
    readonly level: LogLevel;
  };
  readonly tracing: {
    /**
     * Base URL of an OTLP/HTTP receiver (`OTEL_EXPORTER_OTLP_ENDPOINT`, e.g.
     * `http://otel-collector:4318`); spans go to `<endpoint>/v1/traces`. Unset: tracing is off.
     */
    readonly endpoint?: string;
    /** `service.name` of the exported spans (`OTEL_SERVICE_NAME`). */
    readonly serviceName: string;
  };
}

/** I/O `loadConfig` may need, injectable so tests stay pure. */
export interface ConfigIo {
  /** Reads a UTF-8 text file (`GATEWAY_API_KEYS_FILE`); default `fs.readFileSync`. Throws when unreadable. */
  readonly readFile?: (path: string) => string;
}

function parseTracing(r: Reader): Config["tracing"] {
  const serviceName = r.string("OTEL_SERVICE_NAME");
  const text = r.raw("OTEL_EXPORTER_OTLP_ENDPOINT");
  if (text === undefined) {
    return { serviceName };
  }
  try {
    const url = new URL(text);
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new Error("protocol");
    }
    return { endpoint: text, serviceName };
  } catch {
    // Echo the value without its user info: an unusable URL may still carry credentials.
    const shown = text.replace(/\/\/[^/]*@/, "//***@");
    r.problems.push(
      `OTEL_EXPORTER_OTLP_ENDPOINT must be the http(s) base URL of an OTLP/HTTP receiver, e.g. http://otel-collector:4318 (got "${shown}")`,
    );
    return { serviceName };
  }
}

/** The levels `LOG_LEVEL` accepts. */
const LOG_LEVEL_NAMES: readonly LogLevel[] = [
  "fatal",
  "error",
  "warn",
  "info",
  "debug",
  "trace",
  "silent",
];

export const DEFAULTS = Object.freeze({
  PORT: "4000",
  HOST: "0.0.0.0",
  RRPPROXY_TIMEOUT_MS: "30000",
  RRPPROXY_ORDER_TIMEOUT_MS: "300000",
  RRPPROXY_CONNECTIONS: "64",
  RRPPROXY_RETRIES: "2",
  RRPPROXY_RETRY_BASE_MS: "200",
  RRPPROXY_SESSION: "0",
  RRPPROXY_CIRCUIT_FAILURES: "5",
  RRPPROXY_CIRCUIT_OPEN_MS: "10000",
  CACHE_URL: "memory",
  SANDBOX_PORT: "4100",
  SANDBOX_HOST: "127.0.0.1",
  SANDBOX_ACCOUNTS: "demo:demo",
  SANDBOX_SEED: "12",
  SANDBOX_LATENCY_MS: "0",
  SANDBOX_ISSUANCE_DELAY_MS: "3000",
  GATEWAY_FETCH_CONCURRENCY: "64",
  GATEWAY_MAX_PAGE_SIZE: "100",
  GATEWAY_IDEMPOTENCY_TTL_MS: String(24 * 60 * 60 * 1000),
  GATEWAY_AUTH: "keys",
  GATEWAY_RATE_LIMIT: "600",
  GATEWAY_UPSTREAM_BACKOFF_MS: "300000",
  GATEWAY_MAX_DEPTH: "12",
  GATEWAY_MAX_ALIASES: "30",
  GATEWAY_MAX_DIRECTIVES: "20",
  GATEWAY_MAX_COST: "10000",
  GATEWAY_MAX_TOKENS: "2000",
  GATEWAY_MAX_BODY_BYTES: "262144",
  GATEWAY_SHUTDOWN_GRACE_MS: "10000",
  GATEWAY_EVENT_LOG_MAX: "10000",
  GATEWAY_EXPIRY_THRESHOLDS_DAYS: "30,14,3",
  GATEWAY_EXPIRY_SCAN_MS: "3600000",
  GATEWAY_WEBHOOK_TIMEOUT_MS: "10000",
  GATEWAY_WS_MAX_CONNECTIONS: "1000",
  LOG_LEVEL: "info",
  OTEL_SERVICE_NAME: "rrpproxy-ssl-gateway",
});

/** Every problem of the configuration at once; the message lists them one per line. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map(p => `  - ${p}`).join("\n")}`);
  }
}

type Env = Record<string, string | undefined>;

class Reader {
  readonly problems: string[] = [];
  constructor(private readonly env: Env) {}

  raw(name: string): string | undefined {
    const v = this.env[name];
    return v === undefined || v.trim() === "" ? undefined : v.trim();
  }

  string(name: keyof typeof DEFAULTS): string {
    return this.raw(name) ?? DEFAULTS[name];
  }

  int(name: keyof typeof DEFAULTS, min: number, max: number): number {
    const text = this.string(name);
    const n = Number(text);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < min || n > max) {
      this.problems.push(`${name} must be a whole number from ${min} to ${max} (got "${text}")`);
      return Number(DEFAULTS[name]);
    }
    return n;
  }

  flag(name: string, fallback: boolean): boolean {
    const text = this.raw(name);
    if (text === undefined) {
      return fallback;
    }
    if (/^(1|true|yes|on)$/i.test(text)) {
      return true;
    }
    if (/^(0|false|no|off)$/i.test(text)) {
      return false;
    }
    this.problems.push(`${name} must be 1/true/yes/on or 0/false/no/off (got "${text}")`);
    return fallback;
  }
}

function parseAccounts(text: string, problems: string[]): SandboxAccount[] {
  const accounts: SandboxAccount[] = [];
  for (const entry of text.split(",")) {
    const item = entry.trim();
    const colon = item.indexOf(":");
    if (colon <= 0 || colon === item.length - 1) {
      // The entry may hold a password: name only its position.
      problems.push(
        `SANDBOX_ACCOUNTS entry ${accounts.length + 1} must be login:password (comma-separated list)`,
      );
      continue;
    }
    accounts.push({ login: item.slice(0, colon), password: item.slice(colon + 1) });
  }
  return accounts;
}

function parseUpstreamUrl(text: string, problems: string[]): string {
  const preset = (UPSTREAM_URLS as Record<string, string>)[text.toLowerCase()];
  if (preset) {
    return preset;
  }
  try {
    const url = new URL(text);
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new Error("protocol");
    }
    if (url.username || url.password) {
      problems.push(
        "RRPPROXY_URL must not contain credentials: use RRPPROXY_LOGIN and RRPPROXY_PASSWORD",
      );
      return "";
    }
    return url.toString();
  } catch {
    // Echo the value without its user info: an unusable URL may still carry credentials.
    const shown = text.replace(/\/\/[^/]*@/, "//***@");
    problems.push(
      `RRPPROXY_URL must be "live", "ote" or an http(s) URL of call.cgi (got "${shown}")`,
    );
    return "";
  }
}

function parseCache(text: string, problems: string[]): Config["cache"] {
  if (/^off$/i.test(text)) {
    return { kind: "off", url: "" };
  }
  if (/^memory$/i.test(text)) {
    return { kind: "memory", url: "" };
  }
  if (/^rediss?:\/\//i.test(text)) {
    try {
      new URL(text);
      return { kind: "redis", url: text };
    } catch {
      // fall through to the problem below
    }
  }
  problems.push('CACHE_URL must be "memory", "off" or a redis:// / rediss:// URL');
  return { kind: "memory", url: "" };
}

function parseAuth(r: Reader, readFile: (path: string) => string): Config["auth"] {
  const modeText = r.string("GATEWAY_AUTH").toLowerCase();
  let mode: Config["auth"]["mode"] = "keys";
  if (modeText === "passthrough") {
    mode = "passthrough";
  } else if (modeText !== "keys") {
    r.problems.push(`GATEWAY_AUTH must be "keys" or "passthrough" (got "${modeText}")`);
  }
  const text = r.raw("GATEWAY_API_KEYS");
  const file = r.raw("GATEWAY_API_KEYS_FILE");
  if (text !== undefined && file !== undefined) {
    r.problems.push("Set GATEWAY_API_KEYS or GATEWAY_API_KEYS_FILE, not both");
    return { mode, apiKeys: [] };
  }
  if (mode === "passthrough" && (text !== undefined || file !== undefined)) {
    r.problems.push(
      `${text !== undefined ? "GATEWAY_API_KEYS" : "GATEWAY_API_KEYS_FILE"} is not used with ` +
        "GATEWAY_AUTH=passthrough (callers send their own credentials): remove it",
    );
    return { mode, apiKeys: [] };
  }
  let parsed = { keys: [] as ApiKeyEntry[], problems: [] as string[] };
  if (text !== undefined) {
    parsed = parseApiKeys(text);
  } else if (file !== undefined) {
    let contents: string | undefined;
    try {
      contents = readFile(file);
    } catch (error) {
      const code = (error as { code?: unknown } | null)?.code;
      r.problems.push(
        `GATEWAY_API_KEYS_FILE: cannot read "${file}"${typeof code === "string" ? ` (${code})` : ""}`,
      );
    }
    if (contents !== undefined) {
      parsed = parseApiKeysFile(contents);
    }
  }
  r.problems.push(...parsed.problems);
  return { mode, apiKeys: parsed.keys };
}

function parseCors(r: Reader, production: boolean): Config["cors"] {
  const text = r.raw("GATEWAY_CORS_ORIGINS");
  if (text === undefined) {
    return { origins: [], allowLoopback: !production };
  }
  const { origins, problems } = parseCorsOrigins(text);
  r.problems.push(...problems);
  return { origins, allowLoopback: false };
}

/** The poll interval on the embedded sandbox, where issuance takes seconds (`SANDBOX_ISSUANCE_DELAY_MS`). */
export const EMBEDDED_EVENTS_POLL_MS = 2_000;
/** The poll interval against a remote upstream. */
export const REMOTE_EVENTS_POLL_MS = 30_000;
/** The shortest poll interval accepted (0 switches polling off). */
export const MIN_EVENTS_POLL_MS = 100;
/** The lease lasts this many poll intervals unless `GATEWAY_EVENTS_LEASE_MS` says otherwise. */
export const LEASE_POLL_INTERVALS = 3;

function parseEvents(r: Reader, mode: Config["upstream"]["mode"]): Config["events"] {
  const pollDefault = mode === "embedded" ? EMBEDDED_EVENTS_POLL_MS : REMOTE_EVENTS_POLL_MS;
  const pollText = r.raw("GATEWAY_EVENTS_POLL_MS");
  let pollMs = pollDefault;
  if (pollText !== undefined) {
    const n = Number(pollText);
    if (!/^\d+$/.test(pollText) || (n !== 0 && (n < MIN_EVENTS_POLL_MS || n > 3_600_000))) {
      r.problems.push(
        `GATEWAY_EVENTS_POLL_MS must be 0 (no poller) or a whole number from ${MIN_EVENTS_POLL_MS} ` +
          `to 3600000 (got "${pollText}")`,
      );
    } else {
      pollMs = n;
    }
  }
  const leaseDefault = LEASE_POLL_INTERVALS * (pollMs === 0 ? pollDefault : pollMs);
  const leaseText = r.raw("GATEWAY_EVENTS_LEASE_MS");
  let leaseMs = leaseDefault;
  if (leaseText !== undefined) {
    const n = Number(leaseText);
    if (!/^\d+$/.test(leaseText) || n < 1000 || n > 86_400_000) {
      r.problems.push(
        `GATEWAY_EVENTS_LEASE_MS must be a whole number from 1000 to 86400000 (got "${leaseText}")`,
      );
    } else if (pollMs > 0 && n <= pollMs) {
      r.problems.push(
        `GATEWAY_EVENTS_LEASE_MS (${n}) must be longer than GATEWAY_EVENTS_POLL_MS (${pollMs}), ` +
          "or the lease lapses between two polls",
      );
    } else {
      leaseMs = n;
    }
  }
  return {
    pollMs,
    leaseMs,
    logMaxPerAccount: r.int("GATEWAY_EVENT_LOG_MAX", 1, 1_000_000),
    expiryThresholdsDays: parseThresholds(r),
    expiryScanMs: r.int("GATEWAY_EXPIRY_SCAN_MS", 1000, 86_400_000),
  };
}

/**
 * `GATEWAY_EXPIRY_THRESHOLDS_DAYS`: comma-separated whole days from 1 to 3650, each once, in any
 * order (kept largest first); `off` switches the expiry watch off.
 */
function parseThresholds(r: Reader): readonly number[] {
  const text = r.string("GATEWAY_EXPIRY_THRESHOLDS_DAYS");
  if (/^(off|none)$/i.test(text)) {
    return [];
  }
  const items = text.split(",").map(item => item.trim());
  const days = items.map(Number);
  const valid = items.every(
    (item, index) => /^\d+$/.test(item) && (days[index] ?? 0) >= 1 && (days[index] ?? 0) <= 3650,
  );
  if (!valid || new Set(days).size !== days.length) {
    r.problems.push(
      "GATEWAY_EXPIRY_THRESHOLDS_DAYS must be distinct whole days from 1 to 3650, comma-separated " +
        `(e.g. 30,14,3), or off (got "${text}")`,
    );
    return DEFAULTS.GATEWAY_EXPIRY_THRESHOLDS_DAYS.split(",").map(Number);
  }
  return [...days].sort((a, b) => b - a);
}

function parseLogLevel(r: Reader): LogLevel {
  const text = r.raw("LOG_LEVEL")?.toLowerCase();
  if (text === undefined) {
    return r.raw("NODE_ENV") === "test" ? "silent" : "info";
  }
  const level = LOG_LEVEL_NAMES.find(name => name === text);
  if (!level) {
    r.problems.push(`LOG_LEVEL must be one of ${LOG_LEVEL_NAMES.join(", ")} (got "${text}")`);
    return "info";
  }
  return level;
}

/**
 * Parses the environment into a frozen `Config`. Throws `ConfigError` listing every problem.
 * With neither `RRPPROXY_URL` nor `RRPPROXY_LOGIN`, the gateway runs on the embedded sandbox.
 * The only I/O is reading `GATEWAY_API_KEYS_FILE`, through `io.readFile`.
 */
export function loadConfig(env: Env = process.env, io: ConfigIo = {}): Config {
  const readFile = io.readFile ?? ((path: string) => readFileSync(path, "utf8"));
  const r = new Reader(env);
  const production = (r.raw("NODE_ENV") ?? "") === "production";

  const urlText = r.raw("RRPPROXY_URL");
  const login = r.raw("RRPPROXY_LOGIN");
  const password = env.RRPPROXY_PASSWORD ?? "";
  let mode: Config["upstream"]["mode"] = "embedded";
  let url = "";
  if (urlText !== undefined) {
    mode = "remote";
    url = parseUpstreamUrl(urlText, r.problems);
    if (login === undefined) {
      r.problems.push("RRPPROXY_LOGIN is required when RRPPROXY_URL is set");
    }
    if (password === "") {
      r.problems.push("RRPPROXY_PASSWORD is required when RRPPROXY_URL is set");
    }
  } else if (login !== undefined) {
    r.problems.push(
      'RRPPROXY_URL is required with RRPPROXY_LOGIN: "ote" (the provider\'s test system), "live" or a URL',
    );
  }

  const accounts = parseAccounts(r.string("SANDBOX_ACCOUNTS"), r.problems);
  const firstAccount = accounts[0] ?? { login: "demo", password: "demo" };

  const orderTimeoutMs = r.int("RRPPROXY_ORDER_TIMEOUT_MS", 1, 3_600_000);
  const config: Config = {
    server: {
      port: r.int("PORT", 0, 65535),
      host: r.string("HOST"),
      production,
      exposeErrorDetails: r.flag("GATEWAY_EXPOSE_ERROR_DETAILS", !production),
      explorer: r.flag("GATEWAY_EXPLORER", !production),
      introspection: r.flag("GATEWAY_INTROSPECTION", !production),
      suggestions: r.flag("GATEWAY_SUGGESTIONS", !production),
      shutdownGraceMs: r.int("GATEWAY_SHUTDOWN_GRACE_MS", 0, 600_000),
    },
    upstream: {
      mode,
      url,
      login: mode === "remote" ? (login ?? "") : firstAccount.login,
      password: mode === "remote" ? password : firstAccount.password,
      session: r.flag("RRPPROXY_SESSION", false),
      timeoutMs: r.int("RRPPROXY_TIMEOUT_MS", 1, 3_600_000),
      orderTimeoutMs,
      connections: r.int("RRPPROXY_CONNECTIONS", 1, 256),
      retries: r.int("RRPPROXY_RETRIES", 0, 10),
      retryBaseMs: r.int("RRPPROXY_RETRY_BASE_MS", 0, 60_000),
      circuitFailures: r.int("RRPPROXY_CIRCUIT_FAILURES", 1, 1000),
      circuitOpenMs: r.int("RRPPROXY_CIRCUIT_OPEN_MS", 0, 3_600_000),
    },
    cache: parseCache(r.string("CACHE_URL"), r.problems),
    sandbox: {
      host: r.string("SANDBOX_HOST"),
      port: r.int("SANDBOX_PORT", 0, 65535),
      accounts,
      seed: r.int("SANDBOX_SEED", 0, 10_000),
      latencyMs: r.int("SANDBOX_LATENCY_MS", 0, 600_000),
      issuanceDelayMs: r.int("SANDBOX_ISSUANCE_DELAY_MS", 0, 86_400_000),
    },
    gateway: {
      fetchConcurrency: r.int("GATEWAY_FETCH_CONCURRENCY", 1, 256),
      maxPageSize: r.int("GATEWAY_MAX_PAGE_SIZE", 1, 1000),
      idempotencyTtlMs: r.int("GATEWAY_IDEMPOTENCY_TTL_MS", 86_400_000, 31 * 86_400_000),
      reconcileAfterMs: orderTimeoutMs,
    },
    auth: parseAuth(r, readFile),
    cors: parseCors(r, production),
    limits: {
      maxDepth: r.int("GATEWAY_MAX_DEPTH", 1, 100),
      maxAliases: r.int("GATEWAY_MAX_ALIASES", 0, 1000),
      maxDirectives: r.int("GATEWAY_MAX_DIRECTIVES", 0, 1000),
      maxCost: r.int("GATEWAY_MAX_COST", 1, 10_000_000),
      maxTokens: r.int("GATEWAY_MAX_TOKENS", 100, 1_000_000),
      maxBodyBytes: r.int("GATEWAY_MAX_BODY_BYTES", 1024, 64 * 1024 * 1024),
      rateLimitPerMinute: r.int("GATEWAY_RATE_LIMIT", 1, 1_000_000),
      upstreamBackoffMs: r.int("GATEWAY_UPSTREAM_BACKOFF_MS", 1000, 3_600_000),
    },
    events: parseEvents(r, mode),
    webhooks: {
      allowPrivateTargets: r.flag("GATEWAY_WEBHOOK_ALLOW_PRIVATE", false),
      timeoutMs: r.int("GATEWAY_WEBHOOK_TIMEOUT_MS", 100, 120_000),
    },
    subscriptions: {
      maxConnections: r.int("GATEWAY_WS_MAX_CONNECTIONS", 0, 1_000_000),
    },
    log: { level: parseLogLevel(r) },
    tracing: parseTracing(r),
  };
  if (r.problems.length > 0) {
    throw new ConfigError(r.problems);
  }
  return deepFreeze(config);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object") {
    for (const inner of Object.values(value as Record<string, unknown>)) {
      deepFreeze(inner);
    }
    Object.freeze(value);
  }
  return value;
}
