import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { validate } from "dockerfile-utils";
import { DEFAULTS } from "../../../src/config";
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
} from "./dockerfile-model";

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as {
  engines: { node: string };
  scripts: Record<string, string>;
};

function stages() {
  const { stages } = readDockerfile();
  return { build: stages[0]!, runtime: stages.at(-1)!, all: stages };
}

describe("Dockerfile", () => {
  it("passes the Dockerfile linter (dockerfile-utils) without a problem", () => {
    const { text } = readDockerfile();

    const problems = validate(text).map(
      d =>
        `line ${d.range.start.line + 1}: ${typeof d.message === "string" ? d.message : d.message.value}`,
    );

    expect(problems).toEqual([]);
  });

  it("has a build stage and a runtime stage on the same Node LTS slim image", () => {
    const { build, runtime, all } = stages();

    expect(all).toHaveLength(2);
    expect(build.name).toBe("build");
    expect(runtime.image).toBe(build.image);
    const match = /^node:(\d+)-slim$/.exec(runtime.image);
    expect(match).not.toBeNull();
    const major = Number(match![1]);
    // LTS lines are the even majors; the image must not be older than what package.json promises.
    expect(major % 2).toBe(0);
    expect(major).toBeGreaterThanOrEqual(Number(/\d+/.exec(pkg.engines.node)![0]));
  });

  it("builds with the full toolchain and the build script", () => {
    const { build } = stages();

    expect(runCommands(build)).toEqual(["npm ci --no-audit --no-fund", "npm run build"]);
    expect(pkg.scripts.build).toMatch(/^tsc -p tsconfig\.json$/);
  });

  it("installs only production dependencies in the runtime stage", () => {
    const { runtime } = stages();

    const commands = runCommands(runtime);

    expect(commands[0]).toMatch(/^npm ci( --[a-z-]+(=[a-z]+)?)*$/);
    expect(commands[0]!.split(" ")).toContain("--omit=dev");
    expect(commands.slice(1)).toEqual(["npm cache clean --force"]);
    expect(envOf(runtime)).toEqual({ NODE_ENV: "production" });
  });

  it("copies the compiled output from the build stage", () => {
    const { build, runtime } = stages();

    expect(copiesOf(runtime)).toContainEqual({
      from: build.name,
      sources: ["/app/dist"],
      destination: "./dist",
      flags: ["from"],
    });
    expect(copiesOf(runtime).filter(c => c.from === undefined)).toEqual([
      {
        from: undefined,
        sources: ["package.json", "package-lock.json"],
        destination: "./",
        flags: [],
      },
    ]);
  });

  it("switches to the unprivileged node user once the install is done", () => {
    const { runtime } = stages();
    const keywords = runtime.instructions.map(keywordOf);

    const users = instructionsOf(runtime, "USER").map(u => u.getArgumentsContent());

    expect(users).toEqual(["node"]);
    // Nothing runs as root after the switch.
    expect(keywords.slice(keywords.indexOf("USER"))).not.toContain("RUN");
  });

  it("starts node itself, with the command `npm start` runs, so signals reach it", () => {
    const { runtime } = stages();
    const cmd = instructionsOf(runtime, "CMD");

    expect(cmd).toHaveLength(1);
    expect(execForm(cmd[0]!)).toEqual(["node", "dist/src/main.js"]);
    expect(execForm(cmd[0]!)!.join(" ")).toBe(pkg.scripts.start);
    // No ENTRYPOINT: `docker run IMAGE node dist/src/sandbox/main.js` runs the sandbox instead.
    expect(instructionsOf(runtime, "ENTRYPOINT")).toEqual([]);
    expect(pkg.scripts.sandbox).toBe("node dist/src/sandbox/main.js");
  });

  it("exposes the default port and checks /healthz on it, without a shell", () => {
    const { runtime } = stages();

    const check = healthcheckOf(runtime);

    expect(instructionsOf(runtime, "EXPOSE").map(e => e.getArgumentsContent())).toEqual([
      DEFAULTS.PORT,
    ]);
    expect(check?.command?.[0]).toBe("node");
    expect(check?.command?.join(" ")).toContain("/healthz");
    expect(check?.command?.join(" ")).toContain(`process.env.PORT || ${DEFAULTS.PORT}`);
    expect(Object.keys(check?.flags ?? {}).sort()).toEqual([
      "interval",
      "retries",
      "start-period",
      "timeout",
    ]);
  });

  it("bakes no secret into the image", () => {
    const { all } = stages();
    const secretish = /PASSWORD|SECRET|TOKEN|KEY|LOGIN|CREDENTIAL|CACHE_URL|RRPPROXY/i;

    for (const stage of all) {
      expect(Object.keys(envOf(stage)).filter(name => secretish.test(name))).toEqual([]);
      expect(instructionsOf(stage, "ARG")).toEqual([]);
      for (const { sources } of copiesOf(stage)) {
        expect(sources.filter(s => /(^|\/)\.env|\.pem$|\.key$|npmrc/.test(s))).toEqual([]);
      }
    }
  });
});

describe(".dockerignore", () => {
  const excluded = readDockerignore();

  it("sends every file the Dockerfile copies to the builder", () => {
    const sources = stages()
      .all.flatMap((stage: Stage) => copiesOf(stage))
      .filter(c => c.from === undefined)
      .flatMap(c => c.sources);

    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) {
      expect(existsSync(join(REPO_ROOT, source))).toBe(true);
      expect({ source, excluded: excluded(source) }).toEqual({ source, excluded: false });
      expect(excluded(`${source}/any-file.ts`)).toBe(false);
    }
  });

  it("keeps secrets, the host's builds and everything else out of the context", () => {
    for (const path of [
      ".env",
      ".env.local",
      "src/.env",
      "deploy/gateway.env",
      ".git/config",
      "node_modules/typescript/package.json",
      "dist/src/main.js",
      "coverage/lcov.info",
      "test/unit/config.test.ts",
      "bench/run.ts",
      "README.md",
      "npm-debug.log",
    ]) {
      expect({ path, excluded: excluded(path) }).toEqual({ path, excluded: true });
    }
  });
});
