/**
 * The benchmark's own settings. Like `src/config.ts` for the gateway, this is the one place that
 * parses them; it is pure (it takes the environment as an object) and reports every problem at
 * once. The gateway under test is configured through `loadConfig`, never through these.
 */

/** The scenarios, in the order of the issue (and of the table). */
export const SCENARIO_NAMES = ["dashboard", "detail", "overhead", "codec", "memory"] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

/** What one `npm run bench` does. */
export interface BenchOptions {
  /** The scenarios to run (`BENCH_SCENARIOS=dashboard,detail`; default all). */
  readonly scenarios: ReadonlySet<ScenarioName>;
  /** Added by the sandbox to every reply, in milliseconds (`SANDBOX_LATENCY_MS`, default 50). */
  readonly latencyMs: number;
  /** Certificates seeded into the sandbox account (`BENCH_SEED`, default 200). */
  readonly seed: number;
  /** Certificates on the dashboard page (fixed by the issue: 50). */
  readonly pageSize: number;
  /** Timed runs of each page alternative (`BENCH_RUNS`, default 10). */
  readonly runs: number;
  /** Timed runs of the straightforward client, which takes seconds per run (default runs / 2). */
  readonly slowRuns: number;
  /** Seconds of each measured autocannon run (`BENCH_DURATION_S`, default 8). */
  readonly durationS: number;
  /** Concurrent connections of autocannon (`BENCH_CONNECTIONS`, default 16). */
  readonly connections: number;
  /** Requests of the memory scenario (`BENCH_MEMORY_REQUESTS`, default 20000). */
  readonly memoryRequests: number;
  /** Requests in flight at once in the memory scenario (`BENCH_MEMORY_CONNECTIONS`, default 64). */
  readonly memoryConnections: number;
  /** Rounds the memory requests are split into, one sample after each (default 10). */
  readonly memoryRounds: number;
  /** Rows of the codec scenario's reply (fixed by the issue: 1000). */
  readonly codecRows: number;
  /** Exit with 1 when a target is missed (`BENCH_STRICT=1`, for CI); default: always exit 0. */
  readonly strict: boolean;
  /** `BENCH_QUICK=1`: few runs, short and small loads, to check the bench itself (numbers noisy). */
  readonly quick: boolean;
}

/** The settings are unusable; the message lists every problem. */
export class BenchOptionsError extends Error {
  override readonly name = "BenchOptionsError";
  constructor(readonly problems: readonly string[]) {
    super(`Invalid benchmark settings:\n${problems.map(p => `  - ${p}`).join("\n")}`);
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Parses the benchmark's settings from `env`. Throws `BenchOptionsError` listing every problem.
 * Pure: pass `process.env` from the entry point.
 */
export function loadBenchOptions(env: Env): BenchOptions {
  const problems: string[] = [];
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const text = env[name]?.trim();
    if (text === undefined || text === "") {
      return fallback;
    }
    const n = Number(text);
    if (!/^\d+$/.test(text) || n < min || n > max) {
      problems.push(`${name} must be a whole number from ${min} to ${max} (got "${text}")`);
      return fallback;
    }
    return n;
  };
  const flag = (name: string): boolean => /^(1|true|yes|on)$/i.test(env[name]?.trim() ?? "");

  const scenarios = new Set<ScenarioName>();
  for (const name of (env.BENCH_SCENARIOS ?? "").split(",").map(n => n.trim().toLowerCase())) {
    if (name === "") {
      continue;
    }
    const known = SCENARIO_NAMES.find(n => n === name);
    if (known) {
      scenarios.add(known);
    } else {
      problems.push(`BENCH_SCENARIOS: "${name}" is not one of ${SCENARIO_NAMES.join(", ")}`);
    }
  }
  const quick = flag("BENCH_QUICK");
  const runs = int("BENCH_RUNS", quick ? 3 : 10, 1, 100);
  const options: BenchOptions = {
    scenarios: scenarios.size > 0 ? scenarios : new Set(SCENARIO_NAMES),
    latencyMs: int("SANDBOX_LATENCY_MS", 50, 0, 10_000),
    seed: int("BENCH_SEED", 200, 60, 2000),
    pageSize: 50,
    runs,
    slowRuns: Math.max(1, Math.ceil(runs / 2)),
    durationS: int("BENCH_DURATION_S", quick ? 2 : 8, 1, 120),
    connections: int("BENCH_CONNECTIONS", 16, 1, 1000),
    memoryRequests: int("BENCH_MEMORY_REQUESTS", quick ? 2000 : 20_000, 100, 1_000_000),
    memoryConnections: int("BENCH_MEMORY_CONNECTIONS", 64, 1, 1000),
    memoryRounds: int("BENCH_MEMORY_ROUNDS", 10, 4, 100),
    codecRows: 1000,
    strict: flag("BENCH_STRICT"),
    quick,
  };
  if (problems.length > 0) {
    throw new BenchOptionsError(problems);
  }
  return Object.freeze(options);
}
