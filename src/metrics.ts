/**
 * Prometheus metrics of the gateway (`prom-client`), in a registry of their own: GraphQL
 * operations, upstream commands, the shared store, DataLoader batches, idempotency replays, rate
 * limits, the circuit breaker and Node's process metrics. Long-lived: one per process, built by the
 * composition root; tests build as many as they like, since nothing touches the global registry.
 *
 * Names follow Prometheus conventions: a `gateway_` prefix, base units (seconds), counters end in
 * `_total`. Label values that a client chooses (operation names, error codes) are bounded: past
 * `maxLabelValues` distinct values, further ones are reported as `(other)`, so a client cannot
 * grow the registry without limit.
 */
import { performance } from "node:perf_hooks";
import { type ApolloServerPlugin, type BaseContext } from "@apollo/server";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { type CacheStats } from "./cache";
import { type IdempotencyStore } from "./idempotency";
import { type RateLimiterStats } from "./rate-limit";
import { type CircuitState } from "./upstream/circuit-breaker";
import { type UpstreamCallEvent } from "./upstream/client";

/**
 * How a GraphQL request ended:
 * - `success`: no errors;
 * - `partial`: executed, with errors and (some) data;
 * - `error`: executed, with errors and no data;
 * - `rejected`: never executed: unparsable, invalid, over a limit, refused while building the
 *   context (authentication, rate limit) or an unknown persisted query.
 */
export type GraphQLOutcome = "success" | "partial" | "error" | "rejected";

/** Label value of an operation without a name. */
export const ANONYMOUS_OPERATION = "(anonymous)";
/** Label value of a request whose operation was never resolved (parse errors, refusals). */
export const UNKNOWN_OPERATION = "(unknown)";
/** Label value standing for every value past `maxLabelValues`. */
export const OTHER_LABEL_VALUE = "(other)";

/** Circuit-breaker state as the gauge reports it: higher is worse. */
export const CIRCUIT_STATE_VALUES: Readonly<Record<CircuitState, number>> = Object.freeze({
  closed: 0,
  "half-open": 1,
  open: 2,
});

/** Histogram buckets of request latencies, in seconds (orders may take minutes). */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = Object.freeze([
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300,
]);
/** Histogram buckets of DataLoader batch sizes (keys per batch). */
export const BATCH_SIZE_BUCKETS: readonly number[] = Object.freeze([
  1, 2, 5, 10, 20, 50, 100, 250, 500, 1000,
]);

/** Where the metrics read state at scrape time. Each source is optional; its metrics exist only with it. */
export interface MetricsSources {
  /** The shared store's counters (`GatewayCache.stats`). */
  readonly cacheStats?: () => CacheStats;
  /** The upstream circuit breaker's state (`CircuitBreaker.state`). */
  readonly circuitState?: () => CircuitState;
  /** The rate limiter's counters (`RateLimiter.stats`). */
  readonly rateLimiterStats?: () => RateLimiterStats;
}

/** Options of `createMetrics`. */
export interface MetricsOptions extends MetricsSources {
  /** Node's process metrics (`process_*`, `nodejs_*`); default `true`. */
  readonly defaultMetrics?: boolean;
  /** Most distinct values of a client-chosen label (operation, error code); default 200. */
  readonly maxLabelValues?: number;
}

/**
 * The gateway's metrics. Every function is synchronous, never throws, is safe to call often, and
 * needs no binding: pass `metrics.onUpstreamCall` or `metrics.observeBatchSize` around as they are.
 */
export interface GatewayMetrics {
  /** The registry holding every metric below (not prom-client's global one). */
  readonly registry: Registry;
  /** Records one GraphQL request; `metricsPlugin` calls it. `durationMs` may be omitted (not timed). */
  readonly recordOperation: (
    operation: string,
    outcome: GraphQLOutcome,
    durationMs?: number,
  ) => void;
  /**
   * Counts errors by `extensions.code` (`INTERNAL_SERVER_ERROR` when they have none, as clients
   * see them); `metricsPlugin` calls it.
   */
  readonly recordErrors: (errors: readonly ErrorWithCode[]) => void;
  /** Records one exchange with the upstream: the `onCall` of `createUpstreamClient`. */
  readonly onUpstreamCall: (event: UpstreamCallEvent) => void;
  /** Records the size of one DataLoader batch (`loader` is the DataLoader's `name`). */
  readonly observeBatchSize: (loader: string, size: number) => void;
  /** Counts one idempotency replay: a request answered with a stored result (`operation` as in the scope). */
  readonly recordIdempotencyReplay: (operation: string) => void;
}

/** An error as `recordErrors` reads it: a `GraphQLError`, or any `Error`. */
export interface ErrorWithCode {
  readonly extensions?: { readonly [key: string]: unknown };
}

/** What `metricsHandler` answers. */
export interface MetricsResponse {
  /** `text/plain; version=0.0.4; charset=utf-8` (Prometheus text exposition format). */
  readonly contentType: string;
  readonly body: string;
}

const DEFAULT_MAX_LABEL_VALUES = 200;
/** GraphQL names: operation names that are valid labels as they are. */
const GRAPHQL_NAME = /^[_A-Za-z][_0-9A-Za-z]{0,127}$/;
/** Error codes as this gateway and Apollo write them. */
const ERROR_CODE = /^[A-Z][A-Z0-9_]{0,63}$/;
/** Apollo's code for any error without one (what `formatError` shows). */
const UNCODED_ERROR = "INTERNAL_SERVER_ERROR";

/**
 * Keeps the first `max` distinct values of a label; later new values map to `(other)`. Values
 * that fail `pattern` map to `(other)` too, except the fixed ones in `fixed`.
 */
function boundedLabel(
  max: number,
  pattern: RegExp,
  fixed: readonly string[] = [],
): (value: string) => string {
  const seen = new Set<string>();
  return value => {
    if (fixed.includes(value)) {
      return value;
    }
    if (!pattern.test(value)) {
      return OTHER_LABEL_VALUE;
    }
    if (seen.has(value)) {
      return value;
    }
    if (seen.size >= max) {
      return OTHER_LABEL_VALUE;
    }
    seen.add(value);
    return value;
  };
}

/** Runs a scrape-time source; a throwing source leaves its metrics as they were. */
function read<T>(source: () => T): T | undefined {
  try {
    return source();
  } catch {
    return undefined;
  }
}

/**
 * Creates the metrics, in a new registry. With `defaultMetrics` (the default), Node's process
 * metrics are collected into it too. Scrape-time sources are read on every `registry.metrics()`.
 * Throws `RangeError` for a `maxLabelValues` below 1.
 */
export function createMetrics(options: MetricsOptions = {}): GatewayMetrics {
  const maxLabelValues = options.maxLabelValues ?? DEFAULT_MAX_LABEL_VALUES;
  if (!Number.isInteger(maxLabelValues) || maxLabelValues < 1) {
    throw new RangeError("createMetrics: maxLabelValues must be a whole number >= 1");
  }
  const registry = new Registry();
  const registers = [registry];
  if (options.defaultMetrics ?? true) {
    collectDefaultMetrics({ register: registry });
  }

  const operationLabel = boundedLabel(maxLabelValues, GRAPHQL_NAME, [
    ANONYMOUS_OPERATION,
    UNKNOWN_OPERATION,
  ]);
  const codeLabel = boundedLabel(maxLabelValues, ERROR_CODE);

  const graphqlRequests = new Counter({
    name: "gateway_graphql_requests_total",
    help: "GraphQL requests by operation name and outcome (success, partial, error, rejected).",
    labelNames: ["operation", "outcome"] as const,
    registers,
  });
  const graphqlDuration = new Histogram({
    name: "gateway_graphql_request_duration_seconds",
    help: "Time from the start of a GraphQL request to its response, in seconds.",
    labelNames: ["operation", "outcome"] as const,
    buckets: [...LATENCY_BUCKETS_SECONDS],
    registers,
  });
  const graphqlErrors = new Counter({
    name: "gateway_graphql_errors_total",
    help: "Errors in GraphQL responses by extensions.code.",
    labelNames: ["code"] as const,
    registers,
  });
  const upstreamCalls = new Counter({
    name: "gateway_upstream_requests_total",
    help: "HTTP exchanges with the upstream by command and result (reply code, or error code).",
    labelNames: ["command", "code"] as const,
    registers,
  });
  const upstreamDuration = new Histogram({
    name: "gateway_upstream_request_duration_seconds",
    help: "Wall time of one HTTP exchange with the upstream by command, in seconds.",
    labelNames: ["command"] as const,
    buckets: [...LATENCY_BUCKETS_SECONDS],
    registers,
  });
  const upstreamRetries = new Counter({
    name: "gateway_upstream_retries_total",
    help: "Exchanges with the upstream that were retries of a read (attempt 2 and later).",
    labelNames: ["command"] as const,
    registers,
  });
  const batchSizes = new Histogram({
    name: "gateway_dataloader_batch_size",
    help: "Keys per DataLoader batch by loader.",
    labelNames: ["loader"] as const,
    buckets: [...BATCH_SIZE_BUCKETS],
    registers,
  });
  const idempotencyReplays = new Counter({
    name: "gateway_idempotency_replays_total",
    help: "Requests with an idempotency key answered with the stored result of an earlier one.",
    labelNames: ["operation"] as const,
    registers,
  });

  // Scrape-time mirrors of counts kept elsewhere: a prom-client counter cannot be set, so each
  // collect resets it and adds the cumulative count (monotonic, as the sources' counters are).
  const { cacheStats, circuitState, rateLimiterStats } = options;
  if (cacheStats) {
    for (const kind of ["hits", "misses", "errors"] as const) {
      new Counter({
        name: `gateway_cache_${kind}_total`,
        help: `Shared store ${kind} by namespace (CACHE_URL).`,
        labelNames: ["namespace"] as const,
        registers,
        collect() {
          const stats = read(cacheStats);
          if (stats) {
            this.reset();
            for (const [namespace, counters] of Object.entries(stats.byNamespace)) {
              this.inc({ namespace }, counters[kind]);
            }
          }
        },
      });
    }
    new Counter({
      name: "gateway_cache_connection_errors_total",
      help: "Failed (re)connection attempts to the shared store (Redis).",
      registers,
      collect() {
        const stats = read(cacheStats);
        if (stats) {
          this.reset();
          this.inc(stats.connectionErrors);
        }
      },
    });
  }
  if (circuitState) {
    new Gauge({
      name: "gateway_upstream_circuit_state",
      help: "State of the upstream circuit breaker: 0 closed, 1 half-open, 2 open.",
      registers,
      collect() {
        const state = read(circuitState);
        if (state !== undefined) {
          this.set(CIRCUIT_STATE_VALUES[state]);
        }
      },
    });
  }
  if (rateLimiterStats) {
    const mirrors = [
      ["gateway_rate_limit_rejections_total", "Requests refused by the rate limit.", "limited"],
      [
        "gateway_rate_limit_store_errors_total",
        "Rate-limit store calls that failed, so this replica decided alone.",
        "storeErrors",
      ],
    ] as const;
    for (const [name, help, field] of mirrors) {
      new Counter({
        name,
        help,
        registers,
        collect() {
          const stats = read(rateLimiterStats);
          if (stats) {
            this.reset();
            this.inc(stats[field]);
          }
        },
      });
    }
  }

  return {
    registry,
    recordOperation: (operation, outcome, durationMs) => {
      const labels = { operation: operationLabel(operation), outcome };
      graphqlRequests.inc(labels);
      if (durationMs !== undefined && Number.isFinite(durationMs) && durationMs >= 0) {
        graphqlDuration.observe(labels, durationMs / 1000);
      }
    },
    recordErrors: errors => {
      for (const error of errors) {
        const code = error.extensions?.code;
        graphqlErrors.inc({ code: codeLabel(typeof code === "string" ? code : UNCODED_ERROR) });
      }
    },
    onUpstreamCall: event => {
      try {
        const command = String(event.command);
        upstreamCalls.inc({ command, code: String(event.code) });
        if (Number.isFinite(event.durationMs) && event.durationMs >= 0) {
          upstreamDuration.observe({ command }, event.durationMs / 1000);
        }
        if (event.attempt > 1) {
          upstreamRetries.inc({ command });
        }
      } catch {
        // An observer must not change the outcome of a call.
      }
    },
    observeBatchSize: (loader, size) => {
      if (Number.isFinite(size) && size >= 0) {
        batchSizes.observe({ loader }, size);
      }
    },
    recordIdempotencyReplay: operation => {
      idempotencyReplays.inc({ operation });
    },
  };
}

/**
 * An Apollo Server plugin recording every GraphQL request: operation name, outcome and latency
 * (`gateway_graphql_requests_total`, `gateway_graphql_request_duration_seconds`) and its errors by
 * code (`gateway_graphql_errors_total`). Requests refused while building the context (401, 429)
 * or malformed at the HTTP level count as `rejected` operations of `(unknown)`, without latency.
 */
export function metricsPlugin<TContext extends BaseContext>(
  metrics: GatewayMetrics,
): ApolloServerPlugin<TContext> {
  const refused = (error: Error): Promise<void> => {
    metrics.recordOperation(UNKNOWN_OPERATION, "rejected");
    metrics.recordErrors([error as ErrorWithCode]);
    return Promise.resolve();
  };
  return {
    contextCreationDidFail: ({ error }) => refused(error),
    invalidRequestWasReceived: ({ error }) => refused(error),
    requestDidStart() {
      const started = performance.now();
      let executed = false;
      return Promise.resolve({
        executionDidStart() {
          executed = true;
          return Promise.resolve();
        },
        willSendResponse(requestContext) {
          const errors = requestContext.errors ?? [];
          const body = requestContext.response.body;
          const result = body?.kind === "incremental" ? body.initialResult : body?.singleResult;
          const hasData = result?.data !== undefined && result.data !== null;
          const outcome: GraphQLOutcome =
            errors.length === 0
              ? "success"
              : !executed
                ? "rejected"
                : hasData
                  ? "partial"
                  : "error";
          const operation = !requestContext.operation
            ? UNKNOWN_OPERATION
            : (requestContext.operationName ?? ANONYMOUS_OPERATION);
          metrics.recordOperation(operation, outcome, performance.now() - started);
          metrics.recordErrors(errors);
          return Promise.resolve();
        },
      });
    },
  };
}

/**
 * The `/metrics` endpoint's answer: the registry in Prometheus text format. Resolves with the
 * content type and body to send with status 200; never rejects for a failing source (its metrics
 * keep their last values). Serve it on GET only, and keep it off the public load balancer.
 */
export function metricsHandler(metrics: GatewayMetrics): () => Promise<MetricsResponse> {
  return async () => ({
    contentType: metrics.registry.contentType,
    body: await metrics.registry.metrics(),
  });
}

/**
 * Wraps an idempotency store so that every replay is counted: a `run` that resolves without
 * calling its `send` got an earlier request's result (stored, or shared while in flight).
 */
export function withReplayMetrics(
  store: IdempotencyStore,
  metrics: Pick<GatewayMetrics, "recordIdempotencyReplay">,
): IdempotencyStore {
  return {
    async run(scope, send) {
      let sent = false;
      const result = await store.run(scope, () => {
        sent = true;
        return send();
      });
      if (!sent) {
        metrics.recordIdempotencyReplay(scope.operation);
      }
      return result;
    },
    inspect: (account, key) => store.inspect(account, key),
    resolveUnknown: (account, key, resolution) => store.resolveUnknown(account, key, resolution),
    close: () => store.close(),
  };
}
