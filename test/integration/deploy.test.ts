/**
 * The Dockerfile's own commands, run outside Docker (no Docker engine is needed): each stage's
 * COPY and RUN lines are replayed in a temporary directory in order, then the image's CMD is
 * started with the image's ENV, its HEALTHCHECK is run against it, and SIGTERM must stop it.
 *
 * Two substitutions, both stated where they happen: the build stage's full `npm ci` is the
 * repository's own node_modules (same lock file, installed by CI's `npm ci`), and
 * `npm cache clean --force` is skipped (it would empty this machine's npm cache).
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, relative } from "node:path";
import { promisify } from "node:util";
import {
  copiesOf,
  envOf,
  execForm,
  healthcheckOf,
  instructionsOf,
  keywordOf,
  readDockerfile,
  readDockerignore,
  REPO_ROOT,
  runCommands,
  type Stage,
  workdirOf,
} from "../unit/deploy/dockerfile-model";

const run = promisify(execFile);
const { stages } = readDockerfile();
const buildStage = stages[0]!;
const runtimeStage = stages.at(-1)!;
const excluded = readDockerignore();

// The commands run as child processes, which need this machine's PATH and HOME (read only).
// eslint-disable-next-line no-restricted-properties
const MACHINE_ENV = { ...process.env };

/** What npm needs from this machine, and nothing else of the test runner's environment. */
function machineEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(MACHINE_ENV)) {
    if (
      value !== undefined &&
      /^(PATH|HOME|TMPDIR|npm_config_(cache|registry|userconfig))$/.test(name)
    ) {
      env[name] = value;
    }
  }
  return env;
}

/** Replays one stage's COPY and RUN instructions, in order, with `root` as its WORKDIR. */
async function replayStage(stage: Stage, root: string, stageRoots: Record<string, string>) {
  const env: Record<string, string> = { ...machineEnv(), ...envOf(stage) };
  for (const instruction of stage.instructions) {
    const keyword = keywordOf(instruction);
    if (keyword === "COPY") {
      const step = copiesOf({ ...stage, instructions: [instruction] })[0]!;
      const destination = join(root, step.destination);
      for (const source of step.sources) {
        const from =
          step.from === undefined
            ? join(REPO_ROOT, source)
            : join(
                stageRoots[step.from]!,
                relative(workdirOf(stages.find(s => s.name === step.from)!), source),
              );
        if (statSync(from).isDirectory()) {
          cpSync(from, destination, {
            recursive: true,
            filter: path => step.from !== undefined || !excluded(relative(REPO_ROOT, path)),
          });
        } else {
          mkdirSync(destination, { recursive: true });
          cpSync(from, join(destination, basename(source)));
        }
      }
    } else if (keyword === "RUN") {
      for (const command of runCommands({ ...stage, instructions: [instruction] })) {
        const [tool, ...args] = command.split(/\s+/);
        expect(tool).toBe("npm");
        if (args[0] === "ci" && !args.includes("--omit=dev")) {
          // The full install: the repository's own node_modules, from the same lock file.
          symlinkSync(join(REPO_ROOT, "node_modules"), join(root, "node_modules"), "dir");
        } else if (args[0] === "cache") {
          // `npm cache clean --force` would empty this machine's npm cache; in the image it only
          // makes the layer smaller.
        } else {
          // --prefer-offline: served from the npm cache CI's own `npm ci` filled.
          const extra = args[0] === "ci" ? ["--prefer-offline"] : [];
          await run("npm", [...args, ...extra], { cwd: root, env, timeout: 240_000 });
        }
      }
    }
  }
}

interface Started {
  readonly child: ChildProcess;
  /** Resolves with the first match of `pattern` in stdout. */
  waitFor(pattern: RegExp, ms?: number): Promise<RegExpExecArray>;
  /** Sends `signal` and resolves with the exit code. */
  stop(signal: NodeJS.Signals, ms?: number): Promise<number | null>;
}

function start(argv: string[], cwd: string, env: Record<string, string>): Started {
  // "node" in the image is the Node that runs these tests.
  const [command, ...args] = argv;
  const child = spawn(command === "node" ? process.execPath : command!, args, {
    cwd,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>(resolve => child.once("exit", code => resolve(code)));
  return {
    child,
    waitFor(pattern, ms = 30_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          child.stdout.off("data", check);
          reject(new Error(`timed out waiting for ${pattern}; output:\n${output}`));
        }, ms);
        const check = (): void => {
          const match = pattern.exec(output);
          if (match) {
            clearTimeout(timer);
            child.stdout.off("data", check);
            resolve(match);
          }
        };
        child.stdout.on("data", check);
        void exited.then(code => {
          if (!pattern.test(output)) {
            clearTimeout(timer);
            reject(new Error(`exited with ${code} before ${pattern}; output:\n${output}`));
          }
        });
        check();
      });
    },
    async stop(signal, ms = 20_000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
      }
      const timer = setTimeout(() => child.kill("SIGKILL"), ms);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Runs the image's HEALTHCHECK command the way Docker does (exec form, the container's env). */
async function healthcheck(cwd: string, env: Record<string, string>): Promise<number> {
  const [command, ...args] = healthcheckOf(runtimeStage)!.command!;
  try {
    await run(command === "node" ? process.execPath : command!, args, {
      cwd,
      env,
      timeout: 10_000,
    });
    return 0;
  } catch (error) {
    return (error as { code?: number }).code ?? -1;
  }
}

describe("the Dockerfile's commands, outside Docker", () => {
  let work: string;
  let appRoot: string;
  let imageEnv: Record<string, string>;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "image-"));
    const roots = { [buildStage.name!]: join(work, "build"), runtime: join(work, "runtime") };
    mkdirSync(roots[buildStage.name!]!);
    mkdirSync(roots.runtime);
    await replayStage(buildStage, roots[buildStage.name!]!, roots);
    await replayStage(runtimeStage, roots.runtime, roots);
    appRoot = roots.runtime;
    // The container's environment: the image's ENV, plus what a test run sets.
    imageEnv = {
      PATH: MACHINE_ENV.PATH ?? "",
      ...envOf(runtimeStage),
      PORT: "0",
      HOST: "127.0.0.1",
      SANDBOX_SEED: "0",
      LOG_LEVEL: "warn",
    };
  }, 480_000);

  afterAll(() => {
    if (work) {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it("produces the files the CMD and the sandbox command start", () => {
    const cmd = execForm(instructionsOf(runtimeStage, "CMD")[0]!)!;

    expect(existsSync(join(appRoot, cmd[1]!))).toBe(true);
    expect(existsSync(join(appRoot, "dist", "src", "sandbox", "main.js"))).toBe(true);
  });

  it("installs the production dependencies and none of the toolchain", () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
    };

    for (const name of Object.keys(pkg.dependencies)) {
      expect({ name, installed: existsSync(join(appRoot, "node_modules", name)) }).toEqual({
        name,
        installed: true,
      });
    }
    for (const name of ["typescript", "jest", "ts-jest", "eslint", "prettier"]) {
      expect({ name, installed: existsSync(join(appRoot, "node_modules", name)) }).toEqual({
        name,
        installed: false,
      });
    }
  });

  it("starts the gateway with the CMD, passes the HEALTHCHECK, and stops on SIGTERM", async () => {
    const cmd = execForm(instructionsOf(runtimeStage, "CMD")[0]!)!;
    const gateway = start(cmd, appRoot, imageEnv);
    try {
      const [, url] = await gateway.waitFor(/ready at (http:\/\/\S+)\n/);
      const port = new URL(url!).port;

      expect(await healthcheck(appRoot, { ...imageEnv, PORT: port })).toBe(0);
      await gateway.stop("SIGTERM");
      expect(gateway.child.signalCode).not.toBe("SIGKILL");
      // Nothing listens any more: the same check now fails.
      expect(await healthcheck(appRoot, { ...imageEnv, PORT: port })).toBe(1);
    } finally {
      await gateway.stop("SIGKILL");
    }
  }, 60_000);

  // Known bug, kept visible: Apollo Server installs its own SIGTERM handler (its
  // `stopOnTerminationSignals` defaults to on outside NODE_ENV=test), which re-raises the signal
  // once Apollo has stopped, so the process dies of SIGTERM before main.ts has closed the pool,
  // the store and the session. Passing `stopOnTerminationSignals: false` in gateway.ts fixes it;
  // then this test fails and `it.failing` becomes `it`.
  it("exits with code 0 after SIGTERM, once main.ts has stopped everything", async () => {
    const gateway = start(execForm(instructionsOf(runtimeStage, "CMD")[0]!)!, appRoot, imageEnv);
    try {
      await gateway.waitFor(/ready at (http:\/\/\S+)\n/);

      expect(await gateway.stop("SIGTERM")).toBe(0);
    } finally {
      await gateway.stop("SIGKILL");
    }
  }, 60_000);

  it("runs the sandbox alone with `node dist/src/sandbox/main.js`", async () => {
    const sandbox = start(["node", "dist/src/sandbox/main.js"], appRoot, {
      ...imageEnv,
      SANDBOX_PORT: "0",
      SANDBOX_HOST: "127.0.0.1",
    });
    try {
      const [, url] = await sandbox.waitFor(/listening on (http:\/\/\S+)\n/);
      const response = await fetch(url!, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: "s_login=demo&s_pw=demo&command=GetCertificateInfo",
      });

      expect(response.status).toBe(200);
      expect(await response.text()).toMatch(/code\s*=\s*\d{3}/i);
      expect(await sandbox.stop("SIGTERM")).toBe(0);
    } finally {
      await sandbox.stop("SIGKILL");
    }
  }, 60_000);
});
