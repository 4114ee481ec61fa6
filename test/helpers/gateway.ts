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

/**
 * Starts a sandbox on port 0 and a gateway on port 0 pointed at it, through the same `loadConfig`
 * path as production. The cache is off unless `env.CACHE_URL` says otherwise, so one test's reads
 * cannot hide another's upstream calls. Stop it in `afterAll`.
 */
export async function startTestGateway(
  env: Record<string, string> = {},
  options: { sandbox?: TestSandboxOptions; overrides?: GatewayOverrides } = {},
): Promise<TestGateway> {
  const sandbox = await startSandbox({ issuanceDelayMs: 0, ...options.sandbox, port: 0 });
  const account = sandbox.accounts[0]!;
  const config = loadConfig({
    NODE_ENV: "test",
    PORT: "0",
    HOST: "127.0.0.1",
    CACHE_URL: "off",
    RRPPROXY_URL: sandbox.url,
    RRPPROXY_LOGIN: account.login,
    RRPPROXY_PASSWORD: account.password,
    RRPPROXY_RETRY_BASE_MS: "5",
    RRPPROXY_TIMEOUT_MS: "5000",
    RRPPROXY_ORDER_TIMEOUT_MS: "10000",
    ...env,
  });
  let gateway: Gateway;
  try {
    gateway = await createGateway(config, options.overrides);
  } catch (error) {
    await sandbox.stop();
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
      await sandbox.stop();
    },
  };
}
