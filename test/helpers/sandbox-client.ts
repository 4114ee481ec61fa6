/**
 * A tiny raw client of the sandbox for its own tests: encodes commands with the shared codec,
 * POSTs them over real HTTP with undici, and decodes the replies. No retries, no mapping.
 */
import { request } from "undici";
import {
  decodeReply,
  encodeRequest,
  encodeSessionRequest,
  type WireCommand,
  type WireCredentials,
  type WireReply,
  values,
} from "../../src/upstream/codec";

/** An HTTP answer as received. */
export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** A client bound to one sandbox URL and one set of credentials. */
export interface SandboxClient {
  /** Sends one command (`{ command: "StatusCertificate", certificate: "DK..." }`). */
  call(command: WireCommand): Promise<WireReply>;
  /** Sends one command with other credentials. */
  callAs(credentials: WireCredentials, command: WireCommand): Promise<WireReply>;
  /** POSTs a raw form body (or any method/path) and returns the answer undecoded. */
  raw(
    body: string,
    options?: { method?: "GET" | "POST" | "PUT"; path?: string; query?: string },
  ): Promise<RawAnswer>;
  /** POSTs a raw form body and decodes the reply. */
  rawCall(body: string): Promise<WireReply>;
  /** Opens a persistent session (`persistent=1`) and returns the decoded reply. */
  login(login?: string, password?: string): Promise<WireReply>;
}

/** Creates a client of the sandbox at `url` (its call.cgi) logging in as `credentials`. */
export function createSandboxClient(url: string, credentials: WireCredentials): SandboxClient {
  const base = new URL(url);

  async function raw(
    body: string,
    options: { method?: "GET" | "POST" | "PUT"; path?: string; query?: string } = {},
  ): Promise<RawAnswer> {
    const target = new URL(options.path ?? base.pathname, base);
    if (options.query) {
      target.search = options.query;
    }
    const response = await request(target, {
      method: options.method ?? "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: options.method === "GET" ? undefined : body,
    });
    return {
      status: response.statusCode,
      headers: response.headers,
      text: await response.body.text(),
    };
  }

  async function rawCall(body: string): Promise<WireReply> {
    const answer = await raw(body);
    if (answer.status !== 200) {
      throw new Error(`HTTP ${answer.status}: ${answer.text}`);
    }
    return decodeReply(answer.text);
  }

  return {
    call: command => rawCall(encodeRequest(command, credentials)),
    callAs: (other, command) => rawCall(encodeRequest(command, other)),
    raw,
    rawCall,
    login: (
      login = credentials.login,
      password = "password" in credentials ? credentials.password : "",
    ) => rawCall(encodeSessionRequest(login, password)),
  };
}

/** The first value of a property ("" when absent), for terse expectations. */
export function first(reply: WireReply, name: string): string {
  return values(reply, name)[0] ?? "";
}

/** All values of a property. */
export function all(reply: WireReply, name: string): string[] {
  return [...values(reply, name)];
}
