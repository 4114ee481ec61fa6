/**
 * `npm run bench`: starts the sandbox with a realistic latency and a seeded account, measures
 * every scenario side by side in one run, prints one table, and writes it to
 * `bench/results/latest.json` (and `latest.md` for the README). Exits 0 whatever the numbers
 * (missed targets are in the table) unless `BENCH_STRICT=1`; 1 for invalid settings.
 */
import "reflect-metadata";
import { existsSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { startSandbox } from "../src/sandbox/server";
import { BENCH_ACCOUNT, type BenchContext, messageOf, type ScenarioResult } from "./context";
import { createGraphQLClient } from "./graphql-client";
import {
  type BenchOptions,
  BenchOptionsError,
  loadBenchOptions,
  SCENARIO_NAMES,
  type ScenarioName,
} from "./options";
import {
  type BenchReport,
  type BenchRow,
  describeEnvironment,
  failed,
  renderText,
  writeReport,
} from "./report";
import { codecScenario } from "./scenarios/codec";
import { memoryScenario, PLATEAU_MAX_GROWTH } from "./scenarios/memory";
import { OVERHEAD_TARGET, overheadScenario } from "./scenarios/overhead";
import { dashboardScenario, detailScenario, PAGE_TARGETS } from "./scenarios/pages";
import { spawnServerProcess } from "./server-process";
import { certificateIds, chooseDetailCertificate, type DetailChoice } from "./setup";
import { createWireClient } from "./wire-client";

/** Longest time one scenario may take before it is reported as an error and the next one runs. */
const SCENARIO_DEADLINE_MS = 15 * 60 * 1000;

/** The repository: the nearest directory above the compiled bench that holds `bench/tsconfig.json`. */
function repositoryRoot(): string {
  for (let dir = __dirname; dirname(dir) !== dir; dir = dirname(dir)) {
    if (existsSync(join(dir, "bench", "tsconfig.json"))) {
      return dir;
    }
  }
  return process.cwd();
}

function progress(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** One ERROR row for a scenario that could not run. */
function errorResult(name: string, error: unknown): ScenarioResult {
  // The whole message: a crashed host's last output is in it.
  const full = error instanceof Error ? error.message : String(error);
  progress(`${name} failed: ${full}`);
  const row: BenchRow = {
    scenario: name,
    alternative: "-",
    upstreamCommands: null,
    p50Ms: null,
    p99Ms: null,
    ratioToLimit: null,
    ratioLabel: "-",
    target: failed(messageOf(error)),
  };
  return { rows: [row], notes: [], details: { error: full } };
}

/** Runs a scenario; a failure or a hang becomes an ERROR row instead of ending the bench. */
async function runScenario(
  name: string,
  run: () => Promise<ScenarioResult> | ScenarioResult,
): Promise<ScenarioResult> {
  collectGarbage();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`did not finish within ${SCENARIO_DEADLINE_MS / 60_000} min`)),
      SCENARIO_DEADLINE_MS,
    );
  });
  try {
    return await Promise.race([Promise.resolve().then(run), deadline]);
  } catch (error) {
    return errorResult(name, error);
  } finally {
    clearTimeout(timer);
  }
}

function limitNotes(options: BenchOptions, detail: DetailChoice | undefined): string[] {
  const n = options.pageSize;
  return [
    `Dashboard limit: QueryCertificateList WIDE=1 LIMIT=${n} and QueryCertificateContactList ` +
      `WIDE=1 TYPE=tech in parallel, then ${n} StatusCertificate in parallel (the only command ` +
      `naming a certificate's tech contact; it also carries the order's paid-until): ${n + 2} ` +
      `commands, 2 round trips.`,
    `Detail limit: StatusCertificate and QueryCertificateContactList WIDE=1 in parallel, then ` +
      `StatusCertificateOrder (its id comes from StatusCertificate): 3 commands, 2 round trips.`,
    detail
      ? `Detail page: ${detail.id} (${detail.className}, ${detail.contacts} contacts, order of ` +
        `${detail.orderCertificates} certificates, ${detail.origin}): the richest page the ` +
        `account can show.`
      : "Detail page: no certificate could be chosen.",
    `Targets: cold <= the limit's commands and <= ${PAGE_TARGETS.coldRatio}x its p50; warm: no ` +
      `command for immutable data (contacts, classes) and p50 <= ${PAGE_TARGETS.warmFraction * 100}% ` +
      `of cold; overhead >= ${OVERHEAD_TARGET}x the bare server's rate; memory: the RSS and heap ` +
      `peaks of the last half of the rounds < ${PLATEAU_MAX_GROWTH * 100}% above those of the ` +
      `first half.`,
    `p50/p99 of ${options.runs} runs (${options.slowRuns} for the straightforward client) after ` +
      `one warm-up run; with fewer than 100 runs p99 is the slowest run.`,
  ];
}

async function main(): Promise<number> {
  let options: BenchOptions;
  try {
    // The bench's own settings; the gateway's come from loadConfig in the host process.
    // eslint-disable-next-line no-restricted-properties
    options = loadBenchOptions(process.env);
  } catch (error) {
    if (error instanceof BenchOptionsError) {
      process.stderr.write(`${error.message}\n`);
      return 1;
    }
    throw error;
  }
  const startedAt = new Date();
  const started = process.hrtime.bigint();
  const loadBefore = loadavg()[0] ?? 0;
  progress(
    `seeding ${options.seed} certificates; sandbox latency ${options.latencyMs} ms` +
      (options.quick ? " (quick mode: numbers are noisy)" : ""),
  );

  const results = new Map<ScenarioName, ScenarioResult>();
  const selected = (name: ScenarioName) => options.scenarios.has(name);
  // Before any other process exists: parsing is measured on a quiet machine.
  if (selected("codec")) {
    results.set("codec", await runScenario("Codec", () => codecScenario({ options, progress })));
  }

  const sandbox = await startSandbox({
    port: 0,
    host: "127.0.0.1",
    accounts: [BENCH_ACCOUNT],
    seed: options.seed,
    latencyMs: options.latencyMs,
    // The detail page's reissue (setup) is issued at once; nothing measured orders anything.
    issuanceDelayMs: 0,
  });
  const host = spawnServerProcess();
  const graphql = createGraphQLClient();
  const wire = { url: sandbox.url, login: BENCH_ACCOUNT.login, password: BENCH_ACCOUNT.password };
  const sequentialClient = createWireClient({ ...wire, connections: 1 });
  const parallelClient = createWireClient({ ...wire, connections: 128 });
  const ctx: BenchContext = {
    options,
    sandbox,
    host,
    graphql,
    sequentialClient,
    parallelClient,
    progress,
    gatewayEnv: extra => ({
      NODE_ENV: "production",
      HOST: "127.0.0.1",
      PORT: "0",
      CACHE_URL: "memory",
      RRPPROXY_URL: sandbox.url,
      RRPPROXY_LOGIN: BENCH_ACCOUNT.login,
      RRPPROXY_PASSWORD: BENCH_ACCOUNT.password,
      // One client at full speed is not abuse: the per-key limit would measure the limiter.
      GATEWAY_RATE_LIMIT: "1000000",
      // 20,000 access-log lines would measure the log pipe.
      LOG_LEVEL: "warn",
      // The event poller's background commands (and the invalidations of the seeded account's
      // backlog of events it processes) are not the page's: measured without it.
      GATEWAY_EVENTS_POLL_MS: "0",
      ...extra,
    }),
  };

  let detail: DetailChoice | undefined;
  const setupFailures: ScenarioResult[] = [];
  try {
    progress("setup: choosing the detail page");
    const ids = await certificateIds(parallelClient);
    detail = await chooseDetailCertificate(parallelClient).catch((error: unknown) => {
      progress(`no detail certificate: ${messageOf(error)}`);
      return undefined;
    });
    const detailId = detail?.id ?? ids[0] ?? "DK00000000";
    if (selected("dashboard")) {
      results.set("dashboard", await runScenario("Dashboard", () => dashboardScenario(ctx)));
    }
    if (selected("detail")) {
      results.set(
        "detail",
        await runScenario("Certificate detail", () => detailScenario(ctx, detailId)),
      );
    }
    if (selected("overhead")) {
      results.set(
        "overhead",
        await runScenario("Gateway overhead", () => overheadScenario(ctx, detailId)),
      );
    }
    if (selected("memory")) {
      results.set("memory", await runScenario("Memory", () => memoryScenario(ctx, ids)));
    }
  } catch (error) {
    setupFailures.push(errorResult("Setup", error));
  } finally {
    await host.close();
    await graphql.close();
    await sequentialClient.close();
    await parallelClient.close();
    await sandbox.stop();
  }

  const ordered = [...setupFailures, ...SCENARIO_NAMES.flatMap(name => results.get(name) ?? [])];
  const rows = ordered.flatMap(r => r.rows);
  const report: BenchReport = {
    startedAt: startedAt.toISOString(),
    durationS: Number(process.hrtime.bigint() - started) / 1e9,
    environment: {
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model.trim() ?? "unknown",
      memoryGb: Number((totalmem() / 1024 ** 3).toFixed(1)),
      // Other processes on the machine skew every number: the load says how much.
      loadAverageBefore: Number(loadBefore.toFixed(2)),
      loadAverageAfter: Number((loadavg()[0] ?? 0).toFixed(2)),
      latencyMs: options.latencyMs,
    },
    settings: {
      ...options,
      scenarios: [...options.scenarios],
      targets: { ...PAGE_TARGETS, OVERHEAD_TARGET, PLATEAU_MAX_GROWTH },
    },
    rows,
    notes: [...limitNotes(options, detail), ...ordered.flatMap(r => r.notes)],
    details: Object.fromEntries(
      SCENARIO_NAMES.flatMap(name => {
        const result = results.get(name);
        return result ? [[name, result.details]] : [];
      }),
    ),
  };

  process.stdout.write(
    `\nBenchmarks, ${report.durationS.toFixed(0)} s, ${describeEnvironment(report)}\n\n` +
      `${renderText(rows)}\n\n${report.notes.map(note => `- ${note}`).join("\n")}\n\n`,
  );
  try {
    const files = await writeReport(report, join(repositoryRoot(), "bench", "results"));
    process.stdout.write(`Written: ${files.join(", ")}\n`);
  } catch (error) {
    process.stderr.write(`could not write the results: ${messageOf(error)}\n`);
  }
  const missedTargets = rows.filter(row => row.target.met === false).length;
  process.stdout.write(
    missedTargets === 0
      ? "Every target met.\n"
      : `${missedTargets} target${missedTargets === 1 ? "" : "s"} MISSED (see the table).\n`,
  );
  return options.strict && missedTargets > 0 ? 1 : 0;
}

main().then(
  code => {
    process.exitCode = code;
    // Everything was closed; should a handle linger anyway, do not hang the terminal or CI.
    setTimeout(() => process.exit(code), 10_000).unref();
  },
  (error: unknown) => {
    process.stderr.write(
      `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
