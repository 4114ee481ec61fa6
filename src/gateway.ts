/**
 * The composition root: wires the upstream client (or the embedded sandbox), the schema, Apollo
 * Server and the HTTP front. Nothing imports this module except `main.ts` and test helpers.
 */
import { createServer, type Server } from "node:http";
import { type AddressInfo } from "node:net";
import { ApolloServer } from "@apollo/server";
import { ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import { ApolloServerPluginDrainHttpServer } from "@apollo/server/plugin/drainHttpServer";
import { ApolloServerPluginLandingPageLocalDefault } from "@apollo/server/plugin/landingPage/default";
import { type Dispatcher } from "undici";
import { buildGatewaySchema } from "./build-schema";
import { type Config } from "./config";
import { type Context, createContext } from "./context";
import { createFormatError } from "./errors";
import { EXPLORER_DOCUMENT } from "./explorer-document";
import { createHttpHandler } from "./http-handler";
import { createMemoryIdempotencyStore, type IdempotencyStore } from "./idempotency";
import { createOperationGuardRule } from "./operation-guard";
import { startSandbox, type SandboxHandle } from "./sandbox/server";
import { createUpstreamClient, type UpstreamClient } from "./upstream/client";

/** A running gateway. */
export interface Gateway {
  /** URL of the GraphQL endpoint, e.g. `http://127.0.0.1:4000/graphql`. */
  readonly url: string;
  /** The embedded sandbox when no upstream is configured, else `undefined`. */
  readonly sandbox: SandboxHandle | undefined;
  readonly upstream: UpstreamClient;
  /** Stops accepting, lets in-flight requests finish (bounded), closes the pool and the sandbox. */
  stop(): Promise<void>;
}

/** Seams for tests and embedding: everything here has a production default. */
export interface GatewayOverrides {
  /** An undici dispatcher for the upstream client (tests inject faults between gateway and upstream). */
  readonly dispatcher?: Dispatcher;
  readonly idempotency?: IdempotencyStore;
}

/** Largest accepted request body: a CSR is ~2 KB, 250 domains ~16 KB. */
const MAX_BODY_BYTES = 256 * 1024;
/** How long a positive readiness answer is reused, so probes do not load the upstream. */
const READY_CACHE_MS = 10_000;

/**
 * Starts the gateway described by `config`: on the embedded sandbox when no upstream is
 * configured, else on `config.upstream.url`. Resolves once it listens. Throws on bind errors.
 */
export async function createGateway(
  config: Config,
  overrides: GatewayOverrides = {},
): Promise<Gateway> {
  let sandbox: SandboxHandle | undefined;
  let upstreamUrl = config.upstream.url;
  if (config.upstream.mode === "embedded") {
    sandbox = await startSandbox({
      port: 0,
      host: "127.0.0.1",
      accounts: config.sandbox.accounts,
      seed: config.sandbox.seed,
      latencyMs: config.sandbox.latencyMs,
      issuanceDelayMs: config.sandbox.issuanceDelayMs,
    });
    upstreamUrl = sandbox.url;
  }

  const upstream = createUpstreamClient({
    url: upstreamUrl,
    login: config.upstream.login,
    password: config.upstream.password,
    session: config.upstream.session,
    timeoutMs: config.upstream.timeoutMs,
    orderTimeoutMs: config.upstream.orderTimeoutMs,
    connections: config.upstream.connections,
    retries: config.upstream.retries,
    retryBaseMs: config.upstream.retryBaseMs,
    dispatcher: overrides.dispatcher,
  });
  const idempotency = overrides.idempotency ?? createMemoryIdempotencyStore();

  const httpServer: Server = createServer();
  const apollo = new ApolloServer<Context>({
    schema: await buildGatewaySchema(),
    formatError: createFormatError(config.server.exposeErrorDetails),
    introspection: config.server.introspection,
    includeStacktraceInErrorResponses: false,
    csrfPrevention: true,
    validationRules: [createOperationGuardRule()],
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      config.server.explorer
        ? ApolloServerPluginLandingPageLocalDefault({
            embed: true,
            footer: false,
            document: EXPLORER_DOCUMENT,
            includeCookies: false,
          })
        : ApolloServerPluginLandingPageDisabled(),
    ],
  });
  await apollo.start();

  let readyUntil = 0;
  const ready = async (): Promise<boolean> => {
    if (Date.now() < readyUntil) {
      return true;
    }
    await upstream.call("GetCertificateInfo", {});
    readyUntil = Date.now() + READY_CACHE_MS;
    return true;
  };

  httpServer.on(
    "request",
    createHttpHandler<Context>({
      apollo,
      maxBodyBytes: MAX_BODY_BYTES,
      ready,
      context: () =>
        Promise.resolve(
          createContext({
            upstream,
            account: config.upstream.login,
            idempotency,
            settings: config.gateway,
          }),
        ),
    }),
  );

  try {
    await new Promise<void>((resolve, reject) => {
      httpServer.once("error", reject);
      httpServer.listen(config.server.port, config.server.host, () => {
        httpServer.off("error", reject);
        resolve();
      });
    });
  } catch (error) {
    await apollo.stop();
    await upstream.close();
    await sandbox?.stop();
    throw error;
  }

  const address = httpServer.address() as AddressInfo;
  const host = /^(0\.0\.0\.0|::)$/.test(config.server.host) ? "localhost" : config.server.host;
  let stopping: Promise<void> | undefined;
  return {
    url: `http://${host}:${address.port}/graphql`,
    sandbox,
    upstream,
    stop: () => {
      stopping ??= (async () => {
        // The drain plugin stops the HTTP server and waits for in-flight requests.
        await apollo.stop();
        await upstream.close();
        await idempotency.close();
        await sandbox?.stop();
      })();
      return stopping;
    },
  };
}
