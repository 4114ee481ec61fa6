/**
 * Scenario 3: the gateway's own overhead. autocannon drives a warm cached query against the
 * gateway, then a trivial query against a bare Apollo Server (its standalone server, one
 * resolver answering a constant), each in its own host process, with the same connections and
 * duration; a short run before each warms up the JIT and is discarded.
 */
import autocannon from "autocannon";
import { type BenchContext, describeCommands, messageOf, type ScenarioResult } from "../context";
import { SMALL_QUERY } from "../operations";
import { type BenchRow, failed, formatRatio, met, missed, noTarget } from "../report";
import { spawnServerProcess } from "../server-process";

/** The target: the gateway serves at least this fraction of the bare server's rate. */
export const OVERHEAD_TARGET = 0.5;

const BARE_QUERY = "query BenchHello { hello }";

interface LoadResult {
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly requests: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly commands: readonly string[];
}

async function load(
  ctx: BenchContext,
  url: string,
  body: string,
  durationS: number,
): Promise<LoadResult> {
  ctx.sandbox.resetCalls();
  const result = await autocannon({
    url,
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
    connections: ctx.options.connections,
    pipelining: 1,
    duration: durationS,
    timeout: 10,
  });
  return {
    rps: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    commands: ctx.sandbox.calls.map(call => call.command),
  };
}

/** Checks one answer before the load: a load of errors would measure nothing. */
async function expectData(ctx: BenchContext, url: string, query: string, variables?: object) {
  await ctx.graphql.query(url, query, variables);
}

async function measure(
  ctx: BenchContext,
  url: string,
  query: string,
  variables: object | undefined,
): Promise<LoadResult> {
  await expectData(ctx, url, query, variables);
  await expectData(ctx, url, query, variables);
  const body = JSON.stringify({ query, variables });
  await load(ctx, url, body, ctx.options.quick ? 1 : 2);
  return load(ctx, url, body, ctx.options.durationS);
}

function loadProblem(result: LoadResult): string | undefined {
  if (result.non2xx > 0 || result.errors > 0) {
    return `${result.non2xx} non-2xx answers and ${result.errors} errors of ${result.requests}`;
  }
  return undefined;
}

/** Scenario 3, on certificate `id` (its record is cached by the first request). */
export async function overheadScenario(ctx: BenchContext, id: string): Promise<ScenarioResult> {
  const scenario = "Gateway overhead";
  let gateway: LoadResult | undefined;
  let bare: LoadResult | undefined;
  let gatewayError: string | undefined;
  let bareError: string | undefined;

  ctx.progress("overhead: gateway");
  try {
    const url = await ctx.host.start("gateway", ctx.gatewayEnv());
    gateway = await measure(ctx, url, SMALL_QUERY, { id });
    gatewayError = loadProblem(gateway);
  } catch (error) {
    gatewayError = messageOf(error);
  }

  ctx.progress("overhead: bare Apollo Server");
  const bareHost = spawnServerProcess();
  try {
    const url = await bareHost.start("bare");
    bare = await measure(ctx, url, BARE_QUERY, undefined);
    bareError = loadProblem(bare);
  } catch (error) {
    bareError = messageOf(error);
  } finally {
    await bareHost.close();
  }

  const ratio = gateway && bare ? gateway.rps / bare.rps : Number.NaN;
  const rate = (r: LoadResult | undefined) =>
    r ? ` (${Math.round(r.rps).toLocaleString("en-US")} req/s)` : "";
  const gatewayTarget =
    gatewayError !== undefined
      ? failed(gatewayError)
      : bareError !== undefined
        ? failed(`the bare server was not measured: ${bareError}`)
        : ratio >= OVERHEAD_TARGET
          ? met(`${formatRatio(ratio)} >= ${formatRatio(OVERHEAD_TARGET)} of the bare rate`)
          : missed(`${formatRatio(ratio)} < ${formatRatio(OVERHEAD_TARGET)} of the bare rate`);
  const rows: BenchRow[] = [
    {
      scenario,
      alternative: `gateway, warm cached query${rate(gateway)}`,
      upstreamCommands: gateway ? gateway.commands.length : null,
      commandBreakdown: gateway ? describeCommands(gateway.commands) : undefined,
      p50Ms: gateway?.p50Ms ?? null,
      p99Ms: gateway?.p99Ms ?? null,
      throughputRps: gateway?.rps,
      ratioToLimit: Number.isFinite(ratio) ? ratio : null,
      ratioLabel: Number.isFinite(ratio) ? `${formatRatio(ratio)} rps` : "-",
      target: gatewayTarget,
    },
    {
      scenario,
      alternative: `bare Apollo Server, trivial resolver (the limit)${rate(bare)}`,
      upstreamCommands: bare ? 0 : null,
      p50Ms: bare?.p50Ms ?? null,
      p99Ms: bare?.p99Ms ?? null,
      throughputRps: bare?.rps,
      ratioToLimit: bare ? 1 : null,
      ratioLabel: bare ? "1.00x rps" : "-",
      target: bareError !== undefined ? failed(bareError) : noTarget("- (the limit)"),
    },
  ];
  return {
    rows,
    notes: [
      `${scenario}: autocannon, ${ctx.options.connections} connections, ${ctx.options.durationS} s ` +
        `per server; the gateway answers certificate(id: "${id}") { id status expiresAt class { name } } ` +
        `from its cache; the bare server answers { hello }.`,
    ],
    details: { gateway, bare, gatewayError, bareError },
  };
}
