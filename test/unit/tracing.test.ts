import { setTimeout as sleep } from "node:timers/promises";
import { ApolloServer } from "@apollo/server";
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { InMemorySpanExporter, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import DataLoader from "dataloader";
import { createTracing, type Tracing } from "../../src/tracing";
import { type CallOptions, type UpstreamClient } from "../../src/upstream/client";
import { type WireReply } from "../../src/upstream/codec";
import { type CommandArgs, type CommandName } from "../../src/upstream/commands";
import { UpstreamError } from "../../src/upstream/errors";

/** Every module `createTracing` may load: none of them when tracing is off. */
const OTEL_MODULES = [
  "@opentelemetry/api",
  "@opentelemetry/sdk-trace-base",
  "@opentelemetry/resources",
  "@opentelemetry/exporter-trace-otlp-http",
];

const CSR =
  "-----BEGIN CERTIFICATE REQUEST-----\nMIIC-SECRET-CSR-BODY\n-----END CERTIFICATE REQUEST-----";

function ok(code = 200): WireReply {
  return {
    code,
    description: "Command completed successfully",
    properties: new Map(),
    columns: [],
  };
}

interface RecordedCall {
  command: CommandName;
  args: unknown;
  options: CallOptions | undefined;
}

/** A fake upstream: records every call and answers with `answer` (default: 200 after 1 ms). */
function fakeClient(
  answer: (command: CommandName) => Promise<WireReply> = async () => {
    await sleep(1);
    return ok();
  },
): UpstreamClient & { calls: RecordedCall[]; closed: number } {
  const fake = {
    calls: [] as RecordedCall[],
    closed: 0,
    call<C extends CommandName>(command: C, args: CommandArgs<C>, options?: CallOptions) {
      fake.calls.push({ command, args, options });
      return answer(command);
    },
    close() {
      fake.closed += 1;
      return Promise.resolve();
    },
  };
  return fake;
}

/** Tracing into memory; `spans()` flushes first. */
function memoryTracing(): { tracing: Tracing; spans: () => Promise<ReadableSpan[]> } {
  const exporter = new InMemorySpanExporter();
  const tracing = createTracing({ serviceName: "gateway-test", exporter });
  return {
    tracing,
    spans: async () => {
      await tracing.flush();
      return [...exporter.getFinishedSpans()];
    },
  };
}

const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;
const idOf = (span: ReadableSpan) => span.spanContext().spanId;
const traceOf = (span: ReadableSpan) => span.spanContext().traceId;

interface Ctx {
  upstream: UpstreamClient;
  statusById: DataLoader<string, string>;
}

const typeDefs = `#graphql
  type Certificate { id: ID!, status: String! }
  type Query { certificates: [Certificate!]!, info: String! }
  type Mutation { orderCertificate(csr: String!): String! }
`;

const resolvers = {
  Query: {
    certificates: async (_root: unknown, _args: unknown, ctx: Ctx) => {
      await ctx.upstream.call("QueryCertificateList", {});
      return [{ id: "c-1" }, { id: "c-2" }];
    },
    info: async (_root: unknown, _args: unknown, ctx: Ctx) => {
      await ctx.upstream.call("GetCertificateInfo", {});
      return "ok";
    },
  },
  Certificate: {
    // Nested and batched: the DataLoader's batch runs on a later tick than the loads.
    status: ({ id }: { id: string }, _args: unknown, ctx: Ctx) => ctx.statusById.load(id),
  },
  Mutation: {
    orderCertificate: async (_root: unknown, { csr }: { csr: string }, ctx: Ctx) => {
      await ctx.upstream.call("AddCertificate", { class: "COMODO_SSL", csr, domain: ["a.test"] });
      return "ordered";
    },
  },
};

/** Runs `fn` against a started ApolloServer with the tracing plugin; stops it afterwards. */
async function withServer<T>(
  tracing: Tracing,
  fn: (execute: (query: string, variables?: Record<string, unknown>) => Promise<unknown>) => T,
  upstream: UpstreamClient,
): Promise<Awaited<T>> {
  const plugin = tracing.apolloPlugin<Ctx>();
  const server = new ApolloServer<Ctx>({ typeDefs, resolvers, plugins: plugin ? [plugin] : [] });
  await server.start();
  const client = tracing.wrapClient(upstream);
  try {
    return await fn(async (query, variables) => {
      const statusById = new DataLoader<string, string>(async ids => {
        await client.call("StatusCertificate", { certificate: ids.join(",") });
        return ids.map(() => "ACTIVE");
      });
      const response = await server.executeOperation(
        { query, variables },
        { contextValue: { upstream: client, statusById } },
      );
      return response.body.kind === "single" ? response.body.singleResult : undefined;
    });
  } finally {
    await server.stop();
  }
}

describe("createTracing (off)", () => {
  it("is disabled without an endpoint: no plugin, and the client itself", async () => {
    for (const endpoint of [undefined, ""]) {
      const tracing = createTracing({ endpoint, serviceName: "gateway" });
      const client = fakeClient();

      expect(tracing.enabled).toBe(false);
      expect(tracing.apolloPlugin()).toBeUndefined();
      expect(tracing.wrapClient(client)).toBe(client);
      expect(() =>
        tracing.onUpstreamCall({
          command: "StatusCertificate",
          code: 200,
          durationMs: 1,
          attempt: 1,
        }),
      ).not.toThrow();
      await expect(tracing.flush()).resolves.toBeUndefined();
      await expect(tracing.shutdown()).resolves.toBeUndefined();
    }
  });

  it("loads no OpenTelemetry module unless it is on", () => {
    const loaded: string[] = [];
    for (const id of OTEL_MODULES) {
      jest.doMock(id, () => {
        loaded.push(id);
        return jest.requireActual<object>(id);
      });
    }
    try {
      jest.isolateModules(() => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- a fresh module registry
        const fresh = require("../../src/tracing") as { createTracing: typeof createTracing };
        fresh.createTracing({ serviceName: "gateway" });
        expect(loaded).toEqual([]);

        // The control: the same module loads the SDK once it is on.
        void fresh
          .createTracing({ serviceName: "gateway", exporter: new InMemorySpanExporter() })
          .shutdown();
        expect(loaded).toEqual(
          expect.arrayContaining([
            "@opentelemetry/api",
            "@opentelemetry/sdk-trace-base",
            "@opentelemetry/resources",
          ]),
        );
      });
    } finally {
      for (const id of OTEL_MODULES) {
        jest.dontMock(id);
      }
    }
  });

  it("rejects an endpoint that is not an http(s) URL", () => {
    expect(() => createTracing({ endpoint: "collector:4318", serviceName: "gateway" })).toThrow(
      TypeError,
    );
    expect(() => createTracing({ endpoint: "ftp://collector", serviceName: "gateway" })).toThrow(
      /http\(s\) URL/,
    );
  });
});

describe("Tracing.wrapClient", () => {
  it("records one CLIENT span per call: command, reply code, never the arguments", async () => {
    const { tracing, spans } = memoryTracing();
    const upstream = fakeClient(() => Promise.resolve(ok(210)));
    const client = tracing.wrapClient(upstream);
    const signal = new AbortController().signal;

    const reply = await client.call(
      "AddCertificate",
      { class: "COMODO_SSL", csr: CSR, domain: ["a.test"] },
      { signal },
    );

    expect(reply.code).toBe(210);
    expect(upstream.calls).toEqual([
      {
        command: "AddCertificate",
        args: { class: "COMODO_SSL", csr: CSR, domain: ["a.test"] },
        options: { signal },
      },
    ]);
    const [span, ...others] = await spans();
    expect(others).toEqual([]);
    expect(span?.name).toBe("rrpproxy AddCertificate");
    expect(span?.kind).toBe(SpanKind.CLIENT);
    expect(span?.attributes).toEqual({
      "rpc.system": "rrpproxy",
      "rpc.method": "AddCertificate",
      "rrpproxy.code": 210,
    });
    expect(span?.status.code).toBe(SpanStatusCode.UNSET);
    expect(parentOf(span!)).toBeUndefined();
    expect(span?.resource.attributes["service.name"]).toBe("gateway-test");
    expect(JSON.stringify([span?.name, span?.attributes, span?.events])).not.toMatch(/SECRET/);
    await tracing.shutdown();
  });

  it("marks a rejected call with the reply code, error.type and status ERROR", async () => {
    const { tracing, spans } = memoryTracing();
    const rejected = new UpstreamError({
      code: "UPSTREAM_REJECTED",
      command: "StatusCertificate",
      message: "StatusCertificate: 545 Entity reference not found",
      retryable: false,
      upstreamCode: 545,
    });
    const client = tracing.wrapClient(fakeClient(() => Promise.reject(rejected)));

    await expect(client.call("StatusCertificate", { certificate: "X" })).rejects.toBe(rejected);

    const [span] = await spans();
    expect(span?.attributes).toMatchObject({
      "rpc.method": "StatusCertificate",
      "rrpproxy.code": 545,
      "error.type": "UPSTREAM_REJECTED",
    });
    expect(span?.status).toEqual({ code: SpanStatusCode.ERROR, message: "UPSTREAM_REJECTED" });
    // The message may quote the upstream's description: it is not exported.
    expect(span?.events).toEqual([]);
    await tracing.shutdown();
  });

  it("marks a call without a reply with its error code", async () => {
    const { tracing, spans } = memoryTracing();
    const timeout = new UpstreamError({
      code: "UPSTREAM_TIMEOUT",
      command: "QueryCertificateList",
      message: "QueryCertificateList: no reply within 250 ms",
      retryable: true,
    });
    const aborted = new DOMException("The call was aborted", "AbortError");
    const answers = [timeout, aborted, new Error("boom")];
    const client = tracing.wrapClient(fakeClient(() => Promise.reject(answers.shift()!)));

    for (let i = 0; i < 3; i++) {
      await expect(client.call("QueryCertificateList", {})).rejects.toBeDefined();
    }

    expect((await spans()).map(s => [s.attributes["rrpproxy.code"], s.status.message])).toEqual([
      ["UPSTREAM_TIMEOUT", "UPSTREAM_TIMEOUT"],
      ["ABORTED", "ABORTED"],
      ["_OTHER", "_OTHER"],
    ]);
    await tracing.shutdown();
  });

  it("records each attempt reported by onCall as an event of the call's span", async () => {
    const { tracing, spans } = memoryTracing();
    const client = tracing.wrapClient(
      fakeClient(async command => {
        // What createUpstreamClient does: a session login, a failed attempt, then a retry.
        await sleep(1);
        tracing.onUpstreamCall({ command: "StartSession", code: 200, durationMs: 3, attempt: 1 });
        tracing.onUpstreamCall({ command, code: "UPSTREAM_TIMEOUT", durationMs: 250, attempt: 1 });
        await sleep(1);
        tracing.onUpstreamCall({ command, code: 200, durationMs: 4, attempt: 2 });
        return ok();
      }),
    );

    await client.call("StatusCertificate", { certificate: "X" });
    // Outside any span: nothing to attach to, and no error.
    tracing.onUpstreamCall({ command: "StatusCertificate", code: 200, durationMs: 1, attempt: 1 });

    const [span] = await spans();
    expect(span?.events.map(e => [e.name, e.attributes])).toEqual([
      [
        "rrpproxy.attempt",
        {
          "rpc.method": "StartSession",
          "rrpproxy.code": 200,
          "rrpproxy.attempt": 1,
          "rrpproxy.duration_ms": 3,
        },
      ],
      [
        "rrpproxy.attempt",
        {
          "rpc.method": "StatusCertificate",
          "rrpproxy.code": "UPSTREAM_TIMEOUT",
          "rrpproxy.attempt": 1,
          "rrpproxy.duration_ms": 250,
        },
      ],
      [
        "rrpproxy.attempt",
        {
          "rpc.method": "StatusCertificate",
          "rrpproxy.code": 200,
          "rrpproxy.attempt": 2,
          "rrpproxy.duration_ms": 4,
        },
      ],
    ]);
    await tracing.shutdown();
  });

  it("closes the wrapped client", async () => {
    const { tracing } = memoryTracing();
    const upstream = fakeClient();

    await tracing.wrapClient(upstream).close();

    expect(upstream.closed).toBe(1);
    await tracing.shutdown();
  });
});

describe("Tracing.apolloPlugin", () => {
  it("makes every upstream call of the resolvers a child of the operation span", async () => {
    const { tracing, spans } = memoryTracing();

    const result = await withServer(
      tracing,
      execute => execute("query Certs { certificates { id status } }"),
      fakeClient(),
    );

    expect(result).toEqual({
      data: {
        certificates: [
          { id: "c-1", status: "ACTIVE" },
          { id: "c-2", status: "ACTIVE" },
        ],
      },
    });
    const all = await spans();
    const operation = all.find(s => s.kind === SpanKind.SERVER)!;
    expect(operation.name).toBe("graphql Certs");
    expect(operation.attributes).toEqual({
      "graphql.operation.name": "Certs",
      "graphql.operation.type": "query",
    });
    expect(operation.status.code).toBe(SpanStatusCode.UNSET);
    expect(parentOf(operation)).toBeUndefined();
    const calls = all.filter(s => s.kind === SpanKind.CLIENT);
    // A root resolver's call and the DataLoader batch of the nested field.
    expect(calls.map(s => s.name)).toEqual([
      "rrpproxy QueryCertificateList",
      "rrpproxy StatusCertificate",
    ]);
    for (const call of calls) {
      expect(parentOf(call)).toBe(idOf(operation));
      expect(traceOf(call)).toBe(traceOf(operation));
    }
    await tracing.shutdown();
  });

  it("keeps concurrent operations apart", async () => {
    const { tracing, spans } = memoryTracing();
    let n = 0;
    // Different delays, so that the operations' calls interleave.
    const upstream = fakeClient(async () => {
      await sleep(1 + (n++ % 4) * 3);
      return ok();
    });

    await withServer(
      tracing,
      execute =>
        Promise.all(
          Array.from({ length: 6 }, (_, i) =>
            execute(
              i % 2 === 0
                ? "query Certs { certificates { id status } }"
                : "query Info { info certificates { id } }",
            ),
          ),
        ),
      upstream,
    );

    const all = await spans();
    const operations = all.filter(s => s.kind === SpanKind.SERVER);
    expect(operations).toHaveLength(6);
    expect(new Set(operations.map(traceOf)).size).toBe(6);
    for (const operation of operations) {
      const children = all.filter(s => parentOf(s) === idOf(operation));
      expect(children.every(s => traceOf(s) === traceOf(operation))).toBe(true);
      expect(children.map(s => s.name).sort()).toEqual(
        operation.name === "graphql Certs"
          ? ["rrpproxy QueryCertificateList", "rrpproxy StatusCertificate"]
          : ["rrpproxy GetCertificateInfo", "rrpproxy QueryCertificateList"],
      );
    }
    expect(all).toHaveLength(6 + 6 * 2);
    await tracing.shutdown();
  });

  it("does not leak the operation's span to the code that ran the operation", async () => {
    const { tracing, spans } = memoryTracing();
    const upstream = fakeClient();
    const client = tracing.wrapClient(upstream);

    await withServer(
      tracing,
      async execute => {
        await execute("query Info { info }");
        await client.call("GetCertificateInfo", {});
      },
      upstream,
    );
    await client.call("GetCertificateInfo", {});

    const [inside, outsideInCallback, outside] = (await spans()).filter(
      s => s.kind === SpanKind.CLIENT,
    );
    expect(parentOf(inside!)).toBeDefined();
    expect(parentOf(outsideInCallback!)).toBeUndefined();
    expect(parentOf(outside!)).toBeUndefined();
    await tracing.shutdown();
  });

  it("names an anonymous mutation by its type, marks errors, and never exports variables", async () => {
    const { tracing, spans } = memoryTracing();
    const upstream = fakeClient(() =>
      Promise.reject(
        new UpstreamError({
          code: "UPSTREAM_REJECTED",
          command: "AddCertificate",
          message: "AddCertificate: 505 Invalid attribute value",
          retryable: false,
          upstreamCode: 505,
        }),
      ),
    );

    const result = await withServer(
      tracing,
      execute => execute("mutation ($csr: String!) { orderCertificate(csr: $csr) }", { csr: CSR }),
      upstream,
    );

    expect((result as { errors?: unknown[] }).errors).toHaveLength(1);
    const all = await spans();
    const operation = all.find(s => s.kind === SpanKind.SERVER)!;
    expect(operation.name).toBe("graphql (anonymous)");
    expect(operation.attributes).toEqual({ "graphql.operation.type": "mutation" });
    expect(operation.status).toEqual({ code: SpanStatusCode.ERROR, message: "UPSTREAM_REJECTED" });
    const call = all.find(s => s.kind === SpanKind.CLIENT)!;
    expect(call.attributes["rrpproxy.code"]).toBe(505);
    expect(parentOf(call)).toBe(idOf(operation));
    const exported = JSON.stringify(all.map(s => [s.name, s.attributes, s.events, s.status]));
    expect(exported).not.toMatch(/SECRET|BEGIN CERTIFICATE/);
    await tracing.shutdown();
  });

  it("names a request that never resolved an operation (unknown) and marks its error", async () => {
    const { tracing, spans } = memoryTracing();

    await withServer(tracing, execute => execute("query Broken {"), fakeClient());

    const [operation] = await spans();
    expect(operation?.name).toBe("graphql (unknown)");
    expect(operation?.status).toEqual({
      code: SpanStatusCode.ERROR,
      message: "GRAPHQL_PARSE_FAILED",
    });
    await tracing.shutdown();
  });
});
