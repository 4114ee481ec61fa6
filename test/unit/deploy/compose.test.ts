import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parse } from "yaml";
import { checkStartupAuth, OpenModeRefusedError } from "../../../src/auth";
import { loadConfig } from "../../../src/config";
import { knownVariables, parseEnvFile, TEST_API_KEYS } from "./config-env";
import { REPO_ROOT } from "./dockerfile-model";

const DEPLOY = join(REPO_ROOT, "deploy");
const COMPOSE_FILE = join(DEPLOY, "compose.yaml");

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string>;
  env_file?: string;
  ports?: string[];
  expose?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }> | string[];
  deploy?: { replicas?: number };
  healthcheck?: { test?: string[]; disable?: boolean };
  init?: boolean;
  read_only?: boolean;
  cap_drop?: string[];
  stop_grace_period?: string;
}

function readCompose(): { services: Record<string, Service>; volumes?: Record<string, unknown> } {
  return parse(readFileSync(COMPOSE_FILE, "utf8")) as {
    services: Record<string, Service>;
  };
}

/** What dclint reports. */
interface LintMessage {
  readonly rule: string;
  readonly line: number;
  readonly message: string;
}

/** dclint's linter (an ES module with a CommonJS build, whose types node16 resolution cannot load). */
interface Linter {
  lintFiles(paths: string[], recursive: boolean): { messages: LintMessage[] }[];
}
const { DCLinter } = createRequire(__filename)("dclint") as {
  DCLinter: new (config: {
    rules: Record<string, unknown>;
    quiet: boolean;
    debug: boolean;
    exclude: string[];
  }) => Linter;
};

function lint(file: string): LintMessage[] {
  const { rules } = parse(readFileSync(join(DEPLOY, ".dclintrc.yaml"), "utf8")) as {
    rules: Record<string, unknown>;
  };
  const linter = new DCLinter({ rules, quiet: false, debug: false, exclude: [] });
  return linter.lintFiles([file], false).flatMap(result => result.messages);
}

function seconds(duration: string): number {
  const match = /^(\d+)(s|m)$/.exec(duration);
  if (!match) {
    throw new Error(`unexpected duration ${duration}`);
  }
  return Number(match[1]) * (match[2] === "m" ? 60 : 1);
}

const exampleEnv = () => parseEnvFile(readFileSync(join(DEPLOY, "gateway.env.example"), "utf8"));

describe("deploy/compose.yaml", () => {
  it("is valid against the Compose schema and passes the linter (dclint)", () => {
    const problems = lint(COMPOSE_FILE).map(m => `${m.line}: ${m.rule}: ${m.message}`);

    expect(problems).toEqual([]);
  });

  it("would be refused by the schema with an unknown key (the check is real)", () => {
    const dir = mkdtempSync(join(tmpdir(), "compose-"));
    try {
      const file = join(dir, "compose.yaml");
      writeFileSync(file, readFileSync(COMPOSE_FILE, "utf8").replace("replicas: 2", "replica: 2"));

      expect(lint(file).map(m => m.rule)).toContain("invalid-schema");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("runs two or more gateway replicas from the repository's Dockerfile, behind the load balancer only", () => {
    const { gateway } = readCompose().services;

    expect(gateway?.deploy?.replicas).toBeGreaterThanOrEqual(2);
    expect(resolve(DEPLOY, gateway!.build!.context)).toBe(REPO_ROOT);
    expect(gateway!.build!.dockerfile).toBe("Dockerfile");
    // Replicas cannot share a host port: only the load balancer publishes one.
    expect(gateway?.ports).toBeUndefined();
    expect(gateway?.init).toBe(true);
    expect(gateway?.read_only).toBe(true);
    expect(gateway?.cap_drop).toEqual(["ALL"]);
    // preStop-like headroom: the gateway drains for up to 10 s after SIGTERM.
    expect(seconds(gateway!.stop_grace_period!)).toBeGreaterThan(10);
  });

  it("sends traffic through HAProxy to ready replicas and keeps /metrics inside", () => {
    const { gateway, loadbalancer } = readCompose().services;
    const config = readFileSync(join(DEPLOY, "haproxy.cfg"), "utf8");

    expect(loadbalancer?.image).toMatch(/^haproxy:\d+\.\d+-alpine$/);
    expect(loadbalancer?.volumes).toEqual(["./haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro"]);
    expect(loadbalancer?.ports).toEqual(["127.0.0.1:8080:8080"]);
    expect(config).toMatch(/^\s*bind :8080$/m);
    expect(config).toMatch(
      new RegExp(`^\\s*server-template \\w+ \\d+ gateway:${gateway!.environment!.PORT}$`, "m"),
    );
    expect(config).toMatch(/^\s*http-check send meth GET uri \/readyz$/m);
    expect(config).toMatch(/^\s*http-request deny deny_status 404 if \{ path \/metrics \}/m);
    // Requests that reached a replica are never retried: orders cost money.
    expect(config).toMatch(/^\s*retry-on conn-failure$/m);
  });

  it("shares one Redis that never evicts idempotency keys and keeps them across restarts", () => {
    const { gateway, redis } = readCompose().services;

    expect(gateway?.environment?.CACHE_URL).toBe("redis://redis:6379");
    expect(gateway?.depends_on).toMatchObject({ redis: { condition: "service_healthy" } });
    expect(redis?.image).toMatch(/^redis:\d+(\.\d+)*-alpine$/);
    const command = redis!.command!.join(" ");
    expect(command).toContain("--maxmemory-policy noeviction");
    expect(command).toContain("--appendonly yes");
    expect(redis?.volumes).toEqual(["redis-data:/data"]);
    expect(redis?.healthcheck?.test).toEqual(["CMD", "redis-cli", "ping"]);
  });

  it("runs the sandbox from the same image with the `npm run sandbox` command", () => {
    const { sandbox, gateway } = readCompose().services;
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as {
      scripts: Record<string, string>;
    };

    expect(sandbox?.build).toEqual(gateway?.build);
    expect(sandbox?.command?.join(" ")).toBe(pkg.scripts.sandbox);
    expect(sandbox?.environment?.SANDBOX_HOST).toBe("0.0.0.0");
    // The image's HEALTHCHECK is the gateway's; the sandbox does not serve /healthz.
    expect(sandbox?.healthcheck).toEqual({ disable: true });
    const upstream = new URL(exampleEnv().RRPPROXY_URL!);
    expect(upstream.hostname).toBe("sandbox");
    expect(upstream.port).toBe(sandbox?.environment?.SANDBOX_PORT);
  });

  it("sets only variables the gateway and the sandbox know", () => {
    const known = knownVariables();
    const { services } = readCompose();
    const used = [
      ...Object.keys(exampleEnv()),
      ...Object.values(services).flatMap(s => Object.keys(s.environment ?? {})),
    ];

    expect(used.filter(name => !known.has(name))).toEqual([]);
  });
});

describe("deploy/gateway.env.example", () => {
  const gatewayEnv = () => ({ ...exampleEnv(), ...readCompose().services.gateway!.environment });

  it("holds no secret: the sandbox's public demo account and no API key", () => {
    const env = exampleEnv();
    const sandboxAccounts = readCompose().services.sandbox!.environment!.SANDBOX_ACCOUNTS;

    expect(sandboxAccounts).toContain(`${env.RRPPROXY_LOGIN}:${env.RRPPROXY_PASSWORD}`);
    expect(env.GATEWAY_API_KEYS).toBeUndefined();
    expect(env.GATEWAY_API_KEYS_FILE).toBeUndefined();
  });

  it("loads, but the gateway refuses to start until an API key is set", () => {
    const config = loadConfig(gatewayEnv());
    const where = {
      host: config.server.host,
      embeddedSandbox: config.upstream.mode === "embedded",
    };

    expect(config.upstream.mode).toBe("remote");
    expect(config.cache.kind).toBe("redis");
    expect(config.server.production).toBe(true);
    expect(() => checkStartupAuth(config.auth, where)).toThrow(OpenModeRefusedError);
    const withKey = loadConfig({ ...gatewayEnv(), GATEWAY_API_KEYS: TEST_API_KEYS });
    expect(checkStartupAuth(withKey.auth, where).open).toBe(false);
  });
});
