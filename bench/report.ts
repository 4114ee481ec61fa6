/**
 * The bench's one table: its rows, their rendering as text (stdout) and Markdown (README), and
 * the JSON written to `bench/results/latest.json`.
 */
import { mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { format, resolveConfig } from "prettier";

/** Whether a row meets its target: `met: null` for rows without one (baselines, the limit). */
export interface Verdict {
  readonly met: boolean | null;
  /** `MET …`, `MISSED …`, `ERROR …` or a dash. */
  readonly text: string;
}

/** One line of the table. */
export interface BenchRow {
  readonly scenario: string;
  readonly alternative: string;
  /** Per page (page scenarios) or in total (load scenarios); null when not applicable. */
  readonly upstreamCommands: number | null;
  /** Which commands, e.g. `1 QueryCertificateList + 50 StatusCertificate`. */
  readonly commandBreakdown?: string;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  /** Requests per second, for load scenarios. */
  readonly throughputRps?: number;
  /** Wall time (or, for throughput, rate) relative to the limit of the scenario. */
  readonly ratioToLimit: number | null;
  /** How the ratio reads: `1.25x` (time) or `0.62x rps` (throughput). */
  readonly ratioLabel: string;
  readonly target: Verdict;
  readonly notes?: readonly string[];
}

/** The whole result of one run, as written to JSON. */
export interface BenchReport {
  readonly startedAt: string;
  readonly durationS: number;
  readonly environment: Readonly<Record<string, string | number>>;
  readonly settings: Readonly<Record<string, unknown>>;
  readonly rows: readonly BenchRow[];
  /** Notes printed under the table: command sets, data checks, what-ifs. */
  readonly notes: readonly string[];
  /** Raw per-run figures for later analysis. */
  readonly details: Readonly<Record<string, unknown>>;
}

/** `MET …` */
export const met = (text: string): Verdict => ({ met: true, text: `MET: ${text}` });
/** `MISSED …` */
export const missed = (text: string): Verdict => ({ met: false, text: `MISSED: ${text}` });
/** `ERROR …`: the scenario could not be measured (counts as missed). */
export const failed = (text: string): Verdict => ({ met: false, text: `ERROR: ${text}` });
/** No target for this row. */
export const noTarget = (text = "-"): Verdict => ({ met: null, text });

/** Milliseconds for the table: 3 significant figures at most, `-` when unknown. */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) {
    return "-";
  }
  if (ms < 1) {
    return `${ms.toFixed(3)} ms`;
  }
  if (ms < 10) {
    return `${ms.toFixed(2)} ms`;
  }
  if (ms < 100) {
    return `${ms.toFixed(1)} ms`;
  }
  return `${Math.round(ms)} ms`;
}

/** A ratio as `1.23x`. */
export function formatRatio(ratio: number): string {
  return Number.isFinite(ratio) ? `${ratio.toFixed(2)}x` : "-";
}

const HEADERS = [
  "Scenario",
  "Alternative",
  "Upstream commands",
  "p50",
  "p99",
  "Ratio to limit",
  "Target",
] as const;

function cells(row: BenchRow): string[] {
  return [
    row.scenario,
    row.alternative,
    row.upstreamCommands === null ? "-" : String(row.upstreamCommands),
    formatMs(row.p50Ms),
    formatMs(row.p99Ms),
    row.ratioLabel,
    row.target.text,
  ];
}

/** The table as aligned plain text, for the terminal. */
export function renderText(rows: readonly BenchRow[]): string {
  const table = [[...HEADERS], ...rows.map(cells)];
  const widths = HEADERS.map((_, column) =>
    Math.max(...table.map(line => (line[column] ?? "").length)),
  );
  const line = (values: readonly string[]) =>
    values
      .map((v, column) => v.padEnd(widths[column] ?? 0))
      .join(" | ")
      .trimEnd();
  const rule = widths.map(w => "-".repeat(w)).join("-+-");
  return [line(table[0]!), rule, ...table.slice(1).map(line)].join("\n");
}

/** The table as GitHub Markdown. */
export function renderMarkdown(rows: readonly BenchRow[]): string {
  const escape = (text: string) => text.replace(/\|/g, "\\|");
  const line = (values: readonly string[]) => `| ${values.map(escape).join(" | ")} |`;
  return [line(HEADERS), line(HEADERS.map(() => "---")), ...rows.map(row => line(cells(row)))].join(
    "\n",
  );
}

/**
 * Writes `latest.json` and `latest.md` (the table and the notes, for the README) into `dir`,
 * formatted with the project's Prettier settings (so `npm run check:format` stays green), each
 * through a temporary file so that a reader never sees half a file.
 */
export async function writeReport(report: BenchReport, dir: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const markdown = [
    `Last run: ${report.startedAt}, ${report.durationS.toFixed(0)} s, ${describeEnvironment(report)}.`,
    "",
    renderMarkdown(report.rows),
    "",
    ...report.notes.map(note => `- ${note}`),
    "",
  ].join("\n");
  const files: [string, string][] = [
    ["latest.json", `${JSON.stringify(report, null, 2)}\n`],
    ["latest.md", markdown],
  ];
  const written: string[] = [];
  for (const [name, contents] of files) {
    const target = join(dir, name);
    // *.tmp.json is git-ignored.
    const temporary = join(dir, `${name}.tmp.json`);
    await writeFile(temporary, await formatted(target, contents), "utf8");
    await rename(temporary, target);
    written.push(target);
  }
  return written;
}

/** `contents` as Prettier formats `file` with the project's settings; unchanged if it cannot. */
async function formatted(file: string, contents: string): Promise<string> {
  try {
    const options = (await resolveConfig(file)) ?? {};
    return await format(contents, { ...options, filepath: file });
  } catch {
    return contents;
  }
}

/** `Node v20.20.2, linux x64, 2 CPUs (…), load 1.2 -> 1.5, sandbox latency 50 ms` */
export function describeEnvironment(report: Pick<BenchReport, "environment">): string {
  const env = report.environment;
  return (
    `Node ${env.node}, ${env.platform}, ${env.cpus} CPUs (${env.cpuModel}), ` +
    `load average ${env.loadAverageBefore} -> ${env.loadAverageAfter}, ` +
    `sandbox latency ${env.latencyMs} ms`
  );
}
