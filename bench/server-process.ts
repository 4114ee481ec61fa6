/**
 * The bench's side of a host process (`server-host.ts`): forks it, sends it requests with a
 * timeout each, and makes sure it is gone at the end.
 */
import { type ChildProcess, fork } from "node:child_process";
import { join } from "node:path";
import {
  type Env,
  type HostKind,
  type HostRequest,
  type HostResponse,
  type MemorySample,
} from "./server-protocol";

/** Longest wait for one request (a gateway start builds the schema: about a second). */
const REQUEST_TIMEOUT_MS = 120_000;
/** Longest wait for the process to exit after `stop` before it is killed. */
const EXIT_TIMEOUT_MS = 10_000;
/** Characters of the host's output kept for error reports. */
const OUTPUT_TAIL_CHARS = 4000;

/** A forked host process. */
export interface ServerProcess {
  /** Starts (or restarts, cold) a server of `kind`; resolves with its GraphQL URL. */
  start(kind: HostKind, env?: Env): Promise<string>;
  /** The host's memory after forced garbage collection. */
  memory(): Promise<MemorySample>;
  /** Stops the server and the process (kills it if it does not exit). Idempotent. */
  close(): Promise<void>;
  /** The end of what the host wrote to stdout/stderr (for error reports). */
  outputTail(): string;
}

type RequestBody = HostRequest extends infer R
  ? R extends unknown
    ? Omit<R, "id">
    : never
  : never;

/**
 * Forks the host with `--expose-gc` and `NODE_ENV=production` (both servers run as they would
 * in production). Its output is kept, not printed: the bench prints one table.
 */
export function spawnServerProcess(): ServerProcess {
  const child: ChildProcess = fork(join(__dirname, "server-host.js"), [], {
    execArgv: ["--expose-gc"],
    env: { NODE_ENV: "production" },
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString("utf8")).slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);

  let nextId = 1;
  const pending = new Map<
    number,
    { resolve: (r: HostResponse) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }
  >();
  let exited = false;
  const exit = new Promise<void>(resolve => {
    child.once("exit", (code, signal) => {
      exited = true;
      for (const [id, entry] of pending) {
        clearTimeout(entry.timer);
        entry.reject(
          new Error(
            `server host exited (${signal ?? code ?? "?"}) during request ${id}\n${output.slice(-800)}`,
          ),
        );
      }
      pending.clear();
      resolve();
    });
  });
  child.on("message", (message: HostResponse) => {
    const entry = pending.get(message.id);
    if (entry) {
      pending.delete(message.id);
      clearTimeout(entry.timer);
      entry.resolve(message);
    }
  });

  const request = (body: RequestBody): Promise<HostResponse> =>
    new Promise((resolve, reject) => {
      if (exited) {
        reject(new Error(`server host has exited\n${output.slice(-800)}`));
        return;
      }
      const id = nextId++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`server host did not answer ${body.type} in ${REQUEST_TIMEOUT_MS} ms`));
      }, REQUEST_TIMEOUT_MS);
      pending.set(id, { resolve, reject, timer });
      child.send({ ...body, id });
    });

  const ok = async (body: RequestBody): Promise<HostResponse & { ok: true }> => {
    const response = await request(body);
    if (!response.ok) {
      throw new Error(`server host failed ${body.type}: ${response.error}`);
    }
    return response;
  };

  let closing: Promise<void> | undefined;
  return {
    async start(kind, env = {}) {
      const response = await ok({ type: "start", kind, env });
      if (!response.url) {
        throw new Error("server host started no server");
      }
      return response.url;
    },
    async memory() {
      const response = await ok({ type: "memory" });
      if (!response.memory) {
        throw new Error("server host sent no memory sample");
      }
      return response.memory;
    },
    close() {
      closing ??= (async () => {
        if (!exited) {
          // The host exits once it has stopped its server; if it hangs, it is killed.
          void request({ type: "stop" }).catch(() => undefined);
          const timer = setTimeout(() => child.kill("SIGKILL"), EXIT_TIMEOUT_MS);
          await exit;
          clearTimeout(timer);
        }
      })();
      return closing;
    },
    outputTail: () => output,
  };
}
