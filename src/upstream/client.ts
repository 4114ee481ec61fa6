/**
 * The client of the upstream API: one undici `Pool` with keep-alive, the wire codec, optional
 * persistent sessions, per-command timeouts and retries of reads. Loaders and resolvers program
 * against the `UpstreamClient` interface; `createUpstreamClient` is called by the composition root.
 */
import { Pool, type Dispatcher } from "undici";
import { version } from "../../package.json";
import {
  decodeReply,
  encodeRequest,
  encodeSessionRequest,
  value,
  type WireCommand,
  type WireCredentials,
  type WireReply,
} from "./codec";
import {
  COMMANDS,
  toWireCommand,
  type CommandArgs,
  type CommandKind,
  type CommandName,
} from "./commands";
import {
  toAbortedWriteError,
  toProtocolError,
  toReplyError,
  toTransportError,
  UpstreamError,
  type UpstreamErrorCode,
  type UpstreamOperation,
} from "./errors";

/** Options of one call. */
export interface CallOptions {
  /** Aborts the call (the GraphQL request ended). A costly command aborted after sending is an unknown outcome. */
  readonly signal?: AbortSignal;
}

/** The upstream API as loaders and resolvers see it. One instance per process, shared. */
export interface UpstreamClient {
  /**
   * Sends one command and resolves with its decoded reply when the code is 2xx. Rejects with an
   * `UpstreamError` otherwise. Reads are retried as the command table allows; writes never.
   * When `options.signal` aborts, rejects with `signal.reason`, except for a write that may
   * already have reached the upstream: that rejects with `UPSTREAM_OUTCOME_UNKNOWN`.
   */
  call<C extends CommandName>(
    command: C,
    args: CommandArgs<C>,
    options?: CallOptions,
  ): Promise<WireReply>;
  /** Ends the persistent session, if any, and closes the connection pool. */
  close(): Promise<void>;
}

/** `User-Agent` of every request: `rrpproxy-ssl-gateway/<package version>`. */
export const USER_AGENT = `rrpproxy-ssl-gateway/${version}`;

/** Defaults of the optional `UpstreamClientOptions`. */
export const CLIENT_DEFAULTS = Object.freeze({
  session: false,
  timeoutMs: 30_000,
  orderTimeoutMs: 300_000,
  connections: 64,
  retries: 2,
  retryBaseMs: 200,
});

/** One HTTP exchange with the upstream, reported to `UpstreamClientOptions.onCall`. */
export interface UpstreamCallEvent {
  /** The command, `StartSession` for the login of session mode. */
  readonly command: UpstreamOperation;
  /** The reply code when a reply was decoded, else the error code; `ABORTED` if the caller aborted. */
  readonly code: number | UpstreamErrorCode | "ABORTED";
  /** Wall time of the exchange, in milliseconds. */
  readonly durationMs: number;
  /** 1 for the first attempt of a call, 2 for its first retry, and so on. */
  readonly attempt: number;
}

/** Options of `createUpstreamClient`. Secrets passed here never appear in errors or events. */
export interface UpstreamClientOptions {
  /** Full URL of `call.cgi`, e.g. `https://api-ote.rrpproxy.net/api/call.cgi`. */
  readonly url: string;
  /** Account login (`login:role` for a role user). */
  readonly login: string;
  /** Account password: sent only as `s_pw` (every call, or the session login); never in errors. */
  readonly password: string;
  /**
   * Log in once (`persistent=1`) and send `s_sessionid` instead of the password. Default `false`.
   * A call answered 530 (session expired) logs in again and is repeated once.
   */
  readonly session?: boolean;
  /** Timeout of one attempt of a read or small change, in milliseconds. Default 30 000 (30 s). */
  readonly timeoutMs?: number;
  /**
   * Timeout of one attempt of a command whose `COMMANDS[c].timeout` is `order` (orders, renewals,
   * reissues, revokes, cancels), in milliseconds. Default 300 000 (300 s, as the provider's SDKs
   * wait); orders usually answer within seconds to tens of seconds.
   */
  readonly orderTimeoutMs?: number;
  /** Keep-alive connections of the pool. Default 8. */
  readonly connections?: number;
  /** Further attempts of a read after a temporary failure (4xx but 422, transport). Default 2. */
  readonly retries?: number;
  /**
   * Base of the backoff, in milliseconds: before retry n (1-based) the client waits a uniformly
   * random time in `[0, retryBaseMs * 2 ** (n - 1))` ("full jitter"). Default 200.
   */
  readonly retryBaseMs?: number;
  /** Overrides `User-Agent`; default `USER_AGENT`. */
  readonly userAgent?: string;
  /**
   * A dispatcher to use instead of the client's own `Pool` (tests: `MockAgent`, or a Pool aimed at
   * the sandbox). The client does not close a dispatcher it did not create.
   */
  readonly dispatcher?: Dispatcher;
  /** Source of jitter in `[0, 1)`; default `Math.random`. */
  readonly random?: () => number;
  /** Waits `ms` milliseconds, rejecting with `signal.reason` on abort; default a timer. */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Observer of every HTTP exchange (logs, metrics). Must not throw; errors are ignored. */
  readonly onCall?: (event: UpstreamCallEvent) => void;
}

/** How one request is sent: which operation, its retry class and its timeout. */
interface RequestContext {
  readonly command: UpstreamOperation;
  readonly kind: CommandKind;
  readonly timeoutMs: number;
  readonly attempt: number;
}

const WIRE_CONTENT_TYPE = "application/x-www-form-urlencoded";

function isSuccess(code: number): boolean {
  return code >= 200 && code < 300;
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortReason(signal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function abortReason(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  return reason instanceof Error ? reason : new DOMException("The call was aborted", "AbortError");
}

/** Waits for `promise`, but rejects as soon as `signal` aborts (the promise is shared). */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) {
    return promise;
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortReason(signal));
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      result => {
        signal.removeEventListener("abort", onAbort);
        resolve(result);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

function positive(name: string, value: number, min: number): number {
  if (!Number.isFinite(value) || value < min) {
    throw new RangeError(`createUpstreamClient: ${name} must be a number >= ${min}`);
  }
  return value;
}

/**
 * Creates the client. No request is sent until the first `call`. In session mode, the first
 * calls share one login; `close()` ends the session (best effort) and closes the pool.
 *
 * Retries: only commands with `COMMANDS[c].kind === "read"` are repeated, on 4xx reply codes
 * other than 422 and on transport failures and timeouts, at most `retries` times. Writes are
 * never repeated; a write that may have reached the upstream and got no usable answer rejects
 * with `UPSTREAM_OUTCOME_UNKNOWN`.
 *
 * Throws `TypeError`/`RangeError` synchronously for an invalid URL or option.
 */
export function createUpstreamClient(options: UpstreamClientOptions): UpstreamClient {
  const url = new URL(options.url);
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new TypeError("createUpstreamClient: url must be an http(s) URL of call.cgi");
  }
  const origin = url.origin;
  const path = `${url.pathname}${url.search}`;
  const { login, password } = options;
  const sessionMode = options.session ?? CLIENT_DEFAULTS.session;
  const timeoutMs = positive("timeoutMs", options.timeoutMs ?? CLIENT_DEFAULTS.timeoutMs, 1);
  const orderTimeoutMs = positive(
    "orderTimeoutMs",
    options.orderTimeoutMs ?? CLIENT_DEFAULTS.orderTimeoutMs,
    1,
  );
  const connections = positive(
    "connections",
    options.connections ?? CLIENT_DEFAULTS.connections,
    1,
  );
  const retries = positive("retries", options.retries ?? CLIENT_DEFAULTS.retries, 0);
  const retryBaseMs = positive(
    "retryBaseMs",
    options.retryBaseMs ?? CLIENT_DEFAULTS.retryBaseMs,
    0,
  );
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? defaultSleep;
  const headers = {
    "content-type": WIRE_CONTENT_TYPE,
    "user-agent": options.userAgent ?? USER_AGENT,
  };
  const ownsDispatcher = options.dispatcher === undefined;
  // Tests inject a MockAgent; setGlobalDispatcher could not reach a Pool of our own.
  const dispatcher: Dispatcher =
    options.dispatcher ??
    new Pool(origin, {
      connections,
      // Keep-alive is on with undici's idle timeout (4 s, or the server's Keep-Alive hint). A
      // longer one risks reusing a socket the upstream has closed, which turns a write into an
      // unknown outcome.
      // The per-request timeouts below apply; these only keep undici from cutting orders short.
      headersTimeout: Math.max(timeoutMs, orderTimeoutMs),
      bodyTimeout: Math.max(timeoutMs, orderTimeoutMs),
    });

  // Every value that must never leave in an error: the password and each session id issued.
  const secrets: string[] = [password];
  let sessionId: string | undefined;
  let pendingLogin: Promise<string> | undefined;
  let closed = false;
  let closing: Promise<void> | undefined;

  function observe(context: RequestContext, code: UpstreamCallEvent["code"], started: number) {
    if (!options.onCall) {
      return;
    }
    try {
      options.onCall({
        command: context.command,
        code,
        durationMs: performance.now() - started,
        attempt: context.attempt,
      });
    } catch {
      // An observer must not change the outcome of a call.
    }
  }

  /**
   * One HTTP exchange: POST the form, read the body to the end, decode it. Resolves with the
   * reply whatever its code; rejects with an `UpstreamError` (transport, HTTP status, body) or,
   * when the caller aborted a read, with the signal's reason.
   */
  async function post(
    context: RequestContext,
    body: string,
    signal: AbortSignal | undefined,
  ): Promise<WireReply> {
    const failure = { ...context, secrets };
    const started = performance.now();
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new Error(`deadline of ${context.timeoutMs} ms exceeded`));
    }, context.timeoutMs);
    const forwardAbort = (): void => controller.abort(abortReason(signal));
    signal?.addEventListener("abort", forwardAbort, { once: true });
    let status: number;
    let text: string;
    try {
      const response = await dispatcher.request({
        origin,
        path,
        method: "POST",
        headers,
        body,
        signal: controller.signal,
        headersTimeout: context.timeoutMs,
        bodyTimeout: context.timeoutMs,
      });
      status = response.statusCode;
      // Always read the body to the end, even for errors, or the pooled socket is never freed.
      text = await response.body.text();
    } catch (cause) {
      if (signal?.aborted && !timedOut) {
        observe(context, "ABORTED", started);
        if (context.kind === "write") {
          throw toAbortedWriteError(failure, cause);
        }
        throw abortReason(signal);
      }
      const error = toTransportError(failure, cause, { timedOut });
      observe(context, error.code, started);
      throw error;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", forwardAbort);
    }
    if (status < 200 || status >= 300) {
      const error = toProtocolError(failure, `HTTP status ${status}`, { httpStatus: status });
      observe(context, error.code, started);
      throw error;
    }
    let reply: WireReply;
    try {
      reply = decodeReply(text);
    } catch (cause) {
      const error = toProtocolError(failure, "the body has no code or no description", { cause });
      observe(context, error.code, started);
      throw error;
    }
    observe(context, reply.code, started);
    return reply;
  }

  async function startSession(attempt: number): Promise<string> {
    const context: RequestContext = {
      command: "StartSession",
      kind: "read",
      timeoutMs,
      attempt,
    };
    // The login is shared by concurrent callers: no caller's signal may abort it.
    const reply = await post(context, encodeSessionRequest(login, password), undefined);
    if (!isSuccess(reply.code)) {
      throw toReplyError({ ...context, secrets }, reply);
    }
    const id = value(reply, "sessionid");
    if (id === undefined || id === "") {
      throw toProtocolError({ ...context, secrets }, "the login reply has no sessionid");
    }
    secrets.push(id);
    return id;
  }

  /** The current session id; concurrent first callers share one login (single flight). */
  function ensureSession(attempt: number): Promise<string> {
    if (sessionId !== undefined) {
      return Promise.resolve(sessionId);
    }
    pendingLogin ??= startSession(attempt)
      .then(id => {
        sessionId = id;
        return id;
      })
      .finally(() => {
        pendingLogin = undefined;
      });
    return pendingLogin;
  }

  async function attemptCall(
    context: RequestContext,
    wire: WireCommand,
    signal: AbortSignal | undefined,
    state: { relogged: boolean },
  ): Promise<WireReply> {
    let reply: WireReply;
    if (!sessionMode) {
      reply = await post(context, encodeRequest(wire, { login, password }), signal);
    } else {
      let id = await raceAbort(ensureSession(context.attempt), signal);
      const credentials = (sid: string): WireCredentials => ({ login, sessionId: sid });
      reply = await post(context, encodeRequest(wire, credentials(id)), signal);
      // 530: the session expired or was ended. The command did not run, so even a write may be
      // sent again, once, on a fresh session.
      if (reply.code === 530 && !state.relogged) {
        state.relogged = true;
        if (sessionId === id) {
          sessionId = undefined;
        }
        id = await raceAbort(ensureSession(context.attempt), signal);
        reply = await post(context, encodeRequest(wire, credentials(id)), signal);
      }
    }
    if (isSuccess(reply.code)) {
      return reply;
    }
    throw toReplyError({ ...context, secrets }, reply);
  }

  async function call<C extends CommandName>(
    command: C,
    args: CommandArgs<C>,
    callOptions: CallOptions = {},
  ): Promise<WireReply> {
    const { signal } = callOptions;
    if (signal?.aborted) {
      throw abortReason(signal);
    }
    if (closed) {
      throw new UpstreamError({
        code: "UPSTREAM_UNAVAILABLE",
        command,
        message: `${command}: the upstream client is closed`,
        retryable: false,
      });
    }
    const spec = COMMANDS[command];
    const commandTimeoutMs = spec.timeout === "order" ? orderTimeoutMs : timeoutMs;
    const wire = toWireCommand(command, args);
    const state = { relogged: false };
    for (let attempt = 1; ; attempt++) {
      const context: RequestContext = {
        command,
        kind: spec.kind,
        timeoutMs: commandTimeoutMs,
        attempt,
      };
      try {
        return await attemptCall(context, wire, signal, state);
      } catch (error) {
        const again =
          spec.kind === "read" &&
          error instanceof UpstreamError &&
          error.retryable &&
          attempt <= retries &&
          !signal?.aborted;
        if (!again) {
          throw error;
        }
        await sleep(Math.floor(random() * retryBaseMs * 2 ** (attempt - 1)), signal);
      }
    }
  }

  async function stopSession(): Promise<void> {
    await pendingLogin?.catch(() => undefined);
    const id = sessionId;
    sessionId = undefined;
    if (id === undefined) {
      return;
    }
    const context: RequestContext = {
      command: "StopSession",
      kind: "write",
      timeoutMs,
      attempt: 1,
    };
    const wire = toWireCommand("StopSession", {});
    try {
      await post(context, encodeRequest(wire, { login, sessionId: id }), undefined);
    } catch {
      // Best effort: the session expires on its own.
    }
  }

  function close(): Promise<void> {
    closed = true;
    closing ??= (async () => {
      await stopSession();
      if (ownsDispatcher) {
        await dispatcher.close();
      }
    })();
    return closing;
  }

  return { call, close };
}
