/**
 * Scenario 4: parse time of a 1000-row QueryCertificateList reply (`WIDE=1`, the columns of manual
 * 9.1.23), encoded with the repo's own `encodeReply`. Measured twice: the codec alone
 * (`decodeReply` + `rows`), and the gateway's whole decode into typed records
 * (`decodeReply` + `decodeCertificateRows`). Synchronous, in the bench process, while nothing
 * else runs.
 */
import { decodeReply, encodeReply, type ReplyProperty, rows } from "../../src/upstream/codec";
import { decodeCertificateRows } from "../../src/upstream/records";
import { type BenchContext, type ScenarioResult } from "../context";
import { type BenchRow, noTarget } from "../report";
import { elapsedMs, summarize } from "../stats";

const WARM_UP_ITERATIONS = 30;
const ITERATIONS = 300;

const STATUSES = ["active", "active", "active", "processing", "revoked", "expired", "canceled"];
const SERVER_TYPES = ["apache2", "nginx", "iis", "tomcat", "other"];
const CLASSES = ["ssl123dv", "rapidssldv", "securesiteproev", "positivessldv", "multidomainov"];

function listDate(day: number): string {
  const date = new Date(Date.UTC(2024, 0, 1) + day * 86_400_000 + (day % 86_400) * 1000);
  return date.toISOString().slice(0, 19).replace("T", " ");
}

/** A QueryCertificateList WIDE=1 reply of `count` rows, as the provider writes it. */
export function certificateListReply(count: number): string {
  const indexes = Array.from({ length: count }, (_, i) => i);
  const pick = <T>(items: readonly T[], i: number): T => items[i % items.length]!;
  const columns: ReplyProperty[] = [
    ["certificate", indexes.map(i => `DK${String(10_000_000 + i * 7)}`)],
    ["status", indexes.map(i => pick(STATUSES, i))],
    ["certificateorder", indexes.map(i => `DK0${String(10_000_000 + i * 5)}`)],
    ["server type", indexes.map(i => pick(SERVER_TYPES, i))],
    ["created date", indexes.map(i => listDate(i))],
    ["updated date", indexes.map(i => listDate(i + 3))],
    ["expiration date", indexes.map(i => (i % 7 === 3 ? "" : listDate(i + 365)))],
    ["class", indexes.map(i => pick(CLASSES, i))],
  ];
  return encodeReply({
    code: 200,
    description: "Command completed successfully",
    runtime: 0.21,
    queuetime: 0,
    properties: [
      ...columns,
      ["column", columns.map(([name]) => name)],
      ["count", [count]],
      ["first", [0]],
      ["last", [count - 1]],
      ["limit", [count]],
      ["total", [count]],
    ],
  });
}

function bench(parse: () => number, expected: number): number[] {
  for (let i = 0; i < WARM_UP_ITERATIONS; i++) {
    parse();
  }
  const samples: number[] = [];
  for (let i = 0; i < ITERATIONS; i++) {
    const start = process.hrtime.bigint();
    const parsed = parse();
    samples.push(elapsedMs(start));
    if (parsed !== expected) {
      throw new Error(`parsed ${parsed} rows instead of ${expected}`);
    }
  }
  return samples;
}

/** Scenario 4; needs no server, so it runs first, while the machine is quiet. */
export function codecScenario(ctx: Pick<BenchContext, "options" | "progress">): ScenarioResult {
  const count = ctx.options.codecRows;
  ctx.progress(`codec: ${count}-row reply`);
  const body = certificateListReply(count);
  const scenario = `Codec (${count}-row QueryCertificateList)`;
  const measured: [string, () => number][] = [
    ["decodeReply + rows()", () => rows(decodeReply(body)).length],
    [
      "decodeReply + decodeCertificateRows (gateway records)",
      () => decodeCertificateRows(decodeReply(body), 0).items.length,
    ],
  ];
  const results = measured.map(([name, parse]) => ({
    name,
    summary: summarize(bench(parse, count)),
  }));
  const rowsOut: BenchRow[] = results.map(({ name, summary }) => ({
    scenario,
    alternative: `${name}: ${((summary.p50Ms * 1000) / count).toFixed(2)} µs/row`,
    upstreamCommands: null,
    p50Ms: summary.p50Ms,
    p99Ms: summary.p99Ms,
    ratioToLimit: null,
    ratioLabel: "-",
    target: noTarget("- (reported)"),
  }));
  return {
    rows: rowsOut,
    notes: [
      `${scenario}: reply of ${(Buffer.byteLength(body) / 1024).toFixed(0)} KiB; p50/p99 are per ` +
        `whole reply over ${ITERATIONS} parses after ${WARM_UP_ITERATIONS} warm-up parses.`,
    ],
    details: Object.fromEntries(
      results.map(({ name, summary }) => [
        name,
        { ...summary, microsecondsPerRow: (summary.p50Ms * 1000) / count },
      ]),
    ),
  };
}
