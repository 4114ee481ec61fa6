/**
 * Structured JSON logs (pino), one line per event, with secrets removed before a line is written:
 *
 * 1. Values under sensitive keys (`authorization`, `password`, `s_pw`, `s_sessionid`, `apiKey`,
 *    `csr`, `privateKey`, `cookie`, ...) are replaced by `[REDACTED]` at any depth.
 * 2. Strings are scrubbed of what a secret looks like inside text: `Bearer`/`Basic` credentials,
 *    form fields `s_pw=`/`s_sessionid=`/`password=`, PEM private keys and CSRs.
 * 3. pino's own `redact` paths (`REDACT_PATHS`) are a second line for the common places.
 *
 * The request id of each request is bound with `runWithLogger` (AsyncLocalStorage), so upstream
 * calls logged through `createUpstreamCallLogger` carry it without being handed a logger.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import {
  type ApolloServerPlugin,
  type BaseContext,
  type GraphQLRequestContextWillSendResponse,
} from "@apollo/server";
import { type DestinationStream, type Logger, pino } from "pino";
import { type UpstreamCallEvent } from "./upstream/client";

export { type Logger } from "pino";

/** The levels `LOG_LEVEL` accepts. */
export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

/** Every `LogLevel`, most severe first. */
export const LOG_LEVELS: readonly LogLevel[] = Object.freeze([
  "fatal",
  "error",
  "warn",
  "info",
  "debug",
  "trace",
  "silent",
]);

/** What replaces a secret. */
export const REDACTED = "[REDACTED]";

/**
 * Key names whose values are never logged, compared without case, `-` and `_`
 * (`s_pw`, `x-api-key`, `apiKey`, `api_key` all match).
 */
const SENSITIVE_KEYS: ReadonlySet<string> = new Set([
  "authorization",
  "proxyauthorization",
  "cookie",
  "setcookie",
  "password",
  "passwd",
  "pw",
  "spw",
  "ssessionid",
  "sessionid",
  "apikey",
  "apikeys",
  "xapikey",
  "token",
  "accesstoken",
  "secret",
  "csr",
  "privatekey",
  "key",
]);

/** pino `redact` paths: the usual places, at the top and up to two levels down. */
export const REDACT_PATHS: readonly string[] = Object.freeze(
  [
    "authorization",
    '["proxy-authorization"]',
    "cookie",
    '["set-cookie"]',
    "password",
    "s_pw",
    "s_sessionid",
    "sessionid",
    "apiKey",
    "api_key",
    '["x-api-key"]',
    "csr",
    "privateKey",
  ].flatMap(key => {
    const bracketed = key.startsWith("[");
    return [key, `*${bracketed ? "" : "."}${key}`, `*.*${bracketed ? "" : "."}${key}`];
  }),
);

/** Secrets as they appear inside text, with what replaces them. */
const TEXT_PATTERNS: readonly (readonly [RegExp, string])[] = [
  [
    /-----BEGIN ([A-Z0-9 ]*PRIVATE KEY)-----[\s\S]*?(-----END \1-----|$)/g,
    `${REDACTED} private key`,
  ],
  [
    /-----BEGIN (NEW )?CERTIFICATE REQUEST-----[\s\S]*?(-----END (NEW )?CERTIFICATE REQUEST-----|$)/g,
    `${REDACTED} CSR`,
  ],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, `$1 ${REDACTED}`],
  [
    /\b(s_pw|s_sessionid|sessionid|password|passwd|pw|api_?key|token)(\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s&,;"'}]+)/gi,
    `$1$2${REDACTED}`,
  ],
];

/** Removes what looks like a secret from `text` (see the module comment). Pure. */
export function scrubText(text: string): string {
  let result = text;
  for (const [pattern, replacement] of TEXT_PATTERNS) {
    result = result.replace(pattern, replacement);
  }
  return result;
}

function isSensitiveKey(key: string): boolean {
  return SENSITIVE_KEYS.has(key.toLowerCase().replace(/[-_]/g, ""));
}

const MAX_DEPTH = 8;

/**
 * A copy of `value` fit to log: sensitive keys redacted at any depth, strings scrubbed, errors
 * turned into `{ type, message, code, stack, cause }` (scrubbed). Cycles and anything deeper than
 * 8 levels become `"[...]"`. Pure; never throws.
 */
export function scrub(value: unknown): unknown {
  return scrubValue(value, 0, new WeakSet());
}

function scrubValue(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (typeof value === "string") {
    return scrubText(value);
  }
  if (typeof value !== "object" || value === null) {
    return value;
  }
  if (seen.has(value) || depth >= MAX_DEPTH) {
    return "[...]";
  }
  seen.add(value);
  try {
    if (value instanceof Error) {
      const code = (value as { code?: unknown }).code;
      return {
        type: value.name,
        message: scrubText(value.message),
        ...(typeof code === "string" || typeof code === "number" ? { code } : {}),
        ...(value.stack ? { stack: scrubText(value.stack) } : {}),
        ...(value.cause !== undefined ? { cause: scrubValue(value.cause, depth + 1, seen) } : {}),
      };
    }
    if (Array.isArray(value)) {
      return value.map(item => scrubValue(item, depth + 1, seen));
    }
    if (value instanceof Date) {
      return value;
    }
    if (value instanceof Map) {
      return scrubValue(Object.fromEntries(value), depth, seen);
    }
    const result: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) {
      result[key] = isSensitiveKey(key) ? REDACTED : scrubValue(inner, depth + 1, seen);
    }
    return result;
  } finally {
    seen.delete(value);
  }
}

/** Options of `createLogger`. */
export interface LoggerOptions {
  /** Default `info` (the config gives `silent` under `NODE_ENV=test`). */
  readonly level?: LogLevel;
  /** Where lines go; default stdout. Tests pass a `{ write(line) }` object. */
  readonly destination?: DestinationStream;
  /** `name` field of every line; default `rrpproxy-ssl-gateway`. */
  readonly name?: string;
}

/**
 * Creates the process's logger: JSON lines with `level` as a label, an ISO `time`, `name`, and
 * every logged object and message scrubbed of secrets. One per process; derive per-request
 * loggers with `logger.child({ requestId })`.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const settings = {
    level: options.level ?? "info",
    name: options.name ?? "rrpproxy-ssl-gateway",
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: [...REDACT_PATHS], censor: REDACTED },
    // Errors are already plain, scrubbed objects (see `scrub`); pino's serializer would
    // rename their type to "Object".
    serializers: { err: (value: unknown) => value },
    formatters: {
      level: (label: string) => ({ level: label }),
      bindings: (bindings: Record<string, unknown>) => scrub(bindings) as Record<string, unknown>,
      log: (object: Record<string, unknown>) => scrub(object) as Record<string, unknown>,
    },
    hooks: {
      logMethod(this: Logger, args: unknown[], method: (...rest: unknown[]) => void) {
        const [first, ...rest] = args;
        if (first instanceof Error) {
          // pino would take the message from the error itself, unscrubbed.
          const message = typeof rest[0] === "string" ? rest.shift() : first.message;
          method.apply(this, [{ err: first }, message, ...rest].map(scrubArgument));
          return;
        }
        method.apply(this, args.map(scrubArgument));
      },
    },
  };
  return options.destination ? pino(settings, options.destination) : pino(settings);
}

function scrubArgument(argument: unknown): unknown {
  // Objects are scrubbed by formatters.log; strings (message, format arguments) here.
  return typeof argument === "string" ? scrubText(argument) : argument;
}

/** What `X-Request-Id` must look like to be kept. */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** Request headers as node:http or Apollo's `HeaderMap` give them. */
export type HeaderSource =
  | Readonly<Record<string, string | readonly string[] | undefined>>
  | { get(name: string): string | undefined };

/**
 * The request's id: its `X-Request-Id` when that matches `REQUEST_ID_PATTERN`, else a new random
 * UUID. Send it back as `X-Request-Id` and bind it to the request's logger.
 */
export function requestId(headers: HeaderSource): string {
  const raw = headerValue(headers, "x-request-id");
  return raw !== undefined && REQUEST_ID_PATTERN.test(raw) ? raw : randomUUID();
}

/** One header's value (the first of repeated ones); `undefined` when absent. */
export function headerValue(headers: HeaderSource, name: string): string | undefined {
  if (typeof (headers as { get?: unknown }).get === "function") {
    return (headers as { get(name: string): string | undefined }).get(name) ?? undefined;
  }
  const value = (headers as Readonly<Record<string, string | readonly string[] | undefined>>)[
    name.toLowerCase()
  ];
  return typeof value === "string" ? value : value?.[0];
}

const storage = new AsyncLocalStorage<Logger>();

/** Runs `fn` with `logger` as the `currentLogger` of everything it starts (one request). */
export function runWithLogger<T>(logger: Logger, fn: () => T): T {
  return storage.run(logger, fn);
}

/** The logger of the request being handled (see `runWithLogger`), else `fallback`. */
export function currentLogger(fallback: Logger): Logger {
  return storage.getStore() ?? fallback;
}

/** Upstream reply codes worth a warning: the abuse lock and refused credentials. */
const WARN_REPLY_CODES: ReadonlySet<number> = new Set([422, 530, 531, 535]);

/**
 * Logs one upstream exchange as `{ upstream: { command, code, durationMs, attempt } }`, message
 * "upstream call": `warn` for transport failures, protocol errors, 422 and authentication codes,
 * `info` otherwise (a 5xx reply code is an answer, not a fault). Never throws.
 */
export function logUpstreamCall(logger: Logger, event: UpstreamCallEvent): void {
  const warn =
    typeof event.code === "number"
      ? WARN_REPLY_CODES.has(event.code)
      : event.code !== "ABORTED" && event.code !== "UPSTREAM_REJECTED";
  const entry = {
    upstream: {
      command: event.command,
      code: event.code,
      durationMs: Math.round(event.durationMs * 10) / 10,
      attempt: event.attempt,
    },
  };
  try {
    if (warn) {
      logger.warn(entry, "upstream call");
    } else {
      logger.info(entry, "upstream call");
    }
  } catch {
    // Logging must never fail a call.
  }
}

/**
 * An `onCall` hook for `createUpstreamClient`: logs every exchange with the logger of the
 * request it belongs to (`currentLogger(fallback)`), so it carries that request's id.
 */
export function createUpstreamCallLogger(fallback: Logger): (event: UpstreamCallEvent) => void {
  return event => logUpstreamCall(currentLogger(fallback), event);
}

/**
 * An Apollo plugin that logs one line per GraphQL request when the response is sent, with the
 * request's logger (`currentLogger(fallback)`): `graphql: { operationName, operationType,
 * status, durationMs, errorCodes }`, message "graphql request"; `warn` when there are errors.
 * Never logs variables or the query text.
 */
export function createRequestLogPlugin<TContext extends BaseContext>(
  fallback: Logger,
  now: () => number = () => performance.now(),
): ApolloServerPlugin<TContext> {
  return {
    requestDidStart() {
      const started = now();
      return Promise.resolve({
        willSendResponse(requestContext: GraphQLRequestContextWillSendResponse<TContext>) {
          const { response } = requestContext;
          const body = response.body;
          const errors =
            body.kind === "single" ? body.singleResult.errors : body.initialResult.errors;
          const codes = [
            ...new Set(
              (errors ?? []).map(error => {
                const code = error.extensions?.code;
                return typeof code === "string" ? code : "UNKNOWN";
              }),
            ),
          ];
          const entry = {
            graphql: {
              operationName: requestContext.operationName ?? requestContext.request.operationName,
              operationType: requestContext.operation?.operation,
              status: response.http.status ?? 200,
              durationMs: Math.round((now() - started) * 10) / 10,
              ...(codes.length > 0 ? { errorCodes: codes } : {}),
            },
          };
          const logger = currentLogger(fallback);
          if (codes.length > 0) {
            logger.warn(entry, "graphql request");
          } else {
            logger.info(entry, "graphql request");
          }
          return Promise.resolve();
        },
      });
    },
  };
}
