import { ConfigError, DEFAULTS, loadConfig, UPSTREAM_URLS } from "../../src/config";
import { CIRCUIT_BREAKER_DEFAULTS } from "../../src/upstream/circuit-breaker";
import { CLIENT_DEFAULTS } from "../../src/upstream/client";

/** The problems `loadConfig(env)` reports, or a failure when it accepts the env. */
function problemsOf(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error("expected a ConfigError");
}

const REMOTE = {
  RRPPROXY_URL: "ote",
  RRPPROXY_LOGIN: "reseller",
  RRPPROXY_PASSWORD: "correct horse battery staple",
};

describe("loadConfig defaults", () => {
  it("runs on the embedded sandbox with the documented defaults when nothing is set", () => {
    const config = loadConfig({});

    expect(config.upstream).toEqual({
      mode: "embedded",
      url: "",
      login: "demo",
      password: "demo",
      session: false,
      timeoutMs: 30_000,
      orderTimeoutMs: 300_000,
      connections: 64,
      retries: 2,
      retryBaseMs: 200,
      circuitFailures: 5,
      circuitOpenMs: 10_000,
    });
    expect(config.server).toMatchObject({ port: 4000, host: "0.0.0.0", production: false });
    expect(config.cache).toEqual({ kind: "memory", url: "" });
    expect(config.sandbox.port).toBe(4100);
    expect(config.sandbox.accounts).toEqual([{ login: "demo", password: "demo" }]);
  });

  it("parses every default of DEFAULTS without a problem", () => {
    const config = loadConfig({ ...DEFAULTS });

    expect(config).toEqual(loadConfig({}));
    expect(config.sandbox.seed).toBe(Number(DEFAULTS.SANDBOX_SEED));
  });

  it("agrees with the upstream client's own defaults", () => {
    const { upstream } = loadConfig({});

    expect({
      session: upstream.session,
      timeoutMs: upstream.timeoutMs,
      orderTimeoutMs: upstream.orderTimeoutMs,
      connections: upstream.connections,
      retries: upstream.retries,
      retryBaseMs: upstream.retryBaseMs,
    }).toEqual(CLIENT_DEFAULTS);
  });

  it("agrees with the circuit breaker's and Apollo's drain defaults", () => {
    const { upstream, server, gateway } = loadConfig({});

    expect({
      failureThreshold: upstream.circuitFailures,
      openMs: upstream.circuitOpenMs,
    }).toEqual(CIRCUIT_BREAKER_DEFAULTS);
    // ApolloServerPluginDrainHttpServer's own default stopGracePeriodMillis.
    expect(server.shutdownGraceMs).toBe(10_000);
    expect(gateway.reconcileAfterMs).toBe(upstream.orderTimeoutMs);
    expect(loadConfig({ RRPPROXY_ORDER_TIMEOUT_MS: "1500" }).gateway.reconcileAfterMs).toBe(1500);
  });

  it("treats blank variables as unset", () => {
    const config = loadConfig({ PORT: "  ", RRPPROXY_URL: "", RRPPROXY_LOGIN: " ", CACHE_URL: "" });

    expect(config.server.port).toBe(4000);
    expect(config.upstream.mode).toBe("embedded");
    expect(config.cache.kind).toBe("memory");
  });

  it("turns error details, explorer and introspection off in production unless asked for", () => {
    const production = loadConfig({ NODE_ENV: "production" });
    const opted = loadConfig({ NODE_ENV: "production", GATEWAY_INTROSPECTION: "yes" });

    expect(production.server).toMatchObject({
      production: true,
      exposeErrorDetails: false,
      explorer: false,
      introspection: false,
    });
    expect(opted.server.introspection).toBe(true);
    expect(loadConfig({}).server.exposeErrorDetails).toBe(true);
  });
});

describe("loadConfig upstream", () => {
  it.each([
    ["ote", UPSTREAM_URLS.ote],
    ["OTE", UPSTREAM_URLS.ote],
    ["live", UPSTREAM_URLS.live],
    ["Live", UPSTREAM_URLS.live],
  ])("resolves the preset %s", (preset, url) => {
    const config = loadConfig({ ...REMOTE, RRPPROXY_URL: preset });

    expect(config.upstream).toMatchObject({
      mode: "remote",
      url,
      login: "reseller",
      password: "correct horse battery staple",
    });
  });

  it("knows the provider's endpoints", () => {
    expect(UPSTREAM_URLS).toEqual({
      live: "https://api.rrpproxy.net/api/call.cgi",
      ote: "https://api-ote.rrpproxy.net/api/call.cgi",
    });
  });

  it("accepts an http(s) URL of call.cgi as is", () => {
    const config = loadConfig({ ...REMOTE, RRPPROXY_URL: "http://127.0.0.1:4100/api/call.cgi" });

    expect(config.upstream.url).toBe("http://127.0.0.1:4100/api/call.cgi");
  });

  it("keeps the password as given, blanks included", () => {
    expect(loadConfig({ ...REMOTE, RRPPROXY_PASSWORD: " p w " }).upstream.password).toBe(" p w ");
  });

  it("needs a login and a password with a URL", () => {
    const { problems } = problemsOf({ RRPPROXY_URL: "ote" });

    expect(problems).toEqual([
      expect.stringContaining("RRPPROXY_LOGIN"),
      expect.stringContaining("RRPPROXY_PASSWORD"),
    ]);
  });

  it("needs a URL with a login", () => {
    const { problems } = problemsOf({ RRPPROXY_LOGIN: "reseller", RRPPROXY_PASSWORD: "x" });

    expect(problems).toEqual([expect.stringMatching(/RRPPROXY_URL is required/)]);
  });

  it.each(["ftp://example.com/api/call.cgi", "not a url", "https://"])(
    "rejects the URL %s",
    url => {
      expect(problemsOf({ ...REMOTE, RRPPROXY_URL: url }).problems).toEqual([
        expect.stringContaining("RRPPROXY_URL"),
      ]);
    },
  );

  it("rejects credentials in the URL without echoing them", () => {
    const error = problemsOf({
      ...REMOTE,
      RRPPROXY_URL: "https://reseller:hunter2@api.example/call.cgi",
    });

    expect(error.problems).toEqual([expect.stringContaining("must not contain credentials")]);
    expect(error.message).not.toContain("hunter2");
  });

  it("reads session, timeouts, pool size and retries", () => {
    const config = loadConfig({
      ...REMOTE,
      RRPPROXY_SESSION: "on",
      RRPPROXY_TIMEOUT_MS: "5000",
      RRPPROXY_ORDER_TIMEOUT_MS: "120000",
      RRPPROXY_CONNECTIONS: "16",
      RRPPROXY_RETRIES: "0",
      RRPPROXY_RETRY_BASE_MS: "50",
    });

    expect(config.upstream).toMatchObject({
      session: true,
      timeoutMs: 5_000,
      orderTimeoutMs: 120_000,
      connections: 16,
      retries: 0,
      retryBaseMs: 50,
    });
  });

  it.each([
    ["1", true],
    ["TRUE", true],
    ["yes", true],
    ["0", false],
    ["off", false],
    ["No", false],
  ])("reads the flag value %s", (text, expected) => {
    expect(loadConfig({ RRPPROXY_SESSION: text }).upstream.session).toBe(expected);
  });
});

describe("loadConfig problems", () => {
  it("reports every problem at once in one ConfigError", () => {
    const error = problemsOf({
      PORT: "70000",
      RRPPROXY_URL: "ote",
      RRPPROXY_TIMEOUT_MS: "soon",
      RRPPROXY_RETRIES: "11",
      RRPPROXY_SESSION: "maybe",
      CACHE_URL: "memcached://x",
      SANDBOX_ACCOUNTS: "nocolon",
    });

    expect(error.problems).toHaveLength(8);
    for (const name of [
      "PORT",
      "RRPPROXY_LOGIN",
      "RRPPROXY_PASSWORD",
      "RRPPROXY_TIMEOUT_MS",
      "RRPPROXY_RETRIES",
      "RRPPROXY_SESSION",
      "CACHE_URL",
      "SANDBOX_ACCOUNTS",
    ]) {
      expect(error.problems.some(p => p.includes(name))).toBe(true);
    }
    expect(error.message.split("\n")).toHaveLength(9);
    expect(error.name).toBe("ConfigError");
  });

  it.each([
    ["RRPPROXY_TIMEOUT_MS", "0"],
    ["RRPPROXY_TIMEOUT_MS", "1.5"],
    ["RRPPROXY_TIMEOUT_MS", "-1"],
    ["RRPPROXY_CONNECTIONS", "0"],
    ["RRPPROXY_RETRY_BASE_MS", "60001"],
    ["GATEWAY_IDEMPOTENCY_TTL_MS", "1000"],
    ["RRPPROXY_CIRCUIT_FAILURES", "0"],
    ["RRPPROXY_CIRCUIT_OPEN_MS", "soon"],
    ["GATEWAY_SHUTDOWN_GRACE_MS", "600001"],
  ])("rejects %s=%s", (name, text) => {
    expect(problemsOf({ [name]: text }).problems).toEqual([
      expect.stringMatching(new RegExp(`^${name} must be a whole number`)),
    ]);
  });

  it("never echoes the password", () => {
    const password = "s3cret-Pa55word";
    const error = problemsOf({
      RRPPROXY_URL: "nonsense",
      RRPPROXY_PASSWORD: password,
      PORT: "x",
      SANDBOX_ACCOUNTS: `alice:${password},bob`,
    });

    expect(error.message).not.toContain(password);
    expect(error.problems.join("\n")).not.toContain(password);
  });

  it("does not echo credentials of a URL it cannot use", () => {
    const error = problemsOf({ ...REMOTE, RRPPROXY_URL: "ftp://reseller:hunter2@example.com/" });

    expect(error.message).toContain("RRPPROXY_URL");
    expect(error.message).not.toContain("hunter2");
  });
});

describe("loadConfig CACHE_URL", () => {
  it.each([
    ["off", { kind: "off", url: "" }],
    ["OFF", { kind: "off", url: "" }],
    ["memory", { kind: "memory", url: "" }],
    ["redis://cache:6379/0", { kind: "redis", url: "redis://cache:6379/0" }],
    ["rediss://:pw@cache.example:6380", { kind: "redis", url: "rediss://:pw@cache.example:6380" }],
  ])("reads %s", (text, expected) => {
    expect(loadConfig({ CACHE_URL: text }).cache).toEqual(expected);
  });

  it.each(["0", "http://cache:6379", "keyv"])("rejects %s without echoing it", text => {
    const error = problemsOf({ CACHE_URL: text });

    expect(error.problems).toEqual([expect.stringContaining("CACHE_URL")]);
    expect(error.message).not.toContain(text);
  });

  it("does not echo a redis password", () => {
    const error = problemsOf({ CACHE_URL: "redis://:topsecret@[bad-host" });

    expect(error.message).not.toContain("topsecret");
  });
});

describe("loadConfig SANDBOX_ACCOUNTS", () => {
  it("reads a comma-separated list of login:password, trimming entries", () => {
    const config = loadConfig({ SANDBOX_ACCOUNTS: " alice:one , bob:pa:ss ,carol:3" });

    expect(config.sandbox.accounts).toEqual([
      { login: "alice", password: "one" },
      { login: "bob", password: "pa:ss" },
      { login: "carol", password: "3" },
    ]);
  });

  it("gives the embedded gateway the first account's credentials", () => {
    const config = loadConfig({ SANDBOX_ACCOUNTS: "alice:one,bob:two" });

    expect(config.upstream).toMatchObject({ mode: "embedded", login: "alice", password: "one" });
  });

  it("uses the remote credentials, not a sandbox account, in remote mode", () => {
    const config = loadConfig({ ...REMOTE, SANDBOX_ACCOUNTS: "alice:one" });

    expect(config.upstream.login).toBe("reseller");
  });

  it.each(["nocolon", ":pw", "login:", "alice:one,,bob:two"])(
    "rejects the malformed list %s, naming the entry by position only",
    text => {
      const error = problemsOf({ SANDBOX_ACCOUNTS: text });

      expect(error.problems).toEqual([
        expect.stringMatching(/^SANDBOX_ACCOUNTS entry \d+ must be login:password/),
      ]);
      expect(error.message).not.toContain("pw");
    },
  );
});

describe("loadConfig result", () => {
  it("is deeply frozen", () => {
    const config = loadConfig({ SANDBOX_ACCOUNTS: "alice:one" });

    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.upstream)).toBe(true);
    expect(Object.isFrozen(config.sandbox.accounts)).toBe(true);
    expect(Object.isFrozen(config.sandbox.accounts[0])).toBe(true);
    expect(() => {
      (config.upstream as { timeoutMs: number }).timeoutMs = 1;
    }).toThrow(TypeError);
  });

  it("reads only the env it is given and does not change it", () => {
    const env = Object.freeze({ PORT: "8080" });

    expect(loadConfig(env).server.port).toBe(8080);
    expect(env).toEqual({ PORT: "8080" });
  });

  it("freezes DEFAULTS", () => {
    expect(Object.isFrozen(DEFAULTS)).toBe(true);
  });
});

describe("loadConfig live status", () => {
  it("polls every 2 s on the embedded sandbox and every 30 s against a remote upstream", () => {
    expect(loadConfig({}).events).toEqual({
      pollMs: 2_000,
      leaseMs: 6_000,
      logMaxPerAccount: 10_000,
      expiryThresholdsDays: [30, 14, 3],
      expiryScanMs: 3_600_000,
    });
    expect(loadConfig(REMOTE).events).toMatchObject({ pollMs: 30_000, leaseMs: 90_000 });
    expect(loadConfig({}).webhooks).toEqual({ allowPrivateTargets: false, timeoutMs: 10_000 });
    expect(loadConfig({}).subscriptions).toEqual({ maxConnections: 1000 });
  });

  it("reads the poll interval, lease, history size, thresholds and webhook settings", () => {
    const config = loadConfig({
      ...REMOTE,
      GATEWAY_EVENTS_POLL_MS: "250",
      GATEWAY_EVENTS_LEASE_MS: "5000",
      GATEWAY_EVENT_LOG_MAX: "50",
      GATEWAY_EXPIRY_THRESHOLDS_DAYS: " 7, 60 ,1",
      GATEWAY_EXPIRY_SCAN_MS: "60000",
      GATEWAY_WEBHOOK_ALLOW_PRIVATE: "on",
      GATEWAY_WEBHOOK_TIMEOUT_MS: "2000",
      GATEWAY_WS_MAX_CONNECTIONS: "0",
    });

    expect(config.events).toEqual({
      pollMs: 250,
      leaseMs: 5_000,
      logMaxPerAccount: 50,
      expiryThresholdsDays: [60, 7, 1],
      expiryScanMs: 60_000,
    });
    expect(config.webhooks).toEqual({ allowPrivateTargets: true, timeoutMs: 2_000 });
    expect(config.subscriptions.maxConnections).toBe(0);
  });

  it("switches the poller off with 0 and the expiry watch off with off", () => {
    const config = loadConfig({
      GATEWAY_EVENTS_POLL_MS: "0",
      GATEWAY_EXPIRY_THRESHOLDS_DAYS: "off",
    });

    expect(config.events.pollMs).toBe(0);
    expect(config.events.leaseMs).toBe(6_000);
    expect(config.events.expiryThresholdsDays).toEqual([]);
  });

  it("reports every bad live-status setting at once", () => {
    const error = problemsOf({
      GATEWAY_EVENTS_POLL_MS: "5",
      GATEWAY_EXPIRY_THRESHOLDS_DAYS: "30,14,14",
      GATEWAY_EVENT_LOG_MAX: "0",
      GATEWAY_WEBHOOK_ALLOW_PRIVATE: "maybe",
      GATEWAY_WS_MAX_CONNECTIONS: "-1",
    });

    expect(error.problems).toEqual([
      expect.stringContaining("GATEWAY_EVENTS_POLL_MS must be 0 (no poller)"),
      expect.stringContaining("GATEWAY_EVENT_LOG_MAX"),
      expect.stringContaining("GATEWAY_EXPIRY_THRESHOLDS_DAYS must be distinct whole days"),
      expect.stringContaining("GATEWAY_WEBHOOK_ALLOW_PRIVATE"),
      expect.stringContaining("GATEWAY_WS_MAX_CONNECTIONS"),
    ]);
  });

  it("refuses thresholds that are not whole days from 1 to 3650", () => {
    for (const text of ["0", "30,x", "4000", "1.5", "30,,3"]) {
      expect(problemsOf({ GATEWAY_EXPIRY_THRESHOLDS_DAYS: text }).problems).toEqual([
        expect.stringContaining("GATEWAY_EXPIRY_THRESHOLDS_DAYS"),
      ]);
    }
  });

  it("refuses a lease no longer than the poll interval", () => {
    expect(
      problemsOf({ GATEWAY_EVENTS_POLL_MS: "5000", GATEWAY_EVENTS_LEASE_MS: "5000" }).problems,
    ).toEqual([expect.stringContaining("must be longer than GATEWAY_EVENTS_POLL_MS")]);
  });
});
