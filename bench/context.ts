/**
 * What every scenario works with: the settings, the sandbox (the upstream, and the count of its
 * commands), the process hosting the gateway, the GraphQL client and the two direct clients.
 */
import { type SandboxHandle } from "../src/sandbox/server";
import { type GraphQLClient } from "./graphql-client";
import { type BenchOptions } from "./options";
import { type BenchRow } from "./report";
import { type ServerProcess } from "./server-process";
import { type Env } from "./server-protocol";
import { type WireClient } from "./wire-client";

/** The sandbox login the bench and the gateway use. */
export const BENCH_ACCOUNT = { login: "bench", password: "bench-password" } as const;

export interface BenchContext {
  readonly options: BenchOptions;
  readonly sandbox: SandboxHandle;
  /** The child process hosting the gateway (restarted for every cold run). */
  readonly host: ServerProcess;
  readonly graphql: GraphQLClient;
  /** One keep-alive connection: the straightforward client. */
  readonly sequentialClient: WireClient;
  /** Enough connections for the widest fan-out: the hand-optimised client. */
  readonly parallelClient: WireClient;
  /** The gateway's environment for `loadConfig`, with `extra` on top. */
  gatewayEnv(extra?: Env): Env;
  /** A progress line on stderr (stdout holds only the table). */
  progress(message: string): void;
}

/** What a scenario hands back: its rows, notes for under the table, raw figures for the JSON. */
export interface ScenarioResult {
  readonly rows: BenchRow[];
  readonly notes: string[];
  readonly details: Record<string, unknown>;
}

/** Commands whose answer never changes for a given key: a warm gateway must not send them. */
export const IMMUTABLE_COMMANDS: ReadonlySet<string> = new Set([
  "StatusCertificateContact",
  "GetCertificateInfo",
  "QueryCommandSyntax",
]);

/** `1 QueryCertificateList + 50 StatusCertificate`, in order of first use. */
export function describeCommands(commands: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const command of commands) {
    counts.set(command, (counts.get(command) ?? 0) + 1);
  }
  return counts.size === 0
    ? "none"
    : [...counts].map(([command, count]) => `${count} ${command}`).join(" + ");
}

/** The message of any thrown value, on one line. */
export function messageOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split("\n")[0] ?? text;
}
