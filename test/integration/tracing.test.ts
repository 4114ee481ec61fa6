/**
 * Tracing end to end: sandbox, real upstream client, `wrapClient`, an Apollo server over HTTP,
 * and the real OTLP/HTTP exporter posting to a loopback receiver.
 *
 * The gateway side runs in a plain Node child, not in Jest: the exporter loads `http` with a
 * dynamic `import()`, which Jest's CommonJS sandbox refuses unless Node runs with
 * `--experimental-vm-modules` (open-telemetry/opentelemetry-js#6035), so under Jest every export
 * fails, silently. The child loads these same sources through TypeScript's transpiler (none of them
 * needs decorator metadata) and calls `runTracedGateway` below; Jest owns the receiver and checks
 * what it got.
 */
import { execFile } from "node:child_process";
import { createServer, type Server } from "node:http";
import { type AddressInfo } from "node:net";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import { request } from "undici";
import { startSandbox } from "../../src/sandbox/server";
import { createTracing } from "../../src/tracing";
import { createUpstreamClient } from "../../src/upstream/client";

const LOGIN = "tracer";
const PASSWORD = "Tr4ce-S3cret-Pw";
const CERTIFICATE_ID = "DK-SECRET-CERT-ID";
/** OTLP `Span.SpanKind` and `Status.StatusCode` numbers. */
const KIND_SERVER = 2;
const KIND_CLIENT = 3;
const STATUS_ERROR = 2;
/** Bound of the child's whole run, in milliseconds. */
const CHILD_TIMEOUT_MS = 60_000;

/** What the child reports: the GraphQL responses, in order, and the sandbox's call counts. */
interface ChildReport {
  responses: unknown[];
  calls: Record<string, number>;
}

/**
 * The gateway side, run by the child: three operations against the sandbox, traced to
 * `<receiverUrl>/otel`, then a shutdown that flushes every span.
 */
export async function runTracedGateway(receiverUrl: string): Promise<ChildReport> {
  const sandbox = await startSandbox({ port: 0, accounts: [{ login: LOGIN, password: PASSWORD }] });
  // A base URL with a path: the exporter must POST to <endpoint>/v1/traces.
  const tracing = createTracing({ endpoint: `${receiverUrl}/otel`, serviceName: "gateway-it" });
  const upstream = tracing.wrapClient(
    createUpstreamClient({
      url: sandbox.url,
      login: LOGIN,
      password: PASSWORD,
      session: true,
      retries: 1,
      retryBaseMs: 0,
      timeoutMs: 5_000,
      onCall: event => tracing.onUpstreamCall(event),
    }),
  );
  const plugin = tracing.apolloPlugin();
  const apollo = new ApolloServer({
    typeDefs: `#graphql
      type Query { overview: String!, certificate(id: ID!): String }
    `,
    plugins: plugin ? [plugin] : [],
    resolvers: {
      Query: {
        overview: async () => {
          // Two commands: one in the resolver's first tick, one after an await.
          const info = await upstream.call("GetCertificateInfo", {});
          const list = await upstream.call("QueryCertificateList", { limit: 5 });
          return `${info.code}/${list.code}`;
        },
        certificate: async (_root: unknown, { id }: { id: string }) => {
          await upstream.call("StatusCertificate", { certificate: id });
          return id;
        },
      },
    },
  });
  try {
    const { url } = await startStandaloneServer(apollo, {
      listen: { port: 0, host: "127.0.0.1" },
    });
    const query = async (document: string): Promise<unknown> => {
      const response = await request(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: document }),
        headersTimeout: 10_000,
        bodyTimeout: 10_000,
      });
      return response.body.json();
    };
    const responses = [await query("query Overview { overview }")];
    sandbox.failNext("StatusCertificate", { code: 549, description: "Command failed" });
    responses.push(await query(`query One { certificate(id: "${CERTIFICATE_ID}") }`));
    sandbox.failNext("GetCertificateInfo", "reset");
    responses.push(await query("query Retried { overview }"));
    const calls = Object.fromEntries(
      ["StartSession", "GetCertificateInfo", "QueryCertificateList", "StatusCertificate"].map(
        command => [command, sandbox.callsTo(command).length],
      ),
    );
    return { responses, calls };
  } finally {
    await apollo.stop();
    await upstream.close();
    await tracing.shutdown();
    await sandbox.stop();
  }
}

/** Loads `.ts` files through TypeScript's transpiler, then runs `runTracedGateway` of argv[1]. */
const CHILD_BOOTSTRAP = `
const { readFileSync } = require("node:fs");
const ts = require("typescript");
const { options } = ts.convertCompilerOptionsFromJson(
  {
    module: "commonjs",
    target: "es2022",
    esModuleInterop: true,
    experimentalDecorators: true,
    emitDecoratorMetadata: true,
    useDefineForClassFields: false,
    inlineSourceMap: true,
  },
  process.cwd(),
);
require.extensions[".ts"] = (module, fileName) => {
  const source = readFileSync(fileName, "utf8");
  module._compile(ts.transpileModule(source, { fileName, compilerOptions: options }).outputText, fileName);
};
const [file, receiverUrl] = process.argv.slice(1);
require(file).runTracedGateway(receiverUrl).then(
  report => process.stdout.write(JSON.stringify(report)),
  error => {
    console.error(error);
    process.exitCode = 1;
  },
);
`;

/** One POST the receiver got. */
interface Export {
  method: string | undefined;
  path: string | undefined;
  contentType: string | undefined;
  body: string;
}

/** A span as found in an OTLP/JSON export, attributes flattened to plain values. */
interface ExportedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
  events: { name: string; attributes: Record<string, unknown> }[];
  status: { code?: number; message?: string };
  resource: Record<string, unknown>;
}

/** The parts of an OTLP/JSON `ExportTraceServiceRequest` this test reads. */
interface OtlpAttribute {
  key: string;
  value: Record<string, unknown>;
}
interface OtlpPayload {
  resourceSpans: {
    resource?: { attributes?: OtlpAttribute[] };
    scopeSpans: {
      spans: {
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        name: string;
        kind: number;
        attributes?: OtlpAttribute[];
        events?: { name: string; attributes?: OtlpAttribute[] }[];
        status?: { code?: number; message?: string };
      }[];
    }[];
  }[];
}

function flatten(attributes: OtlpAttribute[] = []): Record<string, unknown> {
  return Object.fromEntries(attributes.map(a => [a.key, Object.values(a.value)[0]]));
}

/** A loopback OTLP/HTTP receiver: keeps every request and answers an empty success. */
async function startReceiver(): Promise<{
  url: string;
  exports: Export[];
  close(): Promise<void>;
}> {
  const exports: Export[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      exports.push({
        method: req.method,
        path: req.url,
        contentType: req.headers["content-type"],
        body: Buffer.concat(chunks).toString("utf8"),
      });
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>(done => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    exports,
    close: () =>
      new Promise<void>(done => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

function spansOf(exports: readonly Export[]): ExportedSpan[] {
  return exports.flatMap(e =>
    (JSON.parse(e.body) as OtlpPayload).resourceSpans.flatMap(rs =>
      rs.scopeSpans.flatMap(ss =>
        ss.spans.map((s): ExportedSpan => ({
          traceId: s.traceId,
          spanId: s.spanId,
          parentSpanId: s.parentSpanId || undefined,
          name: s.name,
          kind: s.kind,
          attributes: flatten(s.attributes),
          events: (s.events ?? []).map(ev => ({
            name: ev.name,
            attributes: flatten(ev.attributes),
          })),
          status: s.status ?? {},
          resource: flatten(rs.resource?.attributes),
        })),
      ),
    ),
  );
}

// Jest runs the tests; the child only loads this file for `runTracedGateway`.
if (typeof describe === "function") {
  describe("tracing to an OTLP/HTTP receiver", () => {
    let receiver: Awaited<ReturnType<typeof startReceiver>>;
    let report: ChildReport;
    let spans: ExportedSpan[];

    beforeAll(async () => {
      receiver = await startReceiver();
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ["-e", CHILD_BOOTSTRAP, __filename, receiver.url],
        { cwd: resolve(__dirname, "../.."), timeout: CHILD_TIMEOUT_MS, killSignal: "SIGKILL" },
      );
      report = JSON.parse(stdout) as ChildReport;
      spans = spansOf(receiver.exports);
    }, CHILD_TIMEOUT_MS + 5_000);

    afterAll(async () => {
      await receiver?.close();
    });

    const operation = (name: string) => spans.find(s => s.name === `graphql ${name}`)!;
    const childrenOf = (parent: ExportedSpan) =>
      spans.filter(s => s.parentSpanId === parent.spanId);

    it("POSTs OTLP/JSON to <endpoint>/v1/traces with the service's resource", () => {
      expect(receiver.exports.length).toBeGreaterThan(0);
      for (const sent of receiver.exports) {
        expect(sent).toMatchObject({
          method: "POST",
          path: "/otel/v1/traces",
          contentType: "application/json",
        });
      }
      expect(spans).toHaveLength(3 + 5);
      for (const span of spans) {
        expect(span.resource).toMatchObject({
          "service.name": "gateway-it",
          "telemetry.sdk.language": "nodejs",
        });
      }
    });

    it("exports each operation as a SERVER span with one CLIENT child per upstream command", () => {
      expect(report.responses[0]).toEqual({ data: { overview: "200/200" } });
      const overview = operation("Overview");
      expect(overview).toMatchObject({
        kind: KIND_SERVER,
        parentSpanId: undefined,
        attributes: { "graphql.operation.name": "Overview", "graphql.operation.type": "query" },
      });
      expect(overview.status.code ?? 0).not.toBe(STATUS_ERROR);
      const calls = childrenOf(overview);
      expect(calls.map(s => s.name)).toEqual([
        "rrpproxy GetCertificateInfo",
        "rrpproxy QueryCertificateList",
      ]);
      for (const call of calls) {
        expect(call.kind).toBe(KIND_CLIENT);
        expect(call.traceId).toBe(overview.traceId);
        expect(call.attributes).toEqual({
          "rpc.system": "rrpproxy",
          "rpc.method": call.name.replace("rrpproxy ", ""),
          "rrpproxy.code": 200,
        });
      }
      // Session mode: the first command's span shows the login, then the command itself.
      expect(calls[0]!.events.map(e => e.attributes["rpc.method"])).toEqual([
        "StartSession",
        "GetCertificateInfo",
      ]);
      // Three operations, three traces: nothing crossed over.
      expect(new Set(spans.map(s => s.traceId)).size).toBe(3);
    });

    it("marks a rejected command and its operation, and shows a retry as two attempts", () => {
      expect((report.responses[1] as { errors?: unknown[] }).errors).toHaveLength(1);
      const one = operation("One");
      expect(one.status.code).toBe(STATUS_ERROR);
      const [status, ...others] = childrenOf(one);
      expect(others).toEqual([]);
      expect(status).toMatchObject({
        name: "rrpproxy StatusCertificate",
        attributes: { "rrpproxy.code": 549, "error.type": "UPSTREAM_REJECTED" },
        status: { code: STATUS_ERROR, message: "UPSTREAM_REJECTED" },
      });

      expect(report.responses[2]).toEqual({ data: { overview: "200/200" } });
      const info = childrenOf(operation("Retried")).find(
        s => s.name === "rrpproxy GetCertificateInfo",
      )!;
      expect(info.status.code ?? 0).not.toBe(STATUS_ERROR);
      expect(
        info.events.map(e => [e.attributes["rrpproxy.attempt"], e.attributes["rrpproxy.code"]]),
      ).toEqual([
        [1, "UPSTREAM_UNAVAILABLE"],
        [2, 200],
      ]);
      expect(report.calls).toMatchObject({ StartSession: 1, GetCertificateInfo: 3 });
    });

    it("exports neither the password nor the values of arguments", () => {
      const everything = receiver.exports.map(e => e.body).join("\n");
      expect(everything).not.toContain(PASSWORD);
      expect(everything).not.toContain(CERTIFICATE_ID);
    });
  });
}
