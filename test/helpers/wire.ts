/**
 * Test helpers for the wire protocol: golden fixture files and an undici `MockAgent` standing in
 * for the upstream's call.cgi, which records every request it saw (no sockets).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { MockAgent, type Interceptable } from "undici";
import { decodeCommand, encodeReply, type ReplyProperty } from "../../src/upstream/codec";

/** Where the golden frames live: `<manual section>-<command>.(reply|request).txt`. */
export const WIRE_FIXTURES = join(__dirname, "..", "fixtures", "wire");

/** The text of one fixture file, as stored. */
export function readFixture(name: string): string {
  return readFileSync(join(WIRE_FIXTURES, name), "utf8");
}

/** A golden `s_command` frame: the file without its final newline. */
export function readRequestFixture(name: string): string {
  return readFixture(name).replace(/\n$/, "");
}

/** The upstream of the client tests (any https origin works; no socket is ever opened). */
export const UPSTREAM_ORIGIN = "https://api-ote.rrpproxy.net";
/** The path of call.cgi on `UPSTREAM_ORIGIN`. */
export const UPSTREAM_PATH = "/api/call.cgi";
/** The full URL the client under test is given. */
export const UPSTREAM_URL = `${UPSTREAM_ORIGIN}${UPSTREAM_PATH}`;

/** One request as the mock upstream received it. */
export interface RecordedRequest {
  /** The form fields (`s_login`, `s_pw`, `s_sessionid`, `s_command`, `persistent`). */
  readonly fields: URLSearchParams;
  /** The decoded `s_command` (lower-case keys), or `undefined` for a session login. */
  readonly command: Map<string, string> | undefined;
  /** The raw `s_command` text. */
  readonly commandText: string | undefined;
  readonly headers: Record<string, string>;
  readonly method: string;
  readonly path: string;
}

/** A mock upstream: intercept replies on `pool`, pass `agent` to the client as dispatcher. */
export interface MockUpstream {
  readonly agent: MockAgent;
  readonly pool: Interceptable;
  /** Every request the agent dispatched, in order (intercepted or not). */
  requests(): RecordedRequest[];
  /** The commands (`COMMAND=` values) of the requests, `StartSession` for a login. */
  commands(): string[];
  close(): Promise<void>;
}

function headerRecord(headers: unknown): Record<string, string> {
  const record: Record<string, string> = {};
  if (headers && typeof headers === "object") {
    for (const [key, val] of Object.entries(headers as Record<string, unknown>)) {
      record[key.toLowerCase()] = String(val);
    }
  }
  return record;
}

/** Creates a `MockAgent` with net connect disabled and call history on. */
export function createMockUpstream(): MockUpstream {
  const agent = new MockAgent({ enableCallHistory: true });
  agent.disableNetConnect();
  const pool = agent.get(UPSTREAM_ORIGIN);
  const requests = (): RecordedRequest[] =>
    (agent.getCallHistory()?.calls() ?? []).map(log => {
      const fields = new URLSearchParams(typeof log.body === "string" ? log.body : "");
      const commandText = fields.get("s_command") ?? undefined;
      return {
        fields,
        command: commandText === undefined ? undefined : decodeCommand(commandText),
        commandText,
        headers: headerRecord(log.headers),
        method: log.method,
        path: log.path,
      };
    });
  return {
    agent,
    pool,
    requests,
    commands: () =>
      requests().map(r => (r.command ? (r.command.get("command") ?? "?") : "StartSession")),
    close: () => agent.close(),
  };
}

/** A reply body as the provider writes it. */
export function replyText(
  code: number,
  description: string,
  properties: readonly ReplyProperty[] = [],
): string {
  return encodeReply({ code, description, runtime: 0.01, queuetime: 0.001, properties });
}

/** The plain 200 reply. */
export const OK = replyText(200, "Command completed successfully");

/** An error carrying an undici/Node transport code, as `replyWithError` needs it. */
export function transportFailure(code: string, message = `simulated ${code}`): Error {
  return Object.assign(new Error(message), { code });
}
