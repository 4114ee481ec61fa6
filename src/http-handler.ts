/**
 * The gateway's HTTP front: a small node:http integration of Apollo Server (no framework), so the
 * body limit, the routes and the error answers are ours. Apollo's own integrations do the same with
 * `executeHTTPGraphQLRequest`.
 */
import { type IncomingMessage, type ServerResponse, STATUS_CODES } from "node:http";
import { type Duplex } from "node:stream";
import { type ApolloServer, type BaseContext, HeaderMap } from "@apollo/server";
import { corsHeaders, type CorsSettings, handlePreflight, isPreflight } from "./cors";
import { type Logger, requestId, runWithLogger } from "./logger";
import { checkBatchSize } from "./query-limits";

/** What `/readyz` answers: whether to route traffic here, and the state of each dependency. */
export interface ReadinessReport {
  /** False: the load balancer should stop sending requests here (503). */
  readonly ready: boolean;
  /** Per dependency (`upstream`, `store`): `ok`, `down` or `off`. Shown in the body. */
  readonly checks: Readonly<Record<string, "ok" | "down" | "off">>;
}

export interface HttpHandlerOptions<TContext extends BaseContext> {
  readonly apollo: ApolloServer<TContext>;
  /** Builds the per-request context (fresh loaders). May throw a GraphQLError to refuse the request. */
  readonly context: (request: IncomingMessage) => Promise<TContext>;
  /** Largest accepted request body, in bytes. */
  readonly maxBodyBytes: number;
  /** Renders `/metrics` (Prometheus text format); without it the path answers 404. */
  readonly metrics?: () => Promise<{ contentType: string; body: string }>;
  /** Answers `/readyz`; a rejection counts as not ready. */
  readonly ready: () => Promise<ReadinessReport>;
  /** CORS of `/graphql` (`config.cors`); without it no CORS header is sent. */
  readonly cors?: CorsSettings;
  /** One child per request (its `requestId`), current while it runs; one access line each. */
  readonly logger?: Logger;
  /** Most operations in a batched POST; default 1 (any batch is refused with `BATCH_LIMIT`). */
  readonly maxBatchSize?: number;
}

class BodyTooLargeError extends Error {}

function readBody(request: IncomingMessage, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(request.headers["content-length"] ?? "0");
    if (declared > maxBytes) {
      reject(new BodyTooLargeError());
      request.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        reject(new BodyTooLargeError());
        request.resume();
        return;
      }
      chunks.push(chunk);
    });
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}

function sendJson(response: ServerResponse, status: number, body: unknown, headers = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  response.end(text);
}

function graphQLErrorBody(code: string, message: string): unknown {
  return { errors: [{ message, extensions: { code } }] };
}

/**
 * The `clientError` listener of the HTTP server: answers a request that node's HTTP parser refused
 * before the handler saw it (headers over node's 16 KiB: 431 `HEADERS_TOO_LARGE`; a malformed
 * request, or one that took too long to arrive: 400 or 408 `BAD_REQUEST`) with a JSON error like
 * every other answer, instead of node's empty one, and closes the connection. Never throws.
 */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === "ECONNRESET" || !socket.writable) {
    socket.destroy();
    return;
  }
  const [status, code, message] =
    error.code === "HPE_HEADER_OVERFLOW"
      ? [431, "HEADERS_TOO_LARGE", "The request headers are larger than the gateway accepts"]
      : error.code === "ERR_HTTP_REQUEST_TIMEOUT"
        ? [408, "BAD_REQUEST", "The request did not arrive in time"]
        : [400, "BAD_REQUEST", "The request is not valid HTTP"];
  const text = JSON.stringify(graphQLErrorBody(code, message));
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}\r\n` +
      "content-type: application/json; charset=utf-8\r\n" +
      `content-length: ${Buffer.byteLength(text)}\r\n` +
      "connection: close\r\n\r\n" +
      text,
  );
}

/**
 * Creates the request listener: `/graphql` (GET for the explorer and queries, POST for operations),
 * `/healthz` (process alive) and `/readyz` (upstream reachable; the stores' state in the body).
 * Everything else answers 404.
 */
export function createHttpHandler<TContext extends BaseContext>(
  options: HttpHandlerOptions<TContext>,
): (request: IncomingMessage, response: ServerResponse) => void {
  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? "/", "http://gateway.invalid");
    if (url.pathname === "/healthz") {
      sendJson(response, 200, { status: "ok" });
      return;
    }
    if (url.pathname === "/readyz") {
      const report = await options.ready().catch(() => undefined);
      const ok = report?.ready === true;
      sendJson(response, ok ? 200 : 503, {
        status: ok ? "ready" : "unavailable",
        ...(report ? { checks: report.checks } : {}),
      });
      return;
    }
    if (url.pathname === "/metrics" && options.metrics) {
      if (request.method !== "GET" && request.method !== "HEAD") {
        sendJson(response, 405, graphQLErrorBody("METHOD_NOT_ALLOWED", "Use GET on /metrics"), {
          allow: "GET",
        });
        return;
      }
      const { contentType, body } = await options.metrics();
      response.writeHead(200, {
        "content-type": contentType,
        "content-length": Buffer.byteLength(body),
      });
      response.end(request.method === "HEAD" ? undefined : body);
      return;
    }
    if (url.pathname !== "/graphql" && url.pathname !== "/graphql/") {
      sendJson(response, 404, graphQLErrorBody("NOT_FOUND", "Not found: the API is at /graphql"));
      return;
    }
    if (options.cors) {
      const origin = request.headers.origin;
      if (isPreflight(request.method, request.headers)) {
        const method = request.headers["access-control-request-method"];
        const answer = handlePreflight(
          origin,
          typeof method === "string" ? method : undefined,
          options.cors,
        );
        response.writeHead(answer.status, answer.headers);
        response.end();
        return;
      }
      for (const [key, value] of Object.entries(corsHeaders(origin, options.cors))) {
        response.setHeader(key, value);
      }
    }
    if (request.method !== "GET" && request.method !== "POST" && request.method !== "HEAD") {
      sendJson(
        response,
        405,
        graphQLErrorBody("METHOD_NOT_ALLOWED", "Use GET or POST on /graphql"),
        { allow: "GET, POST" },
      );
      return;
    }

    let body: unknown = undefined;
    if (request.method === "POST") {
      let text: string;
      try {
        text = await readBody(request, options.maxBodyBytes);
      } catch (error) {
        if (error instanceof BodyTooLargeError) {
          sendJson(
            response,
            413,
            graphQLErrorBody(
              "PAYLOAD_TOO_LARGE",
              `Request body larger than ${options.maxBodyBytes} bytes`,
            ),
          );
          return;
        }
        throw error;
      }
      const type = request.headers["content-type"] ?? "";
      if (/^application\/json/i.test(type)) {
        try {
          body = text === "" ? undefined : JSON.parse(text);
        } catch {
          sendJson(
            response,
            400,
            graphQLErrorBody("BAD_REQUEST", "The request body is not valid JSON"),
          );
          return;
        }
      } else {
        body = text;
      }
      const batchError = checkBatchSize(body, options.maxBatchSize ?? 1);
      if (batchError) {
        sendJson(
          response,
          400,
          graphQLErrorBody(String(batchError.extensions.code), batchError.message),
        );
        return;
      }
    }

    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(request.headers)) {
      if (value !== undefined) {
        headers.set(key, Array.isArray(value) ? value.join(", ") : value);
      }
    }
    const result = await options.apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: {
        method: request.method.toUpperCase(),
        headers,
        search: url.search,
        body,
      },
      context: () => options.context(request),
    });
    for (const [key, value] of result.headers) {
      response.setHeader(key, value);
    }
    response.statusCode = result.status ?? 200;
    if (result.body.kind === "complete") {
      response.end(result.body.string);
      return;
    }
    for await (const chunk of result.body.asyncIterator) {
      response.write(chunk);
    }
    response.end();
  }

  return (request, response) => {
    const id = requestId(request.headers);
    response.setHeader("x-request-id", id);
    const log = options.logger?.child({ requestId: id });
    if (log) {
      const started = performance.now();
      const path = (request.url ?? "/").split("?")[0];
      response.once("close", () =>
        log.info(
          {
            http: {
              method: request.method,
              path,
              status: response.statusCode,
              durationMs: Math.round((performance.now() - started) * 10) / 10,
            },
          },
          "http request",
        ),
      );
    }
    const run = (): Promise<void> => handle(request, response);
    (log ? runWithLogger(log, run) : run()).catch(() => {
      // A failure outside Apollo's own error handling: never a stack trace to the client.
      if (!response.headersSent) {
        sendJson(response, 500, graphQLErrorBody("INTERNAL_SERVER_ERROR", "Internal server error"));
      } else {
        response.destroy();
      }
    });
  };
}
