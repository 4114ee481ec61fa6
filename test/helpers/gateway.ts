import { type TypedDocumentNode } from "@graphql-typed-document-node/core";
import { type ExecutionResult, print } from "graphql";
import { request } from "undici";
import { loadConfig } from "../../src/config";
import { createGateway, type Gateway, type GatewayOverrides } from "../../src/gateway";
import { type SandboxHandle, startSandbox } from "../../src/sandbox/server";

/** What `startSandbox` takes, as far as tests tune it. */
export type TestSandboxOptions = Omit<NonNullable<Parameters<typeof startSandbox>[0]>, "port">;

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

export interface TestGateway {
  readonly url: string;
  readonly sandbox: SandboxHandle;
  readonly gateway: Gateway;
  /** POSTs a typed document over real HTTP and returns the GraphQL result. */
  query<TResult, TVariables>(
    document: TypedDocumentNode<TResult, TVariables>,
    variables?: TVariables,
    headers?: Record<string, string>,
  ): Promise<ExecutionResult<TResult>>;
  /** POSTs any body (or a string) and returns status, headers and the parsed JSON body. */
  queryRaw(body: unknown, headers?: Record<string, string>): Promise<RawResponse>;
  stop(): Promise<void>;
}

/** Options of `startTestGateway`. */
export interface TestGatewayOptions {
  /** Options of the sandbox the helper starts (ignored with `attachTo`). */
  sandbox?: TestSandboxOptions;
  /**
   * A running sandbox to use instead of starting one, e.g. another test gateway's: several
   * gateways on one sandbox act as replicas. `stop()` then leaves the sandbox running.
   */
  attachTo?: SandboxHandle;
  /** The sandbox login the gateway sends (default: the sandbox's first account). */
  login?: string;
  overrides?: GatewayOverrides;
}

/**
 * Starts a sandbox on port 0 (or uses `options.attachTo`) and a gateway on port 0 pointed at it,
 * through the same `loadConfig` path as production. The cache is off unless `env.CACHE_URL` says
 * otherwise, so one test's reads cannot hide another's upstream calls, and so is the event poller
 * unless `env.GATEWAY_EVENTS_POLL_MS` says otherwise. Stop it in `afterAll`.
 */
export async function startTestGateway(
  env: Record<string, string> = {},
  options: TestGatewayOptions = {},
): Promise<TestGateway> {
  const attached = options.attachTo;
  const sandbox =
    attached ?? (await startSandbox({ issuanceDelayMs: 0, ...options.sandbox, port: 0 }));
  const stopSandbox = async (): Promise<void> => {
    if (!attached) {
      await sandbox.stop();
    }
  };
  const account =
    options.login === undefined
      ? sandbox.accounts[0]
      : sandbox.accounts.find(a => a.login === options.login);
  if (!account) {
    await stopSandbox();
    throw new Error(`the sandbox has no account ${options.login ?? "(none at all)"}`);
  }
  const config = loadConfig({
    NODE_ENV: "test",
    LOG_LEVEL: "silent",
    PORT: "0",
    HOST: "127.0.0.1",
    CACHE_URL: "off",
    RRPPROXY_URL: sandbox.url,
    RRPPROXY_LOGIN: account.login,
    RRPPROXY_PASSWORD: account.password,
    RRPPROXY_RETRY_BASE_MS: "5",
    RRPPROXY_TIMEOUT_MS: "5000",
    RRPPROXY_ORDER_TIMEOUT_MS: "10000",
    // No event poller unless a test is about events: its calls would show in sandbox.calls.
    GATEWAY_EVENTS_POLL_MS: "0",
    ...env,
  });
  let gateway: Gateway;
  try {
    gateway = await createGateway(config, options.overrides);
  } catch (error) {
    await stopSandbox();
    throw error;
  }

  async function queryRaw(body: unknown, headers: Record<string, string> = {}) {
    const response = await request(gateway.url, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await response.body.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // keep the text: some tests look at non-JSON answers
    }
    return { status: response.statusCode, headers: response.headers, body: parsed };
  }

  return {
    url: gateway.url,
    sandbox,
    gateway,
    queryRaw,
    async query(document, variables, headers) {
      const response = await queryRaw({ query: print(document), variables }, headers);
      return response.body as ExecutionResult<never>;
    },
    async stop() {
      await gateway.stop();
      await stopSandbox();
    },
  };
}
