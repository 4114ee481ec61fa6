import { ApolloServer, HeaderMap } from "@apollo/server";
import { GraphQLError } from "graphql";
import { register as globalRegistry, type Registry } from "prom-client";
import { type CacheCounters, type CacheStats } from "../../src/cache";
import { createMemoryIdempotencyStore, type IdempotencyScope } from "../../src/idempotency";
import {
  ANONYMOUS_OPERATION,
  createMetrics,
  type GatewayMetrics,
  metricsHandler,
  metricsPlugin,
  OTHER_LABEL_VALUE,
  UNKNOWN_OPERATION,
  withReplayMetrics,
} from "../../src/metrics";
import { type RateLimiterStats } from "../../src/rate-limit";
import { type CircuitState } from "../../src/upstream/circuit-breaker";

type Labels = Record<string, string | number>;

/** The value of one sample of `name` (a histogram's `_count`/`_sum`/`_bucket` by `sample`). */
async function sample(
  registry: Registry,
  name: string,
  labels: Labels = {},
  sampleName = name,
): Promise<number | undefined> {
  const metric = registry.getSingleMetric(name);
  if (!metric) {
    throw new Error(`no metric ${name}`);
  }
  const { values } = await metric.get();
  const found = values.find(
    v =>
      ((v as { metricName?: string }).metricName ?? name) === sampleName &&
      Object.keys(labels).every(k => String(v.labels[k]) === String(labels[k])) &&
      Object.keys(v.labels).every(k => k === "le" || k in labels),
  );
  return found?.value;
}

const count = (registry: Registry, name: string, labels: Labels = {}) =>
  sample(registry, name, labels, `${name}_count`);

function counters(values: Partial<CacheCounters>): CacheCounters {
  return { hits: 0, misses: 0, errors: 0, sets: 0, invalidations: 0, ...values };
}

function cacheStats(byNamespace: Record<string, Partial<CacheCounters>>, connectionErrors = 0) {
  const full = Object.fromEntries(
    Object.entries(byNamespace).map(([ns, values]) => [ns, counters(values)]),
  );
  return {
    kind: "memory",
    total: counters({}),
    byNamespace: full,
    connectionErrors,
  } as unknown as CacheStats;
}

interface Family {
  readonly type: string;
  readonly samples: { name: string; labels: Record<string, string>; value: number }[];
}

/**
 * A strict reader of the Prometheus text format (0.0.4): every line is a HELP, a TYPE or a
 * sample of a family whose TYPE came first; label values are quoted and escaped. Throws on
 * anything else.
 */
function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const name = "[a-zA-Z_:][a-zA-Z0-9_:]*";
  const labelPair = `[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"`;
  // Go's ParseFloat, which Prometheus uses, takes NaN and Inf in any case (prom-client writes "Nan").
  const value = "[+-]?(?:\\d+(?:\\.\\d*)?(?:[eE][+-]?\\d+)?|\\.\\d+|[Ii]nf|[Nn]a[Nn])";
  const sampleLine = new RegExp(
    `^(${name})(?:\\{((?:${labelPair})(?:,${labelPair})*,?)?\\})? (${value})(?: -?\\d+)?$`,
  );
  expect(text.endsWith("\n")).toBe(true);
  for (const line of text.slice(0, -1).split("\n")) {
    if (line === "") {
      continue;
    }
    const type = new RegExp(`^# TYPE (${name}) (counter|gauge|histogram|summary|untyped)$`).exec(
      line,
    );
    if (type) {
      families.set(type[1]!, { type: type[2]!, samples: [] });
      continue;
    }
    if (new RegExp(`^# HELP ${name} .*$`).test(line)) {
      continue;
    }
    const match = sampleLine.exec(line);
    if (!match) {
      throw new Error(`not a sample line: ${line}`);
    }
    const [, sampleName, labelText, valueText] = match;
    const family = [...families.entries()].find(
      ([familyName]) =>
        sampleName === familyName ||
        new RegExp(`^${familyName}_(bucket|sum|count|total|created)$`).test(sampleName!),
    );
    if (!family) {
      throw new Error(`sample before its TYPE: ${line}`);
    }
    const labels: Record<string, string> = {};
    for (const [, key, raw] of (labelText ?? "").matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[key!] = raw!.replace(/\\n/g, "\n").replace(/\\(["\\])/g, "$1");
    }
    family[1].samples.push({
      name: sampleName!,
      labels,
      value: /inf$/i.test(valueText!)
        ? valueText!.startsWith("-")
          ? -Infinity
          : Infinity
        : Number(valueText),
    });
  }
  return families;
}

function startServer(metrics: GatewayMetrics) {
  return new ApolloServer({
    typeDefs: `#graphql
      type Query {
        hello: String
        broken: String
        strict: String!
      }
    `,
    resolvers: {
      Query: {
        hello: () => "world",
        broken: () => {
          throw new GraphQLError("upstream down", { extensions: { code: "UPSTREAM_UNAVAILABLE" } });
        },
        strict: () => {
          throw new Error("a bug");
        },
      },
    },
    plugins: [metricsPlugin(metrics)],
  });
}

describe("createMetrics", () => {
  it("uses a registry of its own, not prom-client's global one", async () => {
    const a = createMetrics({ defaultMetrics: false });
    const b = createMetrics({ defaultMetrics: false });
    a.recordOperation("Shop", "success", 5);

    expect(a.registry).not.toBe(b.registry);
    expect(await sample(a.registry, "gateway_graphql_requests_total", {})).toBeUndefined();
    expect(
      await sample(a.registry, "gateway_graphql_requests_total", {
        operation: "Shop",
        outcome: "success",
      }),
    ).toBe(1);
    expect(
      await sample(b.registry, "gateway_graphql_requests_total", {
        operation: "Shop",
        outcome: "success",
      }),
    ).toBeUndefined();
    expect(globalRegistry.getSingleMetric("gateway_graphql_requests_total")).toBeUndefined();
  });

  it("includes Node's process metrics by default", async () => {
    const { registry } = createMetrics();

    const text = await registry.metrics();

    expect(text).toContain("process_cpu_user_seconds_total");
    expect(text).toContain("nodejs_eventloop_lag_seconds");
  });

  it("rejects a maxLabelValues below 1", () => {
    expect(() => createMetrics({ maxLabelValues: 0 })).toThrow(RangeError);
  });
});

describe("GatewayMetrics.onUpstreamCall", () => {
  it("counts exchanges by command and result code and times them", async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const { registry } = metrics;

    metrics.onUpstreamCall({ command: "StartSession", code: 200, durationMs: 12, attempt: 1 });
    metrics.onUpstreamCall({ command: "StatusCertificate", code: 200, durationMs: 30, attempt: 1 });
    metrics.onUpstreamCall({ command: "StatusCertificate", code: 200, durationMs: 45, attempt: 1 });
    metrics.onUpstreamCall({ command: "StatusCertificate", code: 545, durationMs: 20, attempt: 1 });
    metrics.onUpstreamCall({
      command: "QueryCertificateList",
      code: "UPSTREAM_TIMEOUT",
      durationMs: 30_000,
      attempt: 1,
    });
    metrics.onUpstreamCall({
      command: "QueryCertificateList",
      code: 200,
      durationMs: 80,
      attempt: 2,
    });
    metrics.onUpstreamCall({
      command: "AddCertificate",
      code: "ABORTED",
      durationMs: 3,
      attempt: 1,
    });

    const total = (command: string, code: string | number) =>
      sample(registry, "gateway_upstream_requests_total", { command, code });
    expect(await total("StartSession", 200)).toBe(1);
    expect(await total("StatusCertificate", 200)).toBe(2);
    expect(await total("StatusCertificate", 545)).toBe(1);
    expect(await total("QueryCertificateList", "UPSTREAM_TIMEOUT")).toBe(1);
    expect(await total("QueryCertificateList", 200)).toBe(1);
    expect(await total("AddCertificate", "ABORTED")).toBe(1);

    const duration = "gateway_upstream_request_duration_seconds";
    expect(await count(registry, duration, { command: "StatusCertificate" })).toBe(3);
    expect(
      await sample(registry, duration, { command: "StatusCertificate" }, `${duration}_sum`),
    ).toBeCloseTo(0.095);
    expect(
      await sample(
        registry,
        duration,
        { command: "QueryCertificateList", le: 0.1 },
        `${duration}_bucket`,
      ),
    ).toBe(1);

    expect(
      await sample(registry, "gateway_upstream_retries_total", { command: "QueryCertificateList" }),
    ).toBe(1);
    expect(
      await sample(registry, "gateway_upstream_retries_total", { command: "StatusCertificate" }),
    ).toBeUndefined();
  });

  it("works unbound, as the client calls it", () => {
    const { onUpstreamCall } = createMetrics({ defaultMetrics: false });

    expect(() =>
      onUpstreamCall({ command: "GetCertificateInfo", code: 200, durationMs: 1, attempt: 1 }),
    ).not.toThrow();
  });
});

describe("GatewayMetrics.recordOperation", () => {
  it("bounds the operation names a client can create", async () => {
    const metrics = createMetrics({ defaultMetrics: false, maxLabelValues: 2 });
    const requests = (operation: string) =>
      sample(metrics.registry, "gateway_graphql_requests_total", {
        operation,
        outcome: "success",
      });

    for (const name of ["First", "Second", "Third", "First", "Fourth", "not a name!"]) {
      metrics.recordOperation(name, "success", 1);
    }
    metrics.recordOperation(ANONYMOUS_OPERATION, "success", 1);
    metrics.recordOperation(UNKNOWN_OPERATION, "success");

    expect(await requests("First")).toBe(2);
    expect(await requests("Second")).toBe(1);
    expect(await requests("Third")).toBeUndefined();
    expect(await requests(OTHER_LABEL_VALUE)).toBe(3);
    expect(await requests(ANONYMOUS_OPERATION)).toBe(1);
    expect(await requests(UNKNOWN_OPERATION)).toBe(1);
    // Not timed: no latency sample.
    expect(
      await count(metrics.registry, "gateway_graphql_request_duration_seconds", {
        operation: UNKNOWN_OPERATION,
        outcome: "success",
      }),
    ).toBeUndefined();
  });
});

describe("GatewayMetrics scrape-time sources", () => {
  it("mirrors the cache's counters by namespace at every scrape", async () => {
    let stats = cacheStats({ certificate: { hits: 3, misses: 1 }, apq: { errors: 2 } });
    const { registry } = createMetrics({ defaultMetrics: false, cacheStats: () => stats });

    expect(await sample(registry, "gateway_cache_hits_total", { namespace: "certificate" })).toBe(
      3,
    );
    expect(await sample(registry, "gateway_cache_misses_total", { namespace: "certificate" })).toBe(
      1,
    );
    expect(await sample(registry, "gateway_cache_errors_total", { namespace: "apq" })).toBe(2);

    stats = cacheStats({ certificate: { hits: 10, misses: 4 }, apq: { errors: 2 } }, 5);

    expect(await sample(registry, "gateway_cache_hits_total", { namespace: "certificate" })).toBe(
      10,
    );
    expect(await sample(registry, "gateway_cache_misses_total", { namespace: "certificate" })).toBe(
      4,
    );
    expect(await sample(registry, "gateway_cache_connection_errors_total")).toBe(5);
  });

  it("keeps the last values when a source throws, and still answers the scrape", async () => {
    let fail = false;
    const { registry } = createMetrics({
      defaultMetrics: false,
      cacheStats: () => {
        if (fail) {
          throw new Error("store gone");
        }
        return cacheStats({ certificate: { hits: 7 } });
      },
    });
    await registry.metrics();
    fail = true;

    await expect(registry.metrics()).resolves.toContain("gateway_cache_hits_total");
    expect(await sample(registry, "gateway_cache_hits_total", { namespace: "certificate" })).toBe(
      7,
    );
  });

  it("reports the circuit breaker's state as 0, 1 or 2", async () => {
    let state: CircuitState = "closed";
    const { registry } = createMetrics({ defaultMetrics: false, circuitState: () => state });

    const seen: (number | undefined)[] = [];
    for (const next of ["closed", "open", "half-open", "closed"] as const) {
      state = next;
      seen.push(await sample(registry, "gateway_upstream_circuit_state"));
    }

    expect(seen).toEqual([0, 2, 1, 0]);
  });

  it("mirrors the rate limiter's rejections and store errors", async () => {
    const stats: RateLimiterStats = { limited: 0, storeErrors: 0 };
    const { registry } = createMetrics({ defaultMetrics: false, rateLimiterStats: () => stats });
    stats.limited = 4;
    stats.storeErrors = 1;

    expect(await sample(registry, "gateway_rate_limit_rejections_total")).toBe(4);
    expect(await sample(registry, "gateway_rate_limit_store_errors_total")).toBe(1);
  });

  it("has no metrics for sources it was not given", () => {
    const { registry } = createMetrics({ defaultMetrics: false });

    expect(registry.getSingleMetric("gateway_cache_hits_total")).toBeUndefined();
    expect(registry.getSingleMetric("gateway_upstream_circuit_state")).toBeUndefined();
    expect(registry.getSingleMetric("gateway_rate_limit_rejections_total")).toBeUndefined();
  });
});

describe("GatewayMetrics.observeBatchSize", () => {
  it("records batch sizes per loader in a histogram", async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    for (const size of [1, 3, 3, 40]) {
      metrics.observeBatchSize("certificateById", size);
    }
    metrics.observeBatchSize("orderById", 2);
    const name = "gateway_dataloader_batch_size";
    const bucket = (le: number) =>
      sample(metrics.registry, name, { loader: "certificateById", le }, `${name}_bucket`);

    expect(await count(metrics.registry, name, { loader: "certificateById" })).toBe(4);
    expect(await bucket(1)).toBe(1);
    expect(await bucket(5)).toBe(3);
    expect(await bucket(50)).toBe(4);
    expect(await count(metrics.registry, name, { loader: "orderById" })).toBe(1);
  });
});

describe("withReplayMetrics", () => {
  it("counts a run answered from an earlier request's result as a replay", async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const store = withReplayMetrics(createMemoryIdempotencyStore(), metrics);
    const scope: IdempotencyScope = {
      account: "demo",
      key: "key-1",
      operation: "orderCertificate",
      fingerprint: "f1",
      ttlMs: 24 * 60 * 60 * 1000,
    };
    const send = jest.fn(() => Promise.resolve({ orderId: "O-1" }));

    const first = await store.run(scope, send);
    const replays = () =>
      sample(metrics.registry, "gateway_idempotency_replays_total", {
        operation: "orderCertificate",
      });
    expect(await replays()).toBeUndefined();
    const second = await store.run(scope, send);

    expect(second).toEqual(first);
    expect(send).toHaveBeenCalledTimes(1);
    expect(await replays()).toBe(1);
    expect((await store.inspect("demo", "key-1"))?.state).toBe("done");
    await store.close();
  });
});

describe("metricsPlugin", () => {
  let server: ApolloServer | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  async function run(metrics: GatewayMetrics, query: string) {
    server ??= startServer(metrics);
    return server.executeOperation({ query });
  }

  const requests = (metrics: GatewayMetrics, operation: string, outcome: string) =>
    sample(metrics.registry, "gateway_graphql_requests_total", { operation, outcome });
  const errors = (metrics: GatewayMetrics, code: string) =>
    sample(metrics.registry, "gateway_graphql_errors_total", { code });

  it("records an operation's name, outcome and latency", async () => {
    const metrics = createMetrics({ defaultMetrics: false });

    const response = await run(metrics, "query Greeting { hello }");

    expect(response.body.kind === "single" && response.body.singleResult.data).toEqual({
      hello: "world",
    });
    expect(await requests(metrics, "Greeting", "success")).toBe(1);
    expect(
      await count(metrics.registry, "gateway_graphql_request_duration_seconds", {
        operation: "Greeting",
        outcome: "success",
      }),
    ).toBe(1);
  });

  it("tells partial results, failed executions and rejected documents apart", async () => {
    const metrics = createMetrics({ defaultMetrics: false });

    await run(metrics, "query Mixed { hello broken }");
    await run(metrics, "query Strict { strict }");
    await run(metrics, "{ hello }");
    await run(metrics, "query Typo { helo }");
    await run(metrics, "query Broken {");

    expect(await requests(metrics, "Mixed", "partial")).toBe(1);
    expect(await requests(metrics, "Strict", "error")).toBe(1);
    expect(await requests(metrics, ANONYMOUS_OPERATION, "success")).toBe(1);
    expect(await requests(metrics, UNKNOWN_OPERATION, "rejected")).toBe(2);
    expect(await errors(metrics, "UPSTREAM_UNAVAILABLE")).toBe(1);
    expect(await errors(metrics, "INTERNAL_SERVER_ERROR")).toBe(1);
    expect(await errors(metrics, "GRAPHQL_VALIDATION_FAILED")).toBe(1);
    expect(await errors(metrics, "GRAPHQL_PARSE_FAILED")).toBe(1);
  });

  it("counts requests refused while building the context as rejected", async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    server = startServer(metrics);
    await server.start();

    const response = await server.executeHTTPGraphQLRequest({
      httpGraphQLRequest: {
        method: "POST",
        headers: new HeaderMap([["content-type", "application/json"]]),
        search: "",
        body: { query: "{ hello }" },
      },
      context: () =>
        Promise.reject(
          new GraphQLError("slow down", {
            extensions: { code: "RATE_LIMITED", http: { status: 429 } },
          }),
        ),
    });

    expect(response.status).toBe(429);
    expect(await requests(metrics, UNKNOWN_OPERATION, "rejected")).toBe(1);
    expect(await errors(metrics, "RATE_LIMITED")).toBe(1);
  });
});

describe("metricsHandler", () => {
  it("answers the registry in the Prometheus text format", async () => {
    const metrics = createMetrics({
      cacheStats: () => cacheStats({ certificate: { hits: 1 } }),
      circuitState: () => "closed",
      rateLimiterStats: () => ({ limited: 2, storeErrors: 0 }),
    });
    metrics.recordOperation('Quote"d', "success", 3);
    metrics.recordOperation("Orders", "partial", 1500);
    metrics.recordErrors([{ extensions: { code: "NOT_FOUND" } }, {}]);
    metrics.onUpstreamCall({ command: "StatusCertificate", code: 200, durationMs: 8, attempt: 1 });
    metrics.observeBatchSize("certificateById", 12);
    metrics.recordIdempotencyReplay("orderCertificate");

    const { contentType, body } = await metricsHandler(metrics)();

    expect(contentType).toBe("text/plain; version=0.0.4; charset=utf-8");
    const families = parseExposition(body);
    expect(families.get("gateway_graphql_requests_total")?.type).toBe("counter");
    expect(families.get("gateway_upstream_circuit_state")?.type).toBe("gauge");
    expect(families.get("process_cpu_user_seconds_total")?.type).toBe("counter");
    for (const name of [
      "gateway_graphql_request_duration_seconds",
      "gateway_upstream_request_duration_seconds",
      "gateway_dataloader_batch_size",
    ]) {
      const family = families.get(name);
      expect(family?.type).toBe("histogram");
      // Per series: buckets are cumulative and end in +Inf, which equals the count.
      const series = new Map<string, number[]>();
      for (const { name: sampleName, labels, value } of family!.samples) {
        const { le, ...rest } = labels;
        const key = JSON.stringify(rest);
        if (sampleName === `${name}_bucket`) {
          series.set(key, [...(series.get(key) ?? []), value]);
          expect(le).toBeDefined();
        } else if (sampleName === `${name}_count`) {
          expect(series.get(key)?.at(-1)).toBe(value);
        }
      }
      expect(series.size).toBeGreaterThan(0);
      for (const values of series.values()) {
        expect(values).toEqual([...values].sort((x, y) => x - y));
      }
      expect(family!.samples.filter(s => s.labels.le === "+Inf")).toHaveLength(series.size);
    }
    const requests = families.get("gateway_graphql_requests_total")!.samples;
    expect(requests).toContainEqual({
      name: "gateway_graphql_requests_total",
      labels: { operation: "Orders", outcome: "partial" },
      value: 1,
    });
    // Not a GraphQL name: it cannot come from a valid document, so it is not a label value.
    expect(requests.map(s => s.labels.operation)).toContain(OTHER_LABEL_VALUE);
    expect(families.get("gateway_graphql_errors_total")!.samples.map(s => s.labels)).toEqual(
      expect.arrayContaining([{ code: "NOT_FOUND" }, { code: "INTERNAL_SERVER_ERROR" }]),
    );
  });
});
