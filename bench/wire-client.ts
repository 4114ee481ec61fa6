/**
 * A direct client of the provider's wire protocol, as an integration would write it against the
 * API without the gateway: undici for HTTP, the repo's codec and command table for the text
 * format. No gateway code (no loaders, no cache, no retry policy).
 */
import { Pool } from "undici";
import { decodeReply, encodeRequest, type WireReply } from "../src/upstream/codec";
import { type CommandArgs, type CommandName, toWireCommand } from "../src/upstream/commands";

/** A reply whose code is not 2xx. */
export class WireCallError extends Error {
  override readonly name = "WireCallError";
  constructor(
    readonly command: string,
    readonly code: number,
    description: string,
  ) {
    super(`${command}: ${code} ${description}`);
  }
}

/** A keep-alive connection pool to the upstream. */
export interface WireClient {
  /** Sends one command; resolves with the decoded reply, rejects with `WireCallError` unless 2xx. */
  call<C extends CommandName>(command: C, args: CommandArgs<C>): Promise<WireReply>;
  close(): Promise<void>;
}

/** Options of `createWireClient`. */
export interface WireClientOptions {
  /** Full URL of call.cgi. */
  readonly url: string;
  readonly login: string;
  readonly password: string;
  /** Keep-alive connections: 1 for a sequential client, more than the widest fan-out for parallel. */
  readonly connections: number;
  /** Per request, in milliseconds. */
  readonly timeoutMs?: number;
}

/** Opens a pool to `options.url`. Does no I/O until the first call. */
export function createWireClient(options: WireClientOptions): WireClient {
  const url = new URL(options.url);
  const timeoutMs = options.timeoutMs ?? 30_000;
  const pool = new Pool(url.origin, {
    connections: options.connections,
    pipelining: 1,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  const credentials = { login: options.login, password: options.password };
  return {
    async call(command, args) {
      const response = await pool.request({
        method: "POST",
        path: url.pathname,
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: encodeRequest(toWireCommand(command, args), credentials),
      });
      const text = await response.body.text();
      if (response.statusCode !== 200) {
        throw new WireCallError(command, response.statusCode, `HTTP ${response.statusCode}`);
      }
      const reply = decodeReply(text);
      if (reply.code < 200 || reply.code >= 300) {
        throw new WireCallError(command, reply.code, reply.description);
      }
      return reply;
    },
    close: () => pool.close(),
  };
}
