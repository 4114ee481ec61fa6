/**
 * The composition root: wires the upstream client (or the embedded sandbox), the shared store,
 * the idempotency store, the schema, Apollo Server and the HTTP front. Nothing imports this module
 * except `main.ts` and test helpers.
 */
import { createServer, type Server } from "node:http";
import { type AddressInfo } from "node:net";
import { ApolloServer } from "@apollo/server";
import { ApolloServerPluginCacheControl } from "@apollo/server/plugin/cacheControl";
import { ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import { ApolloServerPluginDrainHttpServer } from "@apollo/server/plugin/drainHttpServer";
import { ApolloServerPluginLandingPageLocalDefault } from "@apollo/server/plugin/landingPage/default";
import { KeyvAdapter } from "@apollo/utils.keyvadapter";
import { type Dispatcher } from "undici";
import { buildGatewaySchema } from "./build-schema";
import { createCache, type GatewayCache } from "./cache";
import { type Config } from "./config";
import { type Context, createContext } from "./context";
import { createFormatError } from "./errors";
import { EXPLORER_DOCUMENT } from "./explorer-document";
import { createHttpHandler, type ReadinessReport } from "./http-handler";
import {
  createMemoryIdempotencyStore,
  createRedisIdempotencyStore,
  type IdempotencyStore,
} from "./idempotency";
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
  /** The shared store (`CACHE_URL`): its `stats()` are the cache's metrics. */
  readonly cache: GatewayCache;
  /**
   * Stops accepting, lets in-flight requests finish (bounded), closes the pool, the stores (the
   * Redis connection) and the sandbox.
   */
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
  const cache = createCache(config.cache);
  const idempotency = overrides.idempotency ?? createIdempotencyStore(cache);
  // Persisted queries live in the shared store, so a hash registered through one replica is
  // known to all. With CACHE_URL=off, Apollo keeps them in its own in-process LRU.
  const persistedQueriesStore = cache.keyv();

  const httpServer: Server = createServer();
  const apollo = new ApolloServer<Context>({
    schema: await buildGatewaySchema(),
    formatError: createFormatError(config.server.exposeErrorDetails),
    introspection: config.server.introspection,
    includeStacktraceInErrorResponses: false,
    csrfPrevention: true,
    validationRules: [createOperationGuardRule()],
    persistedQueries: persistedQueriesStore
      ? { cache: new KeyvAdapter(persistedQueriesStore) }
      : undefined,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      // Cache-Control from the schema's @cacheControl hints; unhinted objects and roots: no-store.
      ApolloServerPluginCacheControl({ defaultMaxAge: 0 }),
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
  const upstreamReachable = async (): Promise<boolean> => {
    if (Date.now() < readyUntil) {
      return true;
    }
    await upstream.call("GetCertificateInfo", {});
    readyUntil = Date.now() + READY_CACHE_MS;
    return true;
  };
  // Ready means "the upstream answers". The store is reported but does not decide: without
  // Redis reads still work (every read a miss) and only orders with an idempotency key are
  // refused; taking every replica out of rotation when the one Redis they share fails would turn
  // that into a full outage.
  const ready = async (): Promise<ReadinessReport> => {
    const [reachable, storeUp] = await Promise.all([
      upstreamReachable().catch(() => false),
      cache.ping(),
    ]);
    return {
      ready: reachable,
      checks: {
        upstream: reachable ? "ok" : "down",
        store: cache.kind === "off" ? "off" : storeUp ? "ok" : "down",
      },
    };
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
            cache,
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
    await idempotency.close();
    await cache.close();
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
    cache,
    stop: () => {
      stopping ??= (async () => {
        // The drain plugin stops the HTTP server and waits for in-flight requests.
        await apollo.stop();
        await upstream.close();
        await idempotency.close();
        // After the idempotency store: the Redis one uses the cache's connection.
        await cache.close();
        await sandbox?.stop();
      })();
      return stopping;
    },
  };
}

/**
 * Idempotency keys go where the cache is: in the shared Redis when there is one, so a key
 * claimed through one replica blocks it on every other; else in this process's memory.
 */
function createIdempotencyStore(cache: GatewayCache): IdempotencyStore {
  const redis = cache.redis();
  return redis ? createRedisIdempotencyStore(redis) : createMemoryIdempotencyStore();
}
