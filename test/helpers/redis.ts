import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createServer } from "node:net";

/** How to run the suites that need Redis; the skipped placeholder test says it. */
export const REDIS_HOW_TO =
  "REDIS_URL=redis://127.0.0.1:6390 npm test (.ci/run starts a redis-server and sets it)";

/**
 * The Redis the integration tests share, from `REDIS_URL`; `undefined` when unset. Tests may read
 * the environment (the rule is for `src/`, where only config.ts does): this is how CI and a
 * developer point the suite at a server without any test code changing.
 */
export function redisUrlForTests(): string | undefined {
  // eslint-disable-next-line no-restricted-properties -- the test run's switch, see above
  const url = process.env.REDIS_URL;
  return url === undefined || url === "" ? undefined : url;
}

/**
 * `describe` when `REDIS_URL` is set; otherwise one skipped test whose name says how to run the
 * suite, so a run without Redis shows it skipped rather than silently passing.
 */
export function describeWithRedis(name: string, body: (url: string) => void): void {
  const url = redisUrlForTests();
  if (url === undefined) {
    describe(name, () => {
      it.skip(`needs Redis: ${REDIS_HOW_TO}`, () => undefined);
    });
    return;
  }
  describe(name, () => body(url));
}

/** True when a `redis-server` binary is on the PATH. */
export function hasRedisServer(): boolean {
  try {
    execFileSync("redis-server", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** A free TCP port on loopback (bound and released; good enough for a test's own server). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A redis-server of one test, on its own port, without persistence. */
export interface OwnRedisServer {
  readonly url: string;
  readonly port: number;
  /** Kills the server (SIGKILL: like a crash) and waits for it to be gone. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts a `redis-server` on `port` (default: a free loopback port) and waits until it accepts
 * connections. For tests that stop Redis midway (pass the old port to start it again); needs
 * `redis-server` on the PATH (see `hasRedisServer`).
 */
export async function startRedisServer(port?: number): Promise<OwnRedisServer> {
  port ??= await freePort();
  const child: ChildProcess = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const exited = new Promise<void>(resolve => child.once("exit", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`redis-server did not start on port ${port}: ${output}`));
    }, 10_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes("Ready to accept connections")) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", code => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}: ${output}`));
    });
  });
  child.stdout?.removeAllListeners("data");
  child.stderr?.removeAllListeners("data");
  child.stdout?.resume();
  child.stderr?.resume();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGKILL");
      }
      await exited;
    },
  };
}
