/**
 * GraphQL subscriptions over WebSocket: graphql-ws (subprotocol `graphql-transport-ws`) on the
 * HTTP server's own port and path, so one URL serves both. Part of the composition root's
 * wiring; the HTTP API does not change.
 *
 * A connection is held to the same rules as an HTTP request:
 * - the caller authenticates once per connection, with `connectionParams.authorization` (what
 *   browsers can send) or the upgrade request's `Authorization` header, exactly as over HTTP;
 *   refused: closed with 4401 Unauthorized (4429 when over the rate limit);
 * - every `subscribe` message counts against the caller's rate limit and is parsed (token limit),
 *   validated with the HTTP API's rules (depth, aliases, directives, page sizes, operation guard),
 *   checked for scopes and cost before anything runs;
 * - browsers are held to the CORS origins (a foreign `Origin` is refused with 403 on upgrade);
 * - a bounded number of connections, of subscriptions per connection and of bytes per message.
 *
 * Only subscriptions run here: queries and mutations stay on HTTP, where the idempotency, cache
 * and logging plugins are. Every event is executed with a context of its own (fresh loaders), so
 * the certificate an event names is read as it is now, never from an earlier event's memo.
 */
import { type IncomingMessage, type Server, STATUS_CODES } from "node:http";
import { type Duplex } from "node:stream";
import { type ApolloServerPlugin, type BaseContext, HeaderMap } from "@apollo/server";
import {
  createSourceEventStream,
  type DocumentNode,
  execute,
  type ExecutionArgs,
  type ExecutionResult,
  getOperationAST,
  GraphQLError,
  type GraphQLFormattedError,
  type GraphQLSchema,
  OperationTypeNode,
  parse,
  specifiedRules,
  validate,
  type ValidationRule,
} from "graphql";
import { CloseCode, type Context as WsContext } from "graphql-ws";
import { useServer } from "graphql-ws/use/ws";
import { WebSocketServer } from "ws";
import { checkScopes, type Scope } from "./auth";
import { type CorsSettings, originVerdict } from "./cors";
import { type Logger } from "./logger";
import { checkCost } from "./query-limits";

/** Most subscriptions one connection may hold at once. */
export const MAX_SUBSCRIPTIONS_PER_CONNECTION = 20;
/** The close code of a connection refused for its rate limit (graphql-ws has none of its own). */
export const CLOSE_RATE_LIMITED = 4429;
/** graphql-js's suggestions, left out of validation errors as Apollo does when they are off. */
const DID_YOU_MEAN = / ?Did you mean(.+?)\?$/;
/** Interval of the server's WebSocket pings; a client that misses one is dropped, in ms. */
export const WS_KEEP_ALIVE_MS = 12_000;

/** Options of `attachSubscriptionServer`. */
export interface SubscriptionServerOptions<TCaller, TContext> {
  /** The gateway's HTTP server; only its `upgrade` requests on `path` are taken. */
  readonly httpServer: Server;
  readonly schema: GraphQLSchema;
  /** The path of the API (`/graphql`); a trailing slash is accepted as over HTTP. */
  readonly path: string;
  /**
   * Admits a connection whose caller sent `authorization` (undefined: nothing sent): resolves to
   * the caller, or rejects with the `GraphQLError` HTTP would answer (`UNAUTHENTICATED`,
   * `RATE_LIMITED`).
   */
  readonly connect: (authorization: string | undefined) => Promise<TCaller>;
  /** The context of one subscription of `caller`; counts as a request (rate limit). May reject. */
  readonly context: (caller: TCaller) => Promise<TContext>;
  /** The same caller's context with fresh loaders, for one event. No I/O. */
  readonly renew: (context: TContext) => TContext;
  /** The caller's scopes, as `createScopePlugin` reads them over HTTP. */
  readonly scopes: (context: TContext) => readonly Scope[];
  /** Validation rules beyond graphql-js's own (the HTTP API's `validationRules`). */
  readonly validationRules: readonly ValidationRule[];
  /** "Did you mean ...?" in validation errors (`config.server.suggestions`). */
  readonly suggestions: boolean;
  /** Apollo's `parseOptions.maxTokens`. */
  readonly maxTokens: number;
  readonly maxCost: number;
  readonly maxPageSize: number;
  /** Formats every error sent to a client (the HTTP API's `formatError`). */
  readonly formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
  /** Browser origins allowed (`config.cors`); a request without `Origin` is not a browser's. */
  readonly cors: CorsSettings;
  /** Most open connections; more are refused with 503 on upgrade. */
  readonly maxConnections: number;
  /** Largest message a client may send, in bytes. */
  readonly maxPayloadBytes: number;
  readonly logger?: Logger;
}

/** The WebSocket endpoint, attached to the HTTP server. */
export interface SubscriptionServer {
  /** Open WebSocket connections. */
  connections(): number;
  /** Subscriptions running (listening for events), across connections. */
  subscriptions(): number;
  /**
   * Refuses new connections and closes every open one with 1001 (going away); their
   * subscriptions end and stop listening. Idempotent.
   */
  stop(): Promise<void>;
}

/** What a connection keeps between messages. */
interface ConnectionState<TCaller> {
  caller?: TCaller;
  /** Ids of the connection's subscriptions that listen now. */
  readonly running: Set<string>;
}

/**
 * Attaches the graphql-ws endpoint to `options.httpServer` (its `upgrade` event) and returns it.
 * Upgrades on other paths are answered 404 and closed.
 */
export function attachSubscriptionServer<TCaller, TContext>(
  options: SubscriptionServerOptions<TCaller, TContext>,
): SubscriptionServer {
  const { schema, logger } = options;
  const rules = [...specifiedRules, ...options.validationRules];
  const states = new WeakMap<object, ConnectionState<TCaller>>();
  let running = 0;
  let stopping: Promise<void> | undefined;
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxPayloadBytes });

  const stateOf = (ctx: WsContext): ConnectionState<TCaller> => {
    let state = states.get(ctx);
    if (!state) {
      state = { running: new Set() };
      states.set(ctx, state);
    }
    return state;
  };
  const format = (error: GraphQLError): GraphQLFormattedError => {
    // graphql-ws wraps what a subscription's stream threw; the gateway's own error is inside.
    const cause = error.originalError ?? error;
    return options.formatError(
      cause instanceof GraphQLError ? cause.toJSON() : error.toJSON(),
      cause,
    );
  };

  const server = useServer<Record<string, unknown>, { request: IncomingMessage }>(
    {
      schema,
      async onConnect(ctx) {
        try {
          stateOf(ctx).caller = await options.connect(authorizationOf(ctx));
          logger?.debug({ ws: "connected" }, "websocket connected");
          return true;
        } catch (error) {
          const code = error instanceof GraphQLError ? error.extensions.code : undefined;
          const [closeCode, reason]: [number, string] =
            code === "UNAUTHENTICATED"
              ? [CloseCode.Unauthorized, "Unauthorized"]
              : code === "RATE_LIMITED"
                ? [CLOSE_RATE_LIMITED, "Too many requests"]
                : [CloseCode.InternalServerError, "Internal server error"];
          if (code !== "UNAUTHENTICATED" && code !== "RATE_LIMITED") {
            logger?.warn({ err: error }, "websocket connection failed");
          }
          // Closed here with the code HTTP's status maps to; graphql-ws's own close (4403) after
          // `false` then finds the socket closing and does nothing.
          ctx.extra.socket.close(closeCode, reason);
          return false;
        }
      },
      async onSubscribe(ctx, id, payload) {
        const state = stateOf(ctx);
        if (Object.keys(ctx.subscriptions).length > MAX_SUBSCRIPTIONS_PER_CONNECTION) {
          return [
            codedError(
              `At most ${MAX_SUBSCRIPTIONS_PER_CONNECTION} subscriptions per connection; ` +
                "complete one or open another connection",
              "BAD_REQUEST",
            ),
          ];
        }
        let document: DocumentNode;
        try {
          document = parse(payload.query, { maxTokens: options.maxTokens });
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          return [
            codedError(
              message,
              /Document contains more tha[nt] \d+ tokens/.test(message)
                ? "TOKEN_LIMIT"
                : "GRAPHQL_PARSE_FAILED",
            ),
          ];
        }
        const operation = getOperationAST(document, payload.operationName);
        if (!operation) {
          return [
            codedError(
              "No operation to run: operationName names none, or several without a name",
              "OPERATION_RESOLUTION_FAILURE",
            ),
          ];
        }
        if (operation.operation !== OperationTypeNode.SUBSCRIPTION) {
          return [
            codedError(
              "Only subscriptions are served over WebSocket; send queries and mutations as HTTP " +
                "POST to the same URL",
              "BAD_REQUEST",
            ),
          ];
        }
        const invalid = validate(schema, document, rules);
        if (invalid.length > 0) {
          return invalid.map(error =>
            error.extensions.code === undefined
              ? new GraphQLError(
                  options.suggestions ? error.message : error.message.replace(DID_YOU_MEAN, ""),
                  { nodes: error.nodes, extensions: { code: "GRAPHQL_VALIDATION_FAILED" } },
                )
              : error,
          );
        }
        const variables = payload.variables ?? undefined;
        const limited = checkCost(document, payload.operationName, variables, schema, {
          maxCost: options.maxCost,
          maxPageSize: options.maxPageSize,
        });
        const caller = state.caller;
        if (caller === undefined) {
          return [codedError("The connection is not authenticated", "UNAUTHENTICATED")];
        }
        let contextValue: TContext;
        try {
          contextValue = await options.context(caller);
        } catch (error) {
          return [
            error instanceof GraphQLError
              ? error
              : codedError("Internal server error", "INTERNAL_SERVER_ERROR"),
          ];
        }
        // Scopes first, as over HTTP: a caller without the scope learns nothing about the cost.
        const forbidden = checkScopes(
          document,
          payload.operationName,
          options.scopes(contextValue),
        );
        if (forbidden) {
          return [forbidden];
        }
        if (limited) {
          return [limited];
        }
        logger?.debug({ ws: "subscribe", id, operation: operation.name?.value }, "subscription");
        return {
          schema,
          document,
          operationName: payload.operationName,
          variableValues: variables,
          contextValue,
        };
      },
      subscribe: args => subscribeWithFreshContexts(args, options.renew),
      onOperation(ctx, id, _payload, _args, result) {
        if (isAsyncIterable(result)) {
          stateOf(ctx).running.add(id);
          running += 1;
        }
        return undefined;
      },
      onComplete(ctx, id) {
        if (stateOf(ctx).running.delete(id)) {
          running -= 1;
        }
      },
      onNext(_ctx, _id, _payload, _args, result) {
        const { errors, ...data } = result;
        return errors ? { ...data, errors: errors.map(format) } : data;
      },
      onError(_ctx, _id, _payload, errors) {
        return errors.map(format);
      },
      onClose(ctx) {
        const state = states.get(ctx);
        if (state) {
          running -= state.running.size;
          state.running.clear();
        }
      },
    },
    wss,
    WS_KEEP_ALIVE_MS,
  );

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const pathname = new URL(request.url ?? "/", "http://gateway.invalid").pathname;
    if (pathname !== options.path && pathname !== `${options.path}/`) {
      refuseUpgrade(socket, 404, "NOT_FOUND", `Not found: the API is at ${options.path}`);
      return;
    }
    if (stopping) {
      refuseUpgrade(socket, 503, "WEBSOCKET_UNAVAILABLE", "The gateway is shutting down");
      return;
    }
    const origin = request.headers.origin;
    if (origin !== undefined && originVerdict(origin, options.cors) === "denied") {
      refuseUpgrade(socket, 403, "BAD_REQUEST", "This origin may not open WebSockets here");
      return;
    }
    if (wss.clients.size >= options.maxConnections) {
      refuseUpgrade(
        socket,
        503,
        "WEBSOCKET_UNAVAILABLE",
        "Too many WebSocket connections; try later",
      );
      return;
    }
    wss.handleUpgrade(request, socket, head, ws => wss.emit("connection", ws, request));
  };
  options.httpServer.on("upgrade", onUpgrade);

  return {
    connections: () => wss.clients.size,
    subscriptions: () => running,
    stop() {
      stopping ??= (async () => {
        options.httpServer.off("upgrade", onUpgrade);
        // Closes every socket with 1001 and the server; the subscriptions' streams are returned.
        await server.dispose();
      })();
      return stopping;
    },
  };
}

/**
 * An Apollo plugin that refuses subscription operations over HTTP (`BAD_REQUEST`, 400) with a
 * pointer to the WebSocket endpoint, instead of running the subscription's resolver as a query.
 */
export function createHttpSubscriptionGuard<
  TContext extends BaseContext,
>(): ApolloServerPlugin<TContext> {
  return {
    requestDidStart() {
      return Promise.resolve({
        didResolveOperation({ operation }) {
          if (operation?.operation !== OperationTypeNode.SUBSCRIPTION) {
            return Promise.resolve();
          }
          return Promise.reject(
            new GraphQLError(
              "Subscriptions are served over WebSocket (graphql-ws, subprotocol " +
                "graphql-transport-ws) on this URL, not over HTTP",
              {
                extensions: {
                  code: "BAD_REQUEST",
                  http: { status: 400, headers: new HeaderMap() },
                },
              },
            ),
          );
        },
      });
    },
  };
}

/**
 * graphql-js's `subscribe`, except that each event is executed with `renew(context)`: the
 * operation's context is built once, but its loaders memoise reads, and an event must see the
 * certificate as it is after the event, not as an earlier event found it.
 */
async function subscribeWithFreshContexts<TContext>(
  args: ExecutionArgs,
  renew: (context: TContext) => TContext,
): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  const stream = await createSourceEventStream(args);
  if (!isAsyncIterable(stream)) {
    return stream;
  }
  const source = stream[Symbol.asyncIterator]();
  const mapped: AsyncIterableIterator<ExecutionResult> = {
    async next() {
      const item = await source.next();
      if (item.done) {
        return { value: undefined, done: true };
      }
      const value = await execute({
        ...args,
        rootValue: item.value,
        contextValue: renew(args.contextValue as TContext),
      });
      return { value, done: false };
    },
    async return() {
      // Straight to the source: it stops listening even while a `next()` waits for an event.
      await source.return?.();
      return { value: undefined, done: true };
    },
    async throw(error?: unknown) {
      await source.return?.();
      throw error instanceof Error ? error : new Error(String(error));
    },
    [Symbol.asyncIterator]() {
      return mapped;
    },
  };
  return mapped;
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === "function"
  );
}

/** The caller's credentials: `connectionParams` first (browsers), else the upgrade's header. */
function authorizationOf(ctx: WsContext<Record<string, unknown>, { request: IncomingMessage }>) {
  const params = ctx.connectionParams ?? {};
  const headers = params.headers;
  const candidates = [
    params.authorization,
    params.Authorization,
    typeof headers === "object" && headers !== null
      ? ((headers as Record<string, unknown>).authorization ??
        (headers as Record<string, unknown>).Authorization)
      : undefined,
  ];
  const sent = candidates.find((value): value is string => typeof value === "string");
  return sent ?? ctx.extra.request.headers.authorization;
}

function codedError(message: string, code: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code } });
}

/** Answers an upgrade request with a JSON error and closes the socket. */
function refuseUpgrade(socket: Duplex, status: number, code: string, message: string): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const text = JSON.stringify({ errors: [{ message, extensions: { code } }] });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}\r\n` +
      "content-type: application/json; charset=utf-8\r\n" +
      `content-length: ${Buffer.byteLength(text)}\r\n` +
      "connection: close\r\n\r\n" +
      text,
  );
}
