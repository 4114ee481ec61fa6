import { hashApiKey } from "../../src/auth";
import { ConfigError, DEFAULTS, loadConfig } from "../../src/config";
import { QUERY_LIMIT_DEFAULTS } from "../../src/query-limits";
import { RATE_LIMIT_DEFAULTS } from "../../src/rate-limit";

const KEY = "a-long-enough-api-key-0123";

/** The problems `loadConfig(env, io)` reports, or a failure when it accepts the env. */
function problemsOf(
  env: Record<string, string | undefined>,
  io?: Parameters<typeof loadConfig>[1],
): ConfigError {
  try {
    loadConfig(env, io);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error("expected a ConfigError");
}

function noFile(): never {
  throw new Error("no file should be read");
}

describe("loadConfig security defaults", () => {
  it("runs in keys mode without keys, with the documented limits", () => {
    const config = loadConfig({}, { readFile: noFile });

    expect(config.auth).toEqual({ mode: "keys", apiKeys: [] });
    expect(config.limits).toEqual({
      maxDepth: 12,
      maxAliases: 30,
      maxDirectives: 20,
      maxCost: 10_000,
      maxTokens: 2_000,
      maxBodyBytes: 262_144,
      rateLimitPerMinute: 600,
      upstreamBackoffMs: 300_000,
    });
    expect(config.log.level).toBe("info");
    expect(config.server.suggestions).toBe(true);
  });

  it("agrees with the modules' own defaults", () => {
    const { limits, gateway } = loadConfig({});

    expect(limits).toMatchObject({
      maxDepth: QUERY_LIMIT_DEFAULTS.maxDepth,
      maxAliases: QUERY_LIMIT_DEFAULTS.maxAliases,
      maxDirectives: QUERY_LIMIT_DEFAULTS.maxDirectives,
      maxCost: QUERY_LIMIT_DEFAULTS.maxCost,
      maxTokens: QUERY_LIMIT_DEFAULTS.maxTokens,
      rateLimitPerMinute: RATE_LIMIT_DEFAULTS.limitPerMinute,
      upstreamBackoffMs: RATE_LIMIT_DEFAULTS.backoffMs,
    });
    expect(gateway.maxPageSize).toBe(QUERY_LIMIT_DEFAULTS.maxPageSize);
  });

  it("turns suggestions off and allows no browser origin in production", () => {
    const production = loadConfig({ NODE_ENV: "production" });

    expect(production.server.suggestions).toBe(false);
    expect(production.cors).toEqual({ origins: [], allowLoopback: false });
    expect(
      loadConfig({ NODE_ENV: "production", GATEWAY_SUGGESTIONS: "on" }).server.suggestions,
    ).toBe(true);
  });

  it("allows loopback origins in development when none is listed", () => {
    expect(loadConfig({}).cors).toEqual({ origins: [], allowLoopback: true });
  });

  it("logs nothing under NODE_ENV=test unless LOG_LEVEL says otherwise", () => {
    expect(loadConfig({ NODE_ENV: "test" }).log.level).toBe("silent");
    expect(loadConfig({ NODE_ENV: "test", LOG_LEVEL: "DEBUG" }).log.level).toBe("debug");
  });

  it("accepts every new default of DEFAULTS", () => {
    expect(DEFAULTS).toMatchObject({
      GATEWAY_AUTH: "keys",
      GATEWAY_RATE_LIMIT: "600",
      GATEWAY_MAX_BODY_BYTES: "262144",
    });
    expect(loadConfig({ ...DEFAULTS }).limits).toEqual(loadConfig({}).limits);
  });
});

describe("loadConfig API keys", () => {
  it("reads GATEWAY_API_KEYS into digests", () => {
    const config = loadConfig({ GATEWAY_API_KEYS: `shop:read+order:${KEY}` });

    expect(config.auth.apiKeys).toEqual([
      { name: "shop", scopes: ["read", "order"], sha256: hashApiKey(KEY) },
    ]);
    expect(JSON.stringify(config)).not.toContain(KEY);
    expect(Object.isFrozen(config.auth.apiKeys[0])).toBe(true);
  });

  it("reads GATEWAY_API_KEYS_FILE through the injected reader", () => {
    const readFile = jest.fn(() =>
      JSON.stringify([{ name: "shop", scopes: ["read"], sha256: hashApiKey(KEY) }]),
    );

    const config = loadConfig({ GATEWAY_API_KEYS_FILE: "/run/secrets/keys.json" }, { readFile });

    expect(readFile).toHaveBeenCalledWith("/run/secrets/keys.json");
    expect(config.auth.apiKeys).toEqual([
      { name: "shop", scopes: ["read"], sha256: hashApiKey(KEY) },
    ]);
  });

  it("reports an unreadable key file with its path and error code", () => {
    const error = problemsOf(
      { GATEWAY_API_KEYS_FILE: "/nope.json" },
      {
        readFile: () => {
          throw Object.assign(new Error("ENOENT: no such file"), { code: "ENOENT" });
        },
      },
    );

    expect(error.problems).toEqual(['GATEWAY_API_KEYS_FILE: cannot read "/nope.json" (ENOENT)']);
  });

  it("reads the key file from disk by default", () => {
    const error = problemsOf({ GATEWAY_API_KEYS_FILE: "/definitely/not/here.json" });

    expect(error.problems).toEqual([expect.stringContaining("(ENOENT)")]);
  });

  it("refuses keys both inline and from a file", () => {
    const error = problemsOf(
      { GATEWAY_API_KEYS: `a:read:${KEY}`, GATEWAY_API_KEYS_FILE: "/k.json" },
      { readFile: noFile },
    );

    expect(error.problems).toEqual(["Set GATEWAY_API_KEYS or GATEWAY_API_KEYS_FILE, not both"]);
  });

  it("refuses keys in pass-through mode, where they would do nothing", () => {
    const error = problemsOf({ GATEWAY_AUTH: "passthrough", GATEWAY_API_KEYS: `a:read:${KEY}` });

    expect(error.problems).toEqual([expect.stringMatching(/GATEWAY_API_KEYS is not used with/)]);
  });

  it("reads GATEWAY_AUTH in any case and refuses other modes", () => {
    expect(loadConfig({ GATEWAY_AUTH: "PassThrough" }).auth.mode).toBe("passthrough");
    expect(problemsOf({ GATEWAY_AUTH: "none" }).problems).toEqual([
      expect.stringMatching(/^GATEWAY_AUTH must be "keys" or "passthrough"/),
    ]);
  });

  it("lists key problems with every other problem in one ConfigError, never echoing a key", () => {
    const error = problemsOf({
      PORT: "x",
      GATEWAY_API_KEYS: `shop:write:${KEY},b:read:short-${KEY.slice(0, 4)}`,
      GATEWAY_RATE_LIMIT: "0",
      LOG_LEVEL: "loud",
    });

    expect(error.problems).toHaveLength(5);
    for (const name of [
      "PORT",
      "GATEWAY_API_KEYS entry 1",
      "GATEWAY_API_KEYS entry 2",
      "GATEWAY_RATE_LIMIT",
      "LOG_LEVEL",
    ]) {
      expect(error.problems.some(p => p.includes(name))).toBe(true);
    }
    expect(error.message).not.toContain(KEY);
    expect(error.message).not.toContain(KEY.slice(0, 4));
  });
});

describe("loadConfig CORS", () => {
  it("reads exact origins and stops allowing loopback by default", () => {
    const config = loadConfig({
      GATEWAY_CORS_ORIGINS: "https://shop.example, http://localhost:5173/",
    });

    expect(config.cors).toEqual({
      origins: ["https://shop.example", "http://localhost:5173"],
      allowLoopback: false,
    });
  });

  it.each([
    "*",
    "https://shop.example/app",
    "ftp://shop.example",
    "https://u:p@shop.example",
    "shop.example",
  ])("refuses %s", origin => {
    expect(problemsOf({ GATEWAY_CORS_ORIGINS: origin }).problems).toEqual([
      expect.stringContaining("GATEWAY_CORS_ORIGINS entry 1"),
    ]);
  });

  it("does not echo credentials of an origin", () => {
    expect(
      problemsOf({ GATEWAY_CORS_ORIGINS: "https://u:hunter2@shop.example" }).message,
    ).not.toContain("hunter2");
  });
});

describe("loadConfig limits", () => {
  it("reads every limit", () => {
    const config = loadConfig({
      GATEWAY_MAX_DEPTH: "8",
      GATEWAY_MAX_ALIASES: "0",
      GATEWAY_MAX_DIRECTIVES: "5",
      GATEWAY_MAX_COST: "500",
      GATEWAY_MAX_TOKENS: "1000",
      GATEWAY_MAX_BODY_BYTES: "65536",
      GATEWAY_RATE_LIMIT: "60",
      GATEWAY_UPSTREAM_BACKOFF_MS: "60000",
    });

    expect(config.limits).toEqual({
      maxDepth: 8,
      maxAliases: 0,
      maxDirectives: 5,
      maxCost: 500,
      maxTokens: 1000,
      maxBodyBytes: 65_536,
      rateLimitPerMinute: 60,
      upstreamBackoffMs: 60_000,
    });
  });

  it.each([
    ["GATEWAY_MAX_DEPTH", "0"],
    ["GATEWAY_MAX_COST", "many"],
    ["GATEWAY_MAX_TOKENS", "10"],
    ["GATEWAY_MAX_BODY_BYTES", "100"],
    ["GATEWAY_RATE_LIMIT", "0"],
    ["GATEWAY_UPSTREAM_BACKOFF_MS", "10"],
  ])("rejects %s=%s", (name, text) => {
    expect(problemsOf({ [name]: text }).problems).toEqual([
      expect.stringMatching(new RegExp(`^${name} must be a whole number`)),
    ]);
  });
});

describe("loadConfig tracing", () => {
  it("is off without OTEL_EXPORTER_OTLP_ENDPOINT and on with an http(s) base URL", () => {
    const off = loadConfig({});
    const on = loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" });

    expect(off.tracing).toEqual({ serviceName: "rrpproxy-ssl-gateway" });
    expect(on.tracing.endpoint).toBe("http://collector:4318");
  });

  it("reports an unusable endpoint without echoing its credentials", () => {
    expect(() =>
      loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "ftp://user:s3cret@collector" }),
    ).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT[^\n]*\/\/\*\*\*@collector/);
    expect(() =>
      loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "ftp://user:s3cret@collector" }),
    ).not.toThrow(/s3cret/);
  });
});
