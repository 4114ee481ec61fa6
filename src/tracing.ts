/**
 * Optional OpenTelemetry tracing: one SERVER span per GraphQL operation (`graphql <operation>`)
 * and, under it, one CLIENT span per upstream command (`rrpproxy <Command>`), exported over
 * OTLP/HTTP (JSON) to `OTEL_EXPORTER_OTLP_ENDPOINT`. Long-lived: one per process, built by the
 * composition root.
 *
 * Off (no endpoint), it costs nothing: no OpenTelemetry module is loaded (they are `require`d
 * inside `createTracing`, only when on; this file imports their types only), no plugin is
 * installed and `wrapClient` hands back the client itself.
 *
 * Spans carry names, codes and timings only: never argument values (passwords, CSRs, contact
 * data), GraphQL documents or variables, nor error messages (they may quote what a caller sent).
 *
 * Nothing is registered globally (no global tracer provider, context manager or propagator): the
 * active span travels in an `AsyncLocalStorage` of this instance, so several instances (tests) do
 * not interfere, and other libraries' OpenTelemetry hooks stay no-ops.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { type ApolloServerPlugin, type BaseContext } from "@apollo/server";
// Namespace type imports: the modules are loaded lazily by `load` (below), never at import time.
import type * as OtelApi from "@opentelemetry/api";
import type * as OtlpHttpExporter from "@opentelemetry/exporter-trace-otlp-http";
import type * as OtelResources from "@opentelemetry/resources";
import type * as OtelSdk from "@opentelemetry/sdk-trace-base";
import { version } from "../package.json";
import { type CallOptions, type UpstreamCallEvent, type UpstreamClient } from "./upstream/client";
import { type WireReply } from "./upstream/codec";
import { type CommandArgs, type CommandName } from "./upstream/commands";

/** Options of `createTracing`. */
export interface TracingOptions {
  /**
   * Base URL of an OTLP/HTTP receiver (`OTEL_EXPORTER_OTLP_ENDPOINT`, e.g.
   * `http://otel-collector:4318`); spans are POSTed to `<endpoint>/v1/traces`. Unset or empty:
   * tracing is off.
   */
  readonly endpoint?: string;
  /** `service.name` of the exported resource (`OTEL_SERVICE_NAME`). */
  readonly serviceName: string;
  /**
   * Tests: where spans go instead of the OTLP exporter. Given, it turns tracing on even without
   * an `endpoint`.
   */
  readonly exporter?: OtelSdk.SpanExporter;
}

/** Tracing of one process. Every member is safe to call when off, and none of them throws. */
export interface Tracing {
  /** Whether spans are recorded and exported. */
  readonly enabled: boolean;
  /**
   * The Apollo plugin that opens the operation span of each request (kind SERVER, named
   * `graphql <operationName>`, `graphql (anonymous)` or, when the request never got that far,
   * `graphql (unknown)`; attributes `graphql.operation.name`/`.type`; status ERROR with the first
   * error's `extensions.code` when the response has errors). Upstream calls made by resolvers
   * through a `wrapClient` client become its children. `undefined` when off.
   */
  apolloPlugin<TContext extends BaseContext>(): ApolloServerPlugin<TContext> | undefined;
  /**
   * A client whose every `call` is a CLIENT span `rrpproxy <Command>`, child of the active span
   * (the operation's, inside resolvers; a root span elsewhere), with `rpc.system` `rrpproxy`,
   * `rpc.method` the command and `rrpproxy.code` the reply code (a number) or, when there was no
   * reply, the error's code (`UPSTREAM_TIMEOUT`, ...); failures also set `error.type` and status
   * ERROR. Retries of a read are inside one span. `client` itself when off.
   */
  wrapClient(client: UpstreamClient): UpstreamClient;
  /**
   * Adds one event `rrpproxy.attempt` (command, code, attempt, duration) to the active span: the
   * `onCall` of `createUpstreamClient`, so that retries and session logins show in the trace.
   * Synchronous; does nothing when off or outside a span.
   */
  onUpstreamCall(event: UpstreamCallEvent): void;
  /** Exports the spans ended so far. Never rejects (export failures are dropped). */
  flush(): Promise<void>;
  /**
   * Exports what is left and stops exporting; idempotent. Never rejects. Waits at most for the
   * OTLP exporter's timeout (10 s by default, `OTEL_EXPORTER_OTLP_TIMEOUT`): bound it on stop.
   */
  shutdown(): Promise<void>;
}

/** The instrumentation scope of every span. */
export const TRACER_NAME = "rrpproxy-ssl-gateway";

/** Path of the trace signal under an OTLP/HTTP base URL (OTLP specification). */
const TRACES_PATH = "v1/traces";

/** Names of the span attributes (OpenTelemetry semantic conventions where there is one). */
const ATTR = Object.freeze({
  rpcSystem: "rpc.system",
  rpcMethod: "rpc.method",
  code: "rrpproxy.code",
  errorType: "error.type",
  operationName: "graphql.operation.name",
  operationType: "graphql.operation.type",
  serviceName: "service.name",
  serviceVersion: "service.version",
});

/** Error codes as this gateway, Apollo and Node write them (`UPSTREAM_TIMEOUT`, `ECONNRESET`). */
const CODE_PATTERN = /^[A-Z][A-Z0-9_]{0,63}$/;

const OFF: Tracing = Object.freeze({
  enabled: false,
  apolloPlugin: () => undefined,
  wrapClient: (client: UpstreamClient) => client,
  onUpstreamCall: () => undefined,
  flush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
});

/**
 * Loads an OpenTelemetry module when tracing is on. A static import would load the SDK and the
 * exporter (some 250 modules, a third of a second at start) into every process, traced or not.
 */
function load<T>(id: string): T {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy on purpose, see above
  return require(id) as T;
}

/** `<endpoint>/v1/traces`, as the OTLP exporter specification derives it from the base URL. */
function tracesUrl(endpoint: string): string {
  const base = new URL(endpoint);
  if (base.protocol !== "http:" && base.protocol !== "https:") {
    throw new TypeError("createTracing: endpoint must be an http(s) URL");
  }
  if (!base.pathname.endsWith("/")) {
    base.pathname += "/";
  }
  return new URL(TRACES_PATH, base).toString();
}

function property(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null
    ? (value as Record<string, unknown>)[key]
    : undefined;
}

/**
 * The stable code of a failure: `code` (`UpstreamError`, Node), else `extensions.code`
 * (`GraphQLError`s of the rate limiter), else `ABORTED` for an abort, else `_OTHER`.
 */
function errorCode(error: unknown): string {
  for (const code of [property(error, "code"), property(property(error, "extensions"), "code")]) {
    if (typeof code === "string" && CODE_PATTERN.test(code)) {
      return code;
    }
  }
  return property(error, "name") === "AbortError" ? "ABORTED" : "_OTHER";
}

/**
 * The code a client sees for an error of the response (before `formatError`): its
 * `extensions.code`, else that of the error a resolver threw (`UPSTREAM_TIMEOUT`, ...).
 */
function responseErrorCode(error: unknown): string {
  const code = property(property(error, "extensions"), "code");
  return typeof code === "string" && CODE_PATTERN.test(code)
    ? code
    : errorCode(property(error, "originalError"));
}

/**
 * Creates the tracing of the process. Off (returns a shared no-op, loads nothing) unless
 * `endpoint` is a non-empty string or an `exporter` is given. On: a tracer provider with a batch
 * processor (`OTEL_BSP_*` apply) and the OTLP/HTTP JSON exporter (`OTEL_EXPORTER_OTLP_HEADERS`,
 * `_TIMEOUT`, `_COMPRESSION` apply; the URL is always `endpoint`'s). Nothing is sent until the
 * first span ends. Throws `TypeError` for an endpoint that is not an http(s) URL.
 */
export function createTracing(options: TracingOptions): Tracing {
  const endpoint = options.endpoint === "" ? undefined : options.endpoint;
  if (endpoint === undefined && options.exporter === undefined) {
    return OFF;
  }
  const url = endpoint === undefined ? undefined : tracesUrl(endpoint);
  const api = load<typeof OtelApi>("@opentelemetry/api");
  const sdk = load<typeof OtelSdk>("@opentelemetry/sdk-trace-base");
  const resources = load<typeof OtelResources>("@opentelemetry/resources");
  let exporter = options.exporter;
  if (exporter === undefined) {
    const { OTLPTraceExporter } = load<typeof OtlpHttpExporter>(
      "@opentelemetry/exporter-trace-otlp-http",
    );
    exporter = new OTLPTraceExporter({ url });
  }
  const provider = new sdk.BasicTracerProvider({
    resource: resources.defaultResource().merge(
      resources.resourceFromAttributes({
        [ATTR.serviceName]: options.serviceName,
        [ATTR.serviceVersion]: version,
      }),
    ),
    spanProcessors: [new sdk.BatchSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer(TRACER_NAME, version);
  const { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } = api;
  const storage = new AsyncLocalStorage<OtelApi.Context>();
  const active = (): OtelApi.Context => storage.getStore() ?? ROOT_CONTEXT;

  function apolloPlugin<TContext extends BaseContext>(): ApolloServerPlugin<TContext> {
    return {
      requestDidStart() {
        const parent = active();
        const span = tracer.startSpan("graphql", { kind: SpanKind.SERVER }, parent);
        const spanContext = trace.setSpan(parent, span);
        return Promise.resolve({
          didResolveOperation({ operation, operationName }) {
            if (operation) {
              span.setAttribute(ATTR.operationType, operation.operation);
            }
            if (operationName) {
              span.setAttribute(ATTR.operationName, operationName);
            }
            span.updateName(`graphql ${operationName ?? "(anonymous)"}`);
            return Promise.resolve();
          },
          executionDidStart() {
            // Apollo has no hook that wraps execution, so the span is entered rather than run
            // in: Apollo calls this hook from its own request pipeline, after that has awaited,
            // so the context reaches the resolvers (and their DataLoader batches) and ends with
            // the pipeline, without leaking to Apollo's caller or to other requests.
            storage.enterWith(spanContext);
            return Promise.resolve();
          },
          willSendResponse({ errors, operation }) {
            if (!operation) {
              span.updateName("graphql (unknown)");
            }
            const first = errors?.[0];
            if (first) {
              span.setStatus({ code: SpanStatusCode.ERROR, message: responseErrorCode(first) });
            }
            span.end();
            return Promise.resolve();
          },
        });
      },
    };
  }

  function wrapClient(client: UpstreamClient): UpstreamClient {
    async function call<C extends CommandName>(
      command: C,
      args: CommandArgs<C>,
      callOptions?: CallOptions,
    ): Promise<WireReply> {
      const parent = active();
      const span = tracer.startSpan(
        `rrpproxy ${command}`,
        {
          kind: SpanKind.CLIENT,
          attributes: { [ATTR.rpcSystem]: "rrpproxy", [ATTR.rpcMethod]: command },
        },
        parent,
      );
      try {
        const reply = await storage.run(trace.setSpan(parent, span), () =>
          client.call(command, args, callOptions),
        );
        span.setAttribute(ATTR.code, reply.code);
        return reply;
      } catch (error) {
        const code = errorCode(error);
        const upstreamCode = property(error, "upstreamCode");
        span.setAttribute(ATTR.code, typeof upstreamCode === "number" ? upstreamCode : code);
        span.setAttribute(ATTR.errorType, code);
        span.setStatus({ code: SpanStatusCode.ERROR, message: code });
        throw error;
      } finally {
        span.end();
      }
    }
    return { call, close: () => client.close() };
  }

  let stopping: Promise<void> | undefined;
  return Object.freeze({
    enabled: true,
    apolloPlugin,
    wrapClient,
    onUpstreamCall(event: UpstreamCallEvent) {
      try {
        trace.getSpan(active())?.addEvent("rrpproxy.attempt", {
          [ATTR.rpcMethod]: event.command,
          [ATTR.code]: event.code,
          "rrpproxy.attempt": event.attempt,
          "rrpproxy.duration_ms": event.durationMs,
        });
      } catch {
        // An observer must not change the outcome of a call.
      }
    },
    flush: () => provider.forceFlush().catch(() => undefined),
    shutdown: () => (stopping ??= provider.shutdown().catch(() => undefined)),
  });
}
