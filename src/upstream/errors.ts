/**
 * The errors of the upstream client. Every failure of a call becomes one `UpstreamError` with a
 * stable `code`; transport failures are classified by undici's `err.code`, never by `instanceof`.
 * Messages, descriptions and causes are redacted when the error is built: they never hold the
 * password, a session id or the request body.
 */
import { type CommandKind, type CommandName } from "./commands";

/** The stable codes of `UpstreamError`; the GraphQL layer re-exports them. */
export type UpstreamErrorCode =
  /** The upstream could not be reached: connection refused or reset, DNS failure. */
  | "UPSTREAM_UNAVAILABLE"
  /** No reply in time (a read, or a request that never left the client). */
  | "UPSTREAM_TIMEOUT"
  /** A 4xx reply code: the same command may succeed later (422, the abuse lock, means minutes). */
  | "UPSTREAM_TEMPORARY"
  /** A 5xx reply code other than authentication: do not repeat the command unchanged. */
  | "UPSTREAM_REJECTED"
  /** Reply code 530, 531 or 535: login, password, session, role or IP address refused. */
  | "UPSTREAM_AUTHENTICATION"
  /** The upstream answered something that is not a reply of the protocol (HTTP status, body). */
  | "UPSTREAM_PROTOCOL"
  /** A write was (or may have been) sent and no reply arrived: it may have run. */
  | "UPSTREAM_OUTCOME_UNKNOWN";

/** Every `UpstreamErrorCode`, in a stable order. */
export const UPSTREAM_ERROR_CODES: readonly UpstreamErrorCode[] = Object.freeze([
  "UPSTREAM_UNAVAILABLE",
  "UPSTREAM_TIMEOUT",
  "UPSTREAM_TEMPORARY",
  "UPSTREAM_REJECTED",
  "UPSTREAM_AUTHENTICATION",
  "UPSTREAM_PROTOCOL",
  "UPSTREAM_OUTCOME_UNKNOWN",
]);

/** What an error is about: a command of the table, or the login that opens a session. */
export type UpstreamOperation = CommandName | "StartSession";

/** Reply codes that mean the credentials, the session or the source address were refused. */
const AUTHENTICATION_CODES: ReadonlySet<number> = new Set([530, 531, 535]);

/** The abuse lock: retrying makes it worse, the provider asks to wait minutes. */
const ABUSE_LOCK_CODE = 422;

/** What an `UpstreamError` is built from. `secrets` are removed from every text it keeps. */
export interface UpstreamErrorInit {
  readonly code: UpstreamErrorCode;
  readonly command: UpstreamOperation;
  readonly message: string;
  /** True when repeating the same call unchanged is safe and may succeed (later). */
  readonly retryable: boolean;
  readonly upstreamCode?: number;
  readonly upstreamDescription?: string;
  /** The failure underneath. It is not kept as is: see `UpstreamError.cause`. */
  readonly cause?: unknown;
  /** Texts that must not appear in the error (password, session ids), in any encoding. */
  readonly secrets?: readonly string[];
}

/**
 * A failed upstream call. Safe to log and to show: the message, the upstream description and
 * the cause are redacted at construction.
 *
 * - `code`: stable string, see `UpstreamErrorCode`.
 * - `command`: the upstream command (or `StartSession`, the login of session mode).
 * - `upstreamCode`/`upstreamDescription`: the reply's `code` and `description`, when there was one.
 * - `retryable`: repeating the same call unchanged is safe and may succeed. The client repeats
 *   reads itself; a retryable write (refused connection, 4xx reply) was never run and may be
 *   sent again by the caller.
 * - `outcomeUnknown`: true exactly for `UPSTREAM_OUTCOME_UNKNOWN`: a write may have run.
 * - `cause`: a plain `Error` holding the original failure's `name`, `code` and a redacted first
 *   line of its message, never the original object (undici errors may quote request options).
 */
export class UpstreamError extends Error {
  override readonly name = "UpstreamError";
  readonly code: UpstreamErrorCode;
  readonly command: UpstreamOperation;
  readonly upstreamCode?: number;
  readonly upstreamDescription?: string;
  readonly retryable: boolean;
  readonly outcomeUnknown: boolean;

  constructor(init: UpstreamErrorInit) {
    const secrets = init.secrets ?? [];
    super(
      redactSecrets(init.message, secrets),
      init.cause === undefined ? undefined : { cause: sanitizeCause(init.cause, secrets) },
    );
    this.code = init.code;
    this.command = init.command;
    if (init.upstreamCode !== undefined) {
      this.upstreamCode = init.upstreamCode;
    }
    if (init.upstreamDescription !== undefined) {
      this.upstreamDescription = redactSecrets(init.upstreamDescription, secrets);
    }
    this.retryable = init.retryable;
    this.outcomeUnknown = init.code === "UPSTREAM_OUTCOME_UNKNOWN";
  }
}

/** What the classifiers need to know about the failed request. */
export interface FailureContext {
  readonly command: UpstreamOperation;
  /** `read` for reads and the session login; `write` for everything that changes state. */
  readonly kind: CommandKind;
  /** The timeout that applied to the request, in milliseconds (for the message). */
  readonly timeoutMs?: number;
  readonly secrets?: readonly string[];
}

const REDACTED = "[REDACTED]";

/**
 * Replaces every occurrence of a secret in `text`, raw and in the encodings a request body or URL
 * would give it (`encodeURIComponent`, form encoding). Empty secrets are ignored.
 */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let result = text;
  for (const secret of secrets) {
    if (secret === "") {
      continue;
    }
    const forms = new Set([
      secret,
      encodeURIComponent(secret),
      new URLSearchParams({ s: secret }).toString().slice(2),
    ]);
    for (const form of forms) {
      result = result.split(form).join(REDACTED);
    }
  }
  return result;
}

/** Fields of the request form: a message that names them quotes the request. */
const FORM_FIELDS = /\bs_(?:login|pw|sessionid|command)\b|\bpersistent=1\b/i;
const MAX_CAUSE_MESSAGE = 200;

function property(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null
    ? (value as Record<string, unknown>)[key]
    : undefined;
}

/**
 * The code of a transport failure: `err.code`, else that of `err.cause` (fetch-style wrappers),
 * else that of the first of `err.errors` (`AggregateError` of a multi-address connect).
 */
export function transportCode(err: unknown): string | undefined {
  const direct = property(err, "code");
  if (typeof direct === "string") {
    return direct;
  }
  const inner = property(property(err, "cause"), "code");
  if (typeof inner === "string") {
    return inner;
  }
  const errors = property(err, "errors");
  if (Array.isArray(errors)) {
    const first = property(errors[0], "code");
    return typeof first === "string" ? first : undefined;
  }
  return undefined;
}

/**
 * A safe stand-in for a cause: a new `Error` with the original's name and code and the first
 * line of its message, cut short and redacted; withheld entirely when it quotes the request.
 */
function sanitizeCause(cause: unknown, secrets: readonly string[]): Error {
  const name = property(cause, "name");
  const rawMessage = typeof cause === "string" ? cause : property(cause, "message");
  let message = typeof rawMessage === "string" ? (rawMessage.split(/\r?\n/)[0] ?? "") : "";
  if (message.length > MAX_CAUSE_MESSAGE) {
    message = `${message.slice(0, MAX_CAUSE_MESSAGE)}…`;
  }
  if (FORM_FIELDS.test(message)) {
    message = "(message withheld: it quoted the request)";
  }
  const safe = new Error(redactSecrets(message, secrets));
  safe.name = typeof name === "string" && name !== "" ? name : "Error";
  const code = transportCode(cause);
  if (code !== undefined) {
    (safe as Error & { code?: string }).code = code;
  }
  return safe;
}

/** Failures in which no byte of the request can have reached the upstream. */
const NOT_SENT_CODES: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EAI_FAIL",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "ENETUNREACH",
  "ENETDOWN",
  "EADDRNOTAVAIL",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_CLOSED",
  "CERT_HAS_EXPIRED",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
]);

/** Failures that are timeouts (undici's own, or the socket's). */
const TIMEOUT_CODES: ReadonlySet<string> = new Set([
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "UND_ERR_CONNECT_TIMEOUT",
  "ETIMEDOUT",
]);

function neverSent(code: string | undefined): boolean {
  return code !== undefined && (NOT_SENT_CODES.has(code) || code.startsWith("ERR_TLS_"));
}

function outcomeUnknown(context: FailureContext, what: string, cause: unknown): UpstreamError {
  return new UpstreamError({
    code: "UPSTREAM_OUTCOME_UNKNOWN",
    command: context.command,
    message:
      `${context.command}: the request may have reached the upstream, but ${what}. ` +
      "The command may have run: " +
      "look its result up (Status*/Query*List) before sending it again; never repeat it blindly",
    retryable: false,
    cause,
    secrets: context.secrets,
  });
}

/**
 * Classifies a failure of the transport (the request did not produce a complete HTTP reply).
 * `timedOut` says the client's own deadline fired. Reads become `UPSTREAM_TIMEOUT` or
 * `UPSTREAM_UNAVAILABLE` (both retryable). A write becomes `UPSTREAM_OUTCOME_UNKNOWN` unless
 * the code proves that nothing was sent (refused connection, DNS, connect timeout, TLS).
 */
export function toTransportError(
  context: FailureContext,
  cause: unknown,
  { timedOut = false }: { timedOut?: boolean } = {},
): UpstreamError {
  const code = transportCode(cause);
  const timeout = timedOut || (code !== undefined && TIMEOUT_CODES.has(code));
  const within = context.timeoutMs === undefined ? "in time" : `within ${context.timeoutMs} ms`;
  const label = code ?? (timedOut ? "deadline" : "transport failure");
  if (context.kind === "write" && !neverSent(code)) {
    return outcomeUnknown(
      context,
      timeout ? `no reply arrived ${within}` : `the connection was lost (${label})`,
      cause,
    );
  }
  if (timeout) {
    return new UpstreamError({
      code: "UPSTREAM_TIMEOUT",
      command: context.command,
      message: `${context.command}: the upstream did not answer ${within} (${label})`,
      retryable: true,
      cause,
      secrets: context.secrets,
    });
  }
  return new UpstreamError({
    code: "UPSTREAM_UNAVAILABLE",
    command: context.command,
    message: `${context.command}: the upstream could not be reached (${label})`,
    retryable: true,
    cause,
    secrets: context.secrets,
  });
}

/**
 * A write whose request was handed to the connection pool and then aborted by the caller: it may
 * have reached the upstream, so the outcome is unknown.
 */
export function toAbortedWriteError(context: FailureContext, cause: unknown): UpstreamError {
  return outcomeUnknown(context, "the caller aborted it before the reply arrived", cause);
}

/**
 * Classifies a decoded reply whose code is not 2xx: 530/531/535 `UPSTREAM_AUTHENTICATION`,
 * other 5xx `UPSTREAM_REJECTED`, 4xx `UPSTREAM_TEMPORARY` (retryable except 422), anything else
 * `UPSTREAM_PROTOCOL`. The upstream code and description are kept (the description redacted).
 */
export function toReplyError(
  context: FailureContext,
  reply: { readonly code: number; readonly description: string },
): UpstreamError {
  const { code: upstreamCode, description: upstreamDescription } = reply;
  const base = {
    command: context.command,
    upstreamCode,
    upstreamDescription,
    secrets: context.secrets,
  };
  const said = `${upstreamCode} ${upstreamDescription}`;
  if (AUTHENTICATION_CODES.has(upstreamCode)) {
    return new UpstreamError({
      ...base,
      code: "UPSTREAM_AUTHENTICATION",
      message: `${context.command}: the upstream refused the credentials (${said})`,
      retryable: false,
    });
  }
  if (upstreamCode >= 400 && upstreamCode < 500) {
    const locked = upstreamCode === ABUSE_LOCK_CODE;
    return new UpstreamError({
      ...base,
      code: "UPSTREAM_TEMPORARY",
      message: locked
        ? `${context.command}: the upstream locked the account for abuse, wait minutes (${said})`
        : `${context.command}: the upstream failed temporarily (${said})`,
      retryable: !locked,
    });
  }
  if (upstreamCode >= 500 && upstreamCode < 600) {
    return new UpstreamError({
      ...base,
      code: "UPSTREAM_REJECTED",
      message: `${context.command} was rejected by the upstream (${said})`,
      retryable: false,
    });
  }
  return new UpstreamError({
    ...base,
    code: "UPSTREAM_PROTOCOL",
    message: `${context.command}: the upstream answered an unknown result code (${said})`,
    retryable: false,
  });
}

/**
 * The upstream answered, but not with a reply of the protocol: a non-2xx HTTP status or a body
 * without code/description. For reads (and for writes answered with HTTP 4xx, which the API never
 * saw) this is `UPSTREAM_PROTOCOL`. A write answered with HTTP 5xx or a garbled body may have run
 * behind a failing proxy or script, so it is `UPSTREAM_OUTCOME_UNKNOWN`.
 */
export function toProtocolError(
  context: FailureContext,
  detail: string,
  { httpStatus, cause }: { httpStatus?: number; cause?: unknown } = {},
): UpstreamError {
  const refusedBeforeApi = httpStatus !== undefined && httpStatus >= 400 && httpStatus < 500;
  if (context.kind === "write" && !refusedBeforeApi) {
    return outcomeUnknown(context, `the answer was not a reply of the protocol (${detail})`, cause);
  }
  return new UpstreamError({
    code: "UPSTREAM_PROTOCOL",
    command: context.command,
    message: `${context.command}: the upstream's answer is not a reply of the protocol (${detail})`,
    retryable: false,
    cause,
    secrets: context.secrets,
  });
}
