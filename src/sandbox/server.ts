/**
 * The sandbox server: the provider's SSL API over real HTTP (`POST /api/call.cgi`), with
 * accounts, persistent sessions, a call log and fault injection for client tests. One
 * `startSandbox` is one independent provider: its own CA, ids, accounts and state.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { type AddressInfo, type Socket } from "node:net";
import { decodeCommand, encodeReply, normalizeName } from "../upstream/codec";
import { createSandboxCa, type SandboxCa } from "./ca";
import { addMs, type Clock, formatStatusDate, systemClock } from "./clock";
import { type HandlerContext } from "./context";
import { canonicalCommand, runCommand } from "./dispatch";
import { createIdAllocator } from "./ids";
import { toCallParams } from "./params";
import { describe, type SandboxReply } from "./reply";
import { createSampleCsrFactory } from "./sample-csr";
import { seedAccount } from "./seed";
import { SandboxStore } from "./store";

/** A login of the sandbox. */
export interface SandboxAccount {
  login: string;
  password: string;
}

/** Options of `startSandbox`. */
export interface SandboxOptions {
  /** TCP port; 0 (the default) picks a free one. */
  port?: number;
  /** Interface to listen on; default `127.0.0.1` (loopback only). */
  host?: string;
  /** Accounts that may log in; default `demo:demo`. */
  accounts?: readonly SandboxAccount[];
  /** Sample certificates created per account at start (see `seed.ts`); default 0. */
  seed?: number;
  /** Added to every reply, in milliseconds; default 0. */
  latencyMs?: number;
  /** Time from an order to passed validation, in milliseconds; default 3000. */
  issuanceDelayMs?: number;
  /** The sandbox's clock; default real time. Transitions follow it (no timers run). */
  now?: () => Date;
}

/** One request the sandbox received, as the call log keeps it. */
export interface SandboxCall {
  /** The `s_login` of the request (`""` when none was sent). */
  account: string;
  /**
   * The command as the command table spells it (`StatusCertificate`), as received when unknown,
   * or `StartSession` for a session login (`persistent=1` without a command).
   */
  command: string;
  /** Parameters by lower-case name as received; `csr0..n`/`crt0..n` joined into `csr`/`crt`. */
  params: Record<string, string>;
  /** The reply's code; 0 when a transport fault was injected instead of a reply. */
  code: number;
  /** When the request arrived (sandbox clock). */
  at: Date;
}

/** A fault `failNext` injects instead of running the command. */
export type SandboxFault =
  /** A protocol reply with this code and description (HTTP 200). */
  | { code: number; description: string }
  /** The connection is destroyed without an answer. */
  | "reset"
  /** HTTP 200 with an empty body. */
  | "empty"
  /** HTTP 200 with a body that is not a reply of the protocol. */
  | "garbage"
  /** No answer at all until the client gives up or the sandbox stops. */
  | "hang"
  /**
   * The command runs, then the connection is destroyed before the answer: "it ran, but the
   * reply was lost". The only fault that lets the command run.
   */
  | "drop-after-run"
  /** This HTTP status with a short text body. */
  | { httpStatus: number };

/** A running sandbox. */
export interface SandboxHandle {
  /** Full URL of call.cgi, e.g. `http://127.0.0.1:41234/api/call.cgi`. */
  readonly url: string;
  readonly accounts: readonly SandboxAccount[];
  /** Every request received, in order of arrival. */
  readonly calls: readonly SandboxCall[];
  /** The calls of one command (name compared case-insensitively). */
  callsTo(command: string): SandboxCall[];
  /** Forgets the call log. */
  resetCalls(): void;
  /** The next call of `command` waits `ms` before it runs and is answered. Calls queue up. */
  delayNext(command: string, ms: number): void;
  /**
   * The next call of `command` gets `fault` instead of running (`drop-after-run`: after running).
   * Calls queue up.
   */
  failNext(command: string, fault: SandboxFault): void;
  /** Closes the server and every open socket and clears every timer. Idempotent. */
  stop(): Promise<void>;
}

/** Idle time after which a persistent session expires. */
export const SESSION_IDLE_MS = 60 * 60 * 1000;

/** Largest request body accepted, in bytes. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

const CALL_PATH = "/api/call.cgi";
const TEXT = "text/plain; charset=utf-8";
const CONTROL_FIELDS = new Set(["s_login", "s_pw", "s_sessionid", "s_command", "persistent"]);
const GARBAGE =
  "<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>\n";

interface Session {
  login: string;
  expiresAt: Date;
}

interface ParsedRequest {
  fields: Map<string, string>;
  params: Map<string, string>;
}

function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        resolve(undefined);
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function parseRequest(url: URL, body: string): ParsedRequest {
  const fields = new Map<string, string>();
  for (const source of [url.searchParams, new URLSearchParams(body)]) {
    for (const [key, value] of source) {
      fields.set(key.trim().toLowerCase(), value);
    }
  }
  const params = decodeCommand(fields.get("s_command") ?? "");
  // Older clients send one field per parameter; s_command wins where both name one.
  for (const [key, value] of fields) {
    const name = normalizeName(key);
    if (!CONTROL_FIELDS.has(key) && !params.has(name)) {
      params.set(name, value.trim());
    }
  }
  return { fields, params };
}

function reply(
  code: number,
  detail?: string,
  properties: SandboxReply["properties"] = [],
): SandboxReply {
  return { code, description: describe(code, detail), properties };
}

/**
 * Starts a sandbox and resolves once it listens: creates its CA, seeds every account with
 * `seed` sample certificates, and serves `POST /api/call.cgi`. Rejects when the port is taken.
 */
export async function startSandbox(options: SandboxOptions = {}): Promise<SandboxHandle> {
  const clock: Clock = options.now ?? systemClock;
  const accounts: readonly SandboxAccount[] = (
    options.accounts ?? [{ login: "demo", password: "demo" }]
  ).map(a => ({
    login: a.login,
    password: a.password,
  }));
  const latencyMs = options.latencyMs ?? 0;
  const issuanceDelayMs = options.issuanceDelayMs ?? 3000;
  const ca: SandboxCa = await createSandboxCa({ now: clock });
  const store = new SandboxStore(createIdAllocator());
  const csrs = createSampleCsrFactory();
  for (const account of accounts) {
    await seedAccount(
      { store, ca, account: store.account(account.login) },
      options.seed ?? 0,
      clock(),
      csrs,
    );
  }

  const calls: SandboxCall[] = [];
  const sessions = new Map<string, Session>();
  const delays = new Map<string, number[]>();
  const faults = new Map<string, SandboxFault[]>();
  const timers = new Map<NodeJS.Timeout, () => void>();
  const sockets = new Set<Socket>();
  let stopped = false;

  function sleep(ms: number): Promise<void> {
    if (ms <= 0 || stopped) {
      return Promise.resolve();
    }
    return new Promise(resolve => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.set(timer, resolve);
    });
  }

  function take<T>(queues: Map<string, T[]>, command: string): T | undefined {
    const key = command.toLowerCase();
    const queue = queues.get(key);
    const next = queue?.shift();
    if (queue && queue.length === 0) {
      queues.delete(key);
    }
    return next;
  }

  function send(
    res: ServerResponse,
    status: number,
    body: string,
    headers: Record<string, string> = {},
  ): void {
    if (res.writableEnded || res.destroyed) {
      return;
    }
    res.writeHead(status, {
      "content-type": TEXT,
      "content-length": Buffer.byteLength(body),
      ...headers,
    });
    res.end(body);
  }

  function authenticate(
    fields: Map<string, string>,
    now: Date,
  ): { login: string; session?: string } | SandboxReply {
    const login = fields.get("s_login") ?? "";
    if (login === "") {
      return reply(530, "s_login is missing");
    }
    const sessionId = fields.get("s_sessionid");
    if (sessionId !== undefined && sessionId !== "") {
      const session = sessions.get(sessionId);
      if (!session || session.login !== login || session.expiresAt.getTime() <= now.getTime()) {
        if (session && session.expiresAt.getTime() <= now.getTime()) {
          sessions.delete(sessionId);
        }
        return reply(530, "session expired or unknown");
      }
      session.expiresAt = addMs(now, SESSION_IDLE_MS);
      return { login, session: sessionId };
    }
    const account = accounts.find(a => a.login === login);
    if (!account || account.password !== (fields.get("s_pw") ?? "")) {
      return reply(530);
    }
    return { login };
  }

  async function answer(
    parsed: ParsedRequest,
    call: SandboxCall,
    now: Date,
  ): Promise<SandboxReply> {
    const auth = authenticate(parsed.fields, now);
    if ("code" in auth) {
      return auth;
    }
    const commandText = parsed.params.get("command");
    if (commandText === undefined || commandText === "") {
      if (parsed.fields.get("persistent") === "1" && auth.session === undefined) {
        for (const [id, session] of sessions) {
          if (session.expiresAt.getTime() <= now.getTime()) {
            sessions.delete(id);
          }
        }
        const id = store.ids.session();
        const expiresAt = addMs(now, SESSION_IDLE_MS);
        sessions.set(id, { login: auth.login, expiresAt });
        return reply(200, undefined, [
          ["expiration date", [formatStatusDate(expiresAt)]],
          ["sessionid", [id]],
        ]);
      }
      return reply(504, "command");
    }
    const command = canonicalCommand(commandText);
    if (!command) {
      return reply(500, `unknown command ${commandText}`);
    }
    if (command === "StopSession") {
      if (auth.session !== undefined) {
        sessions.delete(auth.session);
      }
      return reply(200);
    }
    const queuedAt = process.hrtime.bigint();
    return store.runExclusive(auth.login, async () => {
      const started = process.hrtime.bigint();
      const ctx: HandlerContext = {
        store,
        ca,
        account: store.account(auth.login),
        params: parsed.params,
        now: clock(),
        issuanceDelayMs,
      };
      const result = await runCommand(ctx, command);
      call.code = result.code;
      const queueSeconds = Number(started - queuedAt) / 1e9;
      const runSeconds = Number(process.hrtime.bigint() - started) / 1e9;
      return Object.assign(result, { runtime: runSeconds, queuetime: queueSeconds });
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://sandbox.invalid");
    if (url.pathname !== CALL_PATH) {
      send(res, 404, "Not Found\n");
      return;
    }
    if (req.method !== "POST") {
      send(res, 405, "Method Not Allowed\n", { allow: "POST" });
      return;
    }
    const body = await readBody(req);
    if (body === undefined) {
      send(res, 413, "Payload Too Large\n", { connection: "close" });
      return;
    }
    const now = clock();
    const parsed = parseRequest(url, body);
    const commandText = parsed.params.get("command") ?? "";
    const name =
      commandText === ""
        ? parsed.fields.get("persistent") === "1"
          ? "StartSession"
          : ""
        : (canonicalCommand(commandText) ?? commandText);
    const params = new Map(parsed.params);
    params.delete("command");
    const call: SandboxCall = {
      account: parsed.fields.get("s_login") ?? "",
      command: name,
      params: toCallParams(params),
      code: 0,
      at: now,
    };
    calls.push(call);

    const delay = take(delays, name);
    if (delay !== undefined) {
      await sleep(delay);
    }
    await sleep(latencyMs);
    if (stopped) {
      res.socket?.destroy();
      return;
    }
    const fault = take(faults, name);
    if (fault !== undefined && fault !== "drop-after-run") {
      respondWithFault(res, fault, call);
      return;
    }
    let result: SandboxReply & { runtime?: number; queuetime?: number };
    try {
      result = await answer(parsed, call, now);
    } catch (error) {
      result = reply(
        421,
        `sandbox failure: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    call.code = result.code;
    if (fault === "drop-after-run") {
      res.socket?.destroy();
      return;
    }
    send(
      res,
      200,
      encodeReply({
        code: result.code,
        description: result.description,
        runtime: result.runtime ?? 0,
        queuetime: result.queuetime ?? 0,
        properties: result.properties,
      }),
    );
  }

  function respondWithFault(
    res: ServerResponse,
    fault: Exclude<SandboxFault, "drop-after-run">,
    call: SandboxCall,
  ): void {
    if (fault === "reset") {
      res.socket?.destroy();
    } else if (fault === "empty") {
      send(res, 200, "");
    } else if (fault === "garbage") {
      send(res, 200, GARBAGE);
    } else if (fault === "hang") {
      // Left open: the client times out, or stop() destroys the socket.
    } else if ("httpStatus" in fault) {
      send(res, fault.httpStatus, `HTTP ${fault.httpStatus}\n`);
    } else {
      call.code = fault.code;
      send(
        res,
        200,
        encodeReply({ code: fault.code, description: fault.description, runtime: 0, queuetime: 0 }),
      );
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      send(
        res,
        500,
        `Internal Server Error: ${error instanceof Error ? error.message : String(error)}\n`,
      );
    });
  });
  server.on("connection", socket => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const urlHost =
    host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;

  let stopping: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}${CALL_PATH}`,
    accounts,
    calls,
    callsTo: command => calls.filter(c => c.command.toLowerCase() === command.toLowerCase()),
    resetCalls: () => {
      calls.length = 0;
    },
    delayNext: (command, ms) => {
      const key = (canonicalCommand(command) ?? command).toLowerCase();
      delays.set(key, [...(delays.get(key) ?? []), ms]);
    },
    failNext: (command, fault) => {
      const key = (canonicalCommand(command) ?? command).toLowerCase();
      faults.set(key, [...(faults.get(key) ?? []), fault]);
    },
    stop: () => {
      stopping ??= new Promise<void>(resolve => {
        stopped = true;
        for (const [timer, wake] of timers) {
          clearTimeout(timer);
          wake();
        }
        timers.clear();
        server.close(() => resolve());
        for (const socket of sockets) {
          socket.destroy();
        }
        server.closeAllConnections();
      });
      return stopping;
    },
  };
}
