/**
 * Scenario 5: memory under a long mixed load. One fresh gateway, in a host process of its own,
 * serves `memoryRequests` requests in `memoryRounds` equal rounds (a fixed mix: dashboard pages,
 * detail pages of every certificate, the catalogue, contacts, orders, a small cached query, an
 * unknown id, an invalid document), `connections` at a time. After each round the host forces
 * garbage collection and reports its RSS and heap. The memory plateaus when the peak of the last
 * half of the rounds is less than `PLATEAU_MAX_GROWTH` above the peak of the first half. Peaks,
 * not single samples: RSS swings by 10-20% from one round to the next with the allocator (while
 * the V8 heap, its total and external memory stay flat); a leak raises the peak round after
 * round, a swing does not.
 */
import { type BenchContext, messageOf, type ScenarioResult } from "../context";
import {
  CLASSES_QUERY,
  CONTACTS_QUERY,
  dashboardPageInfo,
  DASHBOARD_QUERY,
  DETAIL_QUERY,
  INVALID_QUERY,
  ORDERS_QUERY,
  SMALL_QUERY,
} from "../operations";
import { failed, met, missed } from "../report";
import { spawnServerProcess } from "../server-process";
import { type MemorySample } from "../server-protocol";
import { elapsedMs, percentile } from "../stats";

/** Largest rise of the RSS and heap peaks from the first half of the rounds to the last half. */
export const PLATEAU_MAX_GROWTH = 0.05;

/** Dashboard pages of this size, so the mix walks the whole account. */
const MIX_PAGE_SIZE = 20;

interface MixedRequest {
  readonly name: string;
  readonly query: string;
  readonly variables?: object;
  /** The HTTP status that is right for it (400 for the invalid document). */
  readonly status: number;
}

/** The request mix: `index` picks one, cycling through kinds and through ids and pages. */
function mixedRequest(index: number, ids: readonly string[], cursors: readonly (string | null)[]) {
  const kinds: ((i: number) => MixedRequest)[] = [
    i => ({
      name: "dashboard",
      query: DASHBOARD_QUERY,
      variables: { first: MIX_PAGE_SIZE, after: cursors[i % cursors.length] },
      status: 200,
    }),
    i => ({
      name: "detail",
      query: DETAIL_QUERY,
      variables: { id: ids[i % ids.length] },
      status: 200,
    }),
    () => ({ name: "classes", query: CLASSES_QUERY, status: 200 }),
    () => ({ name: "contacts", query: CONTACTS_QUERY, status: 200 }),
    () => ({ name: "orders", query: ORDERS_QUERY, status: 200 }),
    i => ({
      name: "small",
      query: SMALL_QUERY,
      variables: { id: ids[(i * 7) % ids.length] },
      status: 200,
    }),
    () => ({
      name: "unknown id",
      query: SMALL_QUERY,
      variables: { id: "DK99999999" },
      status: 200,
    }),
    () => ({ name: "invalid", query: INVALID_QUERY, status: 400 }),
  ];
  const kind = kinds[index % kinds.length]!;
  return kind(Math.floor(index / kinds.length));
}

/**
 * How much higher the peak of the last half of `rounds` is than the peak of the first half, as a
 * fraction (an odd middle round belongs to neither).
 */
function peakGrowth(rounds: readonly number[]): number {
  const half = Math.floor(rounds.length / 2);
  const early = Math.max(...rounds.slice(0, half));
  const late = Math.max(...rounds.slice(rounds.length - half));
  return half === 0 ? Number.NaN : (late - early) / early;
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const pct = (fraction: number) => `${fraction >= 0 ? "+" : ""}${(fraction * 100).toFixed(1)}%`;

/** Scenario 5, over the account's certificate `ids`. */
export async function memoryScenario(
  ctx: BenchContext,
  ids: readonly string[],
): Promise<ScenarioResult> {
  const { memoryRequests, memoryRounds, memoryConnections: connections } = ctx.options;
  const scenario = `Memory (${memoryRequests.toLocaleString("en-US")} mixed requests)`;
  const alternative = "gateway, one process";
  const perRound = Math.ceil(memoryRequests / memoryRounds);
  const samples: MemorySample[] = [];
  const latencies = new Float64Array(perRound * memoryRounds);
  const unexpected = new Map<string, number>();
  let sent = 0;
  let commands = 0;
  let loadMs = 0;

  // A process of its own: the gateways the other scenarios started and stopped left nothing in it.
  const host = spawnServerProcess();
  try {
    const url = await host.start("gateway", ctx.gatewayEnv());
    ctx.progress("memory: collecting page cursors");
    const cursors: (string | null)[] = [null];
    for (let page = 0; page < 20; page++) {
      const data = await ctx.graphql.query(url, DASHBOARD_QUERY, {
        first: MIX_PAGE_SIZE,
        after: cursors[cursors.length - 1],
      });
      const info = dashboardPageInfo(data);
      if (!info.more || info.endCursor === null) {
        break;
      }
      cursors.push(info.endCursor);
    }
    samples.push(await host.memory());

    for (let round = 1; round <= memoryRounds; round++) {
      ctx.progress(`memory: round ${round}/${memoryRounds}`);
      ctx.sandbox.resetCalls();
      const end = sent + perRound;
      const start = process.hrtime.bigint();
      const worker = async () => {
        while (sent < end) {
          const index = sent++;
          const request = mixedRequest(index, ids, cursors);
          const began = process.hrtime.bigint();
          try {
            const { status, body } = await ctx.graphql.post(url, request.query, request.variables);
            const hasErrors =
              typeof body === "object" &&
              body !== null &&
              "errors" in body &&
              request.status === 200;
            if (status !== request.status || hasErrors) {
              const key = `${request.name}: HTTP ${status}${hasErrors ? " with errors" : ""}`;
              unexpected.set(key, (unexpected.get(key) ?? 0) + 1);
            }
          } catch (error) {
            const key = `${request.name}: ${messageOf(error)}`;
            unexpected.set(key, (unexpected.get(key) ?? 0) + 1);
          }
          latencies[index] = elapsedMs(began);
        }
      };
      await Promise.all(Array.from({ length: connections }, worker));
      loadMs += elapsedMs(start);
      commands += ctx.sandbox.calls.length;
      samples.push(await host.memory());
    }
  } catch (error) {
    return errorResult(scenario, alternative, messageOf(error), samples);
  } finally {
    await host.close();
  }

  const sorted = [...latencies.subarray(0, sent)].sort((a, b) => a - b);
  const rss = samples.map(s => s.rssBytes);
  const heap = samples.map(s => s.heapUsedBytes);
  // The last half of the rounds: samples[0] is before the first round.
  // samples[0] is before the first round: the rounds are the rest.
  const rssGrowth = peakGrowth(rss.slice(1));
  const heapGrowth = peakGrowth(heap.slice(1));
  const half = Math.floor((samples.length - 1) / 2);
  const plateau = rssGrowth < PLATEAU_MAX_GROWTH && heapGrowth < PLATEAU_MAX_GROWTH;
  const failures = [...unexpected.values()].reduce((total, n) => total + n, 0);
  const first = samples[0]!;
  const last = samples[samples.length - 1]!;
  const text =
    `peak of last ${half} rounds vs first ${half}: heap ${pct(heapGrowth)}, RSS ${pct(rssGrowth)} ` +
    `(< +${(PLATEAU_MAX_GROWTH * 100).toFixed(0)}%); heap ${mb(first.heapUsedBytes)} -> ` +
    `${mb(last.heapUsedBytes)}, RSS ${mb(first.rssBytes)} -> ${mb(last.rssBytes)}` +
    (failures > 0 ? `; ${failures} unexpected answers` : "");
  const rps = (sent / loadMs) * 1000;
  return {
    rows: [
      {
        scenario,
        alternative: `${alternative} (${Math.round(rps).toLocaleString("en-US")} req/s)`,
        upstreamCommands: commands,
        p50Ms: percentile(sorted, 50),
        p99Ms: percentile(sorted, 99),
        throughputRps: rps,
        ratioToLimit: null,
        ratioLabel: "-",
        target: plateau && failures === 0 ? met(text) : missed(text),
      },
    ],
    notes: [
      `${scenario}: ${memoryRounds} rounds of ${perRound}, ${connections} at a time; memory after ` +
        `forced GC, MB per sample (before, then after each round): heap ` +
        `${heap.map(b => (b / 1024 / 1024).toFixed(1)).join(", ")}; RSS ` +
        `${rss.map(b => (b / 1024 / 1024).toFixed(1)).join(", ")}.`,
      `${scenario}: heap spaces from round 1 to the last: ${spaceGrowth(samples)}.`,
      ...[...unexpected].map(([key, count]) => `${scenario}: ${count} x ${key}`),
    ],
    details: { samples, unexpected: Object.fromEntries(unexpected), requests: sent, loadMs },
  };
}

/** How each V8 heap space grew from the first round to the last, largest change first. */
function spaceGrowth(samples: readonly MemorySample[]): string {
  const from = samples[1]?.heapSpaces ?? {};
  const to = samples[samples.length - 1]?.heapSpaces ?? {};
  return Object.keys(to)
    .map(space => ({ space, delta: (to[space] ?? 0) - (from[space] ?? 0) }))
    .filter(({ delta }) => Math.abs(delta) >= 1024)
    .sort((a, b) => Math.abs(b.delta) - Math.abs(a.delta))
    .map(({ space, delta }) => `${space} ${delta >= 0 ? "+" : ""}${(delta / 1024).toFixed(0)} KiB`)
    .join(", ");
}

function errorResult(
  scenario: string,
  alternative: string,
  error: string,
  samples: readonly MemorySample[],
): ScenarioResult {
  return {
    rows: [
      {
        scenario,
        alternative,
        upstreamCommands: null,
        p50Ms: null,
        p99Ms: null,
        ratioToLimit: null,
        ratioLabel: "-",
        target: failed(error),
      },
    ],
    notes: [],
    details: { samples, error },
  };
}
