/**
 * The bench's GraphQL client: plain POSTs over one keep-alive undici `Agent`, as a frontend's
 * server-side code would send them.
 */
import { Agent } from "undici";

/** A GraphQL response body. */
export interface GraphQLResponse {
  readonly data?: unknown;
  readonly errors?: readonly { message: string; extensions?: { code?: string } }[];
}

/** A response with errors, or a non-JSON/non-2xx answer. */
export class GraphQLCallError extends Error {
  override readonly name = "GraphQLCallError";
}

/** Posts GraphQL operations; one per bench, closed at the end. */
export interface GraphQLClient {
  /** Resolves with the raw response (status, body); never rejects for GraphQL errors. */
  post(url: string, query: string, variables?: object): Promise<{ status: number; body: unknown }>;
  /** Resolves with `data`; rejects with `GraphQLCallError` on any error in the response. */
  query(url: string, query: string, variables?: object): Promise<unknown>;
  close(): Promise<void>;
}

/** Creates the client; `connections` bounds the sockets per origin. */
export function createGraphQLClient(connections = 64, timeoutMs = 60_000): GraphQLClient {
  const agent = new Agent({
    connections,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  const post = async (url: string, query: string, variables?: object) => {
    const response = await agent.request({
      origin: new URL(url).origin,
      path: new URL(url).pathname,
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query, variables }),
    });
    const text = await response.body.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: the caller sees the text
    }
    return { status: response.statusCode, body };
  };
  return {
    post,
    async query(url, query, variables) {
      const { status, body } = await post(url, query, variables);
      const response = (typeof body === "object" && body !== null ? body : {}) as GraphQLResponse;
      const first = response.errors?.[0];
      if (first) {
        const code = first.extensions?.code ? ` (${first.extensions.code})` : "";
        throw new GraphQLCallError(`${first.message}${code}`);
      }
      if (status !== 200 || response.data === undefined) {
        throw new GraphQLCallError(`HTTP ${status}: ${String(text(body)).slice(0, 200)}`);
      }
      return response.data;
    },
    close: () => agent.close(),
  };
}

function text(body: unknown): string {
  return typeof body === "string" ? body : JSON.stringify(body);
}
