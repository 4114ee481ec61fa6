/**
 * Scenarios 1 and 2: one page (the dashboard, the certificate detail) fetched by every
 * alternative in turn, run after run, counting the sandbox's commands and timing the wall time:
 *
 * - the gateway with a cold cache (a fresh `createGateway` in the host process: new cache, pool
 *   and Apollo Server), then warm (the same gateway again, at once);
 * - the gateway, cold, with 8 upstream connections and fetch slots instead of 64 (the earlier
 *   default; a what-if: it shows what the concurrency alone buys);
 * - the straightforward direct client and the hand-optimised one (the limit).
 *
 * Run 0 warms up the JIT of every alternative (except the slow straightforward one) and is not
 * recorded. Every alternative's data is checked against the limit's.
 */
import {
  type BenchContext,
  describeCommands,
  IMMUTABLE_COMMANDS,
  messageOf,
  type ScenarioResult,
} from "../context";
import {
  handOptimisedDashboard,
  handOptimisedDetail,
  straightforwardDashboard,
  straightforwardDetail,
} from "../direct-clients";
import { certificateDetail, dashboardRows, DASHBOARD_QUERY, DETAIL_QUERY } from "../operations";
import { differences } from "../page-data";
import { type BenchRow, failed, formatRatio, met, missed, noTarget, type Verdict } from "../report";
import { median, summarize, type Summary, timed } from "../stats";

/** The issue's targets for a page. */
export const PAGE_TARGETS = Object.freeze({
  /** Cold gateway wall time (p50) at most this multiple of the limit's. */
  coldRatio: 1.25,
  /** Warm gateway wall time (p50) at most this fraction of the cold one ("a small fraction"). */
  warmFraction: 0.1,
});

/**
 * The what-if configuration: the earlier default of 8 upstream reads in flight, to show what the
 * concurrency alone buys (the default is 64, as many as the limit sends for a page).
 */
const WHAT_IF_ENV = { GATEWAY_FETCH_CONCURRENCY: "8", RRPPROXY_CONNECTIONS: "8" } as const;

const ALTERNATIVES = {
  gatewayCold: "gateway, cold cache",
  gatewayWarm: "gateway, warm cache",
  gatewayWhatIf: "gateway, cold, 8 upstream slots (what-if)",
  straightforward: "direct client, straightforward (SDK style)",
  handOptimised: "direct client, hand-optimised (the limit)",
} as const;

type Alternative = keyof typeof ALTERNATIVES;

interface Samples<T> {
  readonly ms: number[];
  readonly commands: number[];
  readonly immutable: number[];
  breakdown?: string;
  value?: T;
  /** First line of the failure (for the table). */
  error?: string;
  /** The whole failure (for the JSON): a crashed host's last output is in it. */
  errorDetail?: string;
}

/** One page scenario: how each alternative gets the page. */
interface PageSpec<T> {
  readonly scenario: string;
  readonly key: string;
  fromGateway(url: string): Promise<T>;
  straightforward(): Promise<T>;
  handOptimised(): Promise<T>;
}

async function comparePage<T>(ctx: BenchContext, spec: PageSpec<T>): Promise<ScenarioResult> {
  const { runs, slowRuns } = ctx.options;
  const samples = Object.fromEntries(
    Object.keys(ALTERNATIVES).map(name => [name, { ms: [], commands: [], immutable: [] }]),
  ) as unknown as Record<Alternative, Samples<T>>;

  const attempt = async (alternative: Alternative, record: boolean, task: () => Promise<T>) => {
    const entry = samples[alternative];
    if (entry.error !== undefined) {
      return false;
    }
    try {
      ctx.sandbox.resetCalls();
      const { value, ms } = await timed(task);
      const commands = ctx.sandbox.calls.map(call => call.command);
      entry.value ??= value;
      entry.breakdown ??= describeCommands(commands);
      if (record) {
        entry.ms.push(ms);
        entry.commands.push(commands.length);
        entry.immutable.push(commands.filter(c => IMMUTABLE_COMMANDS.has(c)).length);
      }
      return true;
    } catch (error) {
      entry.error = messageOf(error);
      entry.errorDetail = error instanceof Error ? error.message : String(error);
      return false;
    }
  };
  const startGateway = async (env: Record<string, string>, ...names: Alternative[]) => {
    try {
      return await ctx.host.start("gateway", ctx.gatewayEnv(env));
    } catch (error) {
      for (const name of names) {
        samples[name].error ??= `gateway did not start: ${messageOf(error)}`;
      }
      return undefined;
    }
  };

  for (let run = 0; run <= runs; run++) {
    const record = run > 0;
    ctx.progress(`${spec.key}: ${record ? `run ${run}/${runs}` : "warm-up"}`);
    const url = await startGateway({}, "gatewayCold", "gatewayWarm");
    if (url && (await attempt("gatewayCold", record, () => spec.fromGateway(url)))) {
      await attempt("gatewayWarm", record, () => spec.fromGateway(url));
    }
    await attempt("handOptimised", record, () => spec.handOptimised());
    if (record && run <= slowRuns) {
      await attempt("straightforward", record, () => spec.straightforward());
    }
    const whatIfUrl = await startGateway(WHAT_IF_ENV, "gatewayWhatIf");
    if (whatIfUrl) {
      await attempt("gatewayWhatIf", record, () => spec.fromGateway(whatIfUrl));
    }
  }

  return pageResult(spec, samples);
}

function pageResult<T>(
  spec: PageSpec<T>,
  samples: Record<Alternative, Samples<T>>,
): ScenarioResult {
  const summaries = Object.fromEntries(
    Object.entries(samples).map(([name, s]) => [name, summarize(s.ms)]),
  ) as Record<Alternative, Summary>;
  const commands = (name: Alternative) => median(samples[name].commands);
  const limit = summaries.handOptimised;
  const limitError = samples.handOptimised.error;
  const ratio = (name: Alternative) => summaries[name].p50Ms / limit.p50Ms;
  const notes: string[] = [];

  // Same data as the limit? A fast alternative that left something out would prove nothing.
  const reference = samples.handOptimised.value;
  const dataDiffers = new Set<Alternative>();
  for (const name of Object.keys(ALTERNATIVES) as Alternative[]) {
    const value = samples[name].value;
    if (name === "handOptimised" || value === undefined || reference === undefined) {
      continue;
    }
    const diff = differences(reference, value);
    if (diff.length > 0) {
      dataDiffers.add(name);
      notes.push(
        `${spec.scenario}: ${ALTERNATIVES[name]} answered other data than the limit: ${diff.join("; ")}`,
      );
    }
  }
  if (reference !== undefined && dataDiffers.size === 0) {
    notes.push(`${spec.scenario}: every alternative answered the same data as the limit.`);
  }
  for (const name of Object.keys(ALTERNATIVES) as Alternative[]) {
    const { breakdown, error } = samples[name];
    if (error === undefined && breakdown !== undefined) {
      notes.push(`${spec.scenario}, ${ALTERNATIVES[name]}: ${breakdown}.`);
    }
  }

  const coldVerdict = (): Verdict => {
    const error = samples.gatewayCold.error;
    if (error !== undefined) {
      return failed(error);
    }
    if (limitError !== undefined) {
      return failed(`the limit was not measured: ${limitError}`);
    }
    const cmds = commands("gatewayCold");
    const limitCmds = commands("handOptimised");
    const r = ratio("gatewayCold");
    const cmdsOk = cmds <= limitCmds;
    const timeOk = r <= PAGE_TARGETS.coldRatio;
    const text =
      `${cmds} ${cmdsOk ? "<=" : ">"} ${limitCmds} commands, ` +
      `${formatRatio(r)} ${timeOk ? "<=" : ">"} ${formatRatio(PAGE_TARGETS.coldRatio)} wall time`;
    return cmdsOk && timeOk ? met(text) : missed(text);
  };
  const warmVerdict = (): Verdict => {
    const error = samples.gatewayWarm.error ?? samples.gatewayCold.error;
    if (error !== undefined) {
      return failed(error);
    }
    const immutable = median(samples.gatewayWarm.immutable);
    const fraction = summaries.gatewayWarm.p50Ms / summaries.gatewayCold.p50Ms;
    const immutableOk = immutable === 0;
    const fractionOk = fraction <= PAGE_TARGETS.warmFraction;
    const text =
      `${immutable} commands for immutable data, ` +
      `${(fraction * 100).toFixed(1)}% ${fractionOk ? "<=" : ">"} ` +
      `${(PAGE_TARGETS.warmFraction * 100).toFixed(0)}% of cold`;
    return immutableOk && fractionOk ? met(text) : missed(text);
  };
  const flagData = (name: Alternative, verdict: Verdict): Verdict =>
    dataDiffers.has(name)
      ? { ...verdict, text: `${verdict.text} (other data, see notes)` }
      : verdict;

  const row = (name: Alternative, verdict: Verdict): BenchRow => {
    const error = samples[name].error;
    const s = summaries[name];
    return {
      scenario: spec.scenario,
      alternative: ALTERNATIVES[name],
      upstreamCommands: error === undefined ? commands(name) : null,
      commandBreakdown: samples[name].breakdown,
      p50Ms: error === undefined ? s.p50Ms : null,
      p99Ms: error === undefined ? s.p99Ms : null,
      ratioToLimit: error === undefined && limitError === undefined ? ratio(name) : null,
      ratioLabel: error === undefined && limitError === undefined ? formatRatio(ratio(name)) : "-",
      target: flagData(name, error !== undefined ? failed(error) : verdict),
    };
  };

  return {
    rows: [
      row("gatewayCold", coldVerdict()),
      row("gatewayWarm", warmVerdict()),
      row("gatewayWhatIf", noTarget("- (what-if)")),
      row("straightforward", noTarget("- (baseline)")),
      row("handOptimised", noTarget("- (the limit)")),
    ],
    notes,
    details: {
      runs: Object.fromEntries(
        Object.entries(samples).map(([name, s]) => [
          name,
          {
            wallMs: s.ms.map(ms => Number(ms.toFixed(3))),
            commands: s.commands,
            immutableCommands: s.immutable,
            breakdown: s.breakdown,
            error: s.errorDetail,
          },
        ]),
      ),
      summaries,
    },
  };
}

/** Scenario 1: the dashboard page of `pageSize` certificates. */
export function dashboardScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const size = ctx.options.pageSize;
  return comparePage(ctx, {
    scenario: `Dashboard (${size} certificates)`,
    key: "dashboard",
    fromGateway: async url =>
      dashboardRows(await ctx.graphql.query(url, DASHBOARD_QUERY, { first: size })),
    straightforward: () => straightforwardDashboard(ctx.sequentialClient, size),
    handOptimised: () => handOptimisedDashboard(ctx.parallelClient, size),
  });
}

/** Scenario 2: the detail page of certificate `id`. */
export function detailScenario(ctx: BenchContext, id: string): Promise<ScenarioResult> {
  return comparePage(ctx, {
    scenario: "Certificate detail",
    key: "detail",
    fromGateway: async url => certificateDetail(await ctx.graphql.query(url, DETAIL_QUERY, { id })),
    straightforward: () => straightforwardDetail(ctx.sequentialClient, id),
    handOptimised: () => handOptimisedDetail(ctx.parallelClient, id),
  });
}
