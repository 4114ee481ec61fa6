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
import { type Dispatcher, Pool } from "undici";
import {
  type AuthResult,
  checkStartupAuth,
  createAuthenticator,
  createCredentialVerifier,
  createScopePlugin,
  type Scope,
  withPassthroughAuth,
} from "./auth";
import { buildGatewaySchema } from "./build-schema";
import { createCache, type GatewayCache } from "./cache";
import { type Config } from "./config";
import { type Context, createContext } from "./context";
import { createFormatError } from "./errors";
import { EXPLORER_DOCUMENT, EXPLORER_VARIABLES } from "./explorer-document";
import { answerClientError, createHttpHandler, type ReadinessReport } from "./http-handler";
import {
  createMemoryIdempotencyStore,
  createRedisIdempotencyStore,
  type IdempotencyStore,
} from "./idempotency";
import {
  createLogger,
  createRequestLogPlugin,
  createUpstreamCallLogger,
  type Logger,
} from "./logger";
import {
  createMetrics,
  type GatewayMetrics,
  metricsHandler,
  metricsPlugin,
  withReplayMetrics,
} from "./metrics";
import { createOperationGuardRule } from "./operation-guard";
import { createCostLimitPlugin, createQueryLimitRules, withTokenLimitCode } from "./query-limits";
import {
  createRateLimiter,
  createUpstreamBackoff,
  RateLimitedError,
  withBackoff,
} from "./rate-limit";
import { startSandbox, type SandboxHandle } from "./sandbox/server";
import { createTracing } from "./tracing";
import { createCircuitBreaker } from "./upstream/circuit-breaker";
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
  /** Prometheus metrics of this process (served on `/metrics`). */
  readonly metrics: GatewayMetrics;
  /**
   * Stops accepting, lets in-flight requests finish (bounded), closes the pool, the stores (the
   * Redis connection) and the sandbox.
   */
  stop(): Promise<void>;
}

/** The context of a request as Apollo sees it: the resolvers' `Context` and the caller's scopes. */
type GatewayContext = Context & { readonly scopes: readonly Scope[] };

/** Seams for tests and embedding: everything here has a production default. */
export interface GatewayOverrides {
  /** An undici dispatcher for the upstream client (tests inject faults between gateway and upstream). */
  readonly dispatcher?: Dispatcher;
  readonly idempotency?: IdempotencyStore;
  /** Where logs go; default `createLogger({ level: config.log.level })` (stdout). */
  readonly logger?: Logger;
}

/** How long stop() waits for the last spans: a dead collector must not hold it. */
const TRACING_FLUSH_MS = 2_000;
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
  const logger = overrides.logger ?? createLogger({ level: config.log.level });
  // Before anything starts: a gateway without keys on a public address must not come up.
  const startup = checkStartupAuth(config.auth, {
    host: config.server.host,
    embeddedSandbox: config.upstream.mode === "embedded",
  });
  logger.info({ auth: config.auth.mode, open: startup.open }, startup.notice);
  // Off (no OTEL_EXPORTER_OTLP_ENDPOINT): loads no OpenTelemetry code, wraps nothing.
  const tracing = createTracing(config.tracing);
  if (tracing.enabled) {
    logger.info({ serviceName: config.tracing.serviceName }, "OpenTelemetry tracing on");
  }
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

  const cache = createCache(config.cache, {
    onEvent: event => logger.warn({ cache: event }, `cache ${event.type}`),
  });
  const rawIdempotency = overrides.idempotency ?? createIdempotencyStore(cache);
  const onStoreError = (error: Error): void =>
    logger.warn({ err: error }, "rate-limit store failed");
  // One breaker for the upstream host, shared by every account's client.
  const breaker = createCircuitBreaker({
    failureThreshold: config.upstream.circuitFailures,
    openMs: config.upstream.circuitOpenMs,
    onStateChange: change => logger.warn({ circuit: change }, `upstream circuit ${change.to}`),
  });
  const backoff = createUpstreamBackoff({
    cooldownMs: config.limits.upstreamBackoffMs,
    cache,
    onStoreError,
  });
  const rateLimiter = createRateLimiter({
    limitPerMinute: config.limits.rateLimitPerMinute,
    cache,
    onStoreError,
  });
  const metrics = createMetrics({
    cacheStats: () => cache.stats(),
    circuitState: breaker.state,
    rateLimiterStats: () => rateLimiter.stats(),
  });
  const idempotency = withReplayMetrics(rawIdempotency, metrics);
  const logCall = createUpstreamCallLogger(logger);
  // One pool for every client (pass-through makes one per request, never in session mode). The
  // gateway owns it, so that stop() can cut off calls still waiting once the grace period is over.
  const pool = overrides.dispatcher
    ? undefined
    : new Pool(new URL(upstreamUrl).origin, {
        connections: config.upstream.connections,
        headersTimeout: Math.max(config.upstream.timeoutMs, config.upstream.orderTimeoutMs),
        bodyTimeout: Math.max(config.upstream.timeoutMs, config.upstream.orderTimeoutMs),
      });
  // Tracing outermost, so breaker and abuse-lock refusals show as spans too.
  const clientFor = (login: string, password: string, session: boolean): UpstreamClient =>
    tracing.wrapClient(
      withBackoff(
        breaker.wrap(
          createUpstreamClient({
            url: upstreamUrl,
            login,
            password,
            session,
            timeoutMs: config.upstream.timeoutMs,
            orderTimeoutMs: config.upstream.orderTimeoutMs,
            connections: config.upstream.connections,
            retries: config.upstream.retries,
            retryBaseMs: config.upstream.retryBaseMs,
            dispatcher: overrides.dispatcher ?? pool,
            onCall: event => {
              logCall(event);
              metrics.onUpstreamCall(event);
              tracing.onUpstreamCall(event);
            },
          }),
        ),
        login,
        backoff,
      ),
    );
  const upstream = clientFor(
    config.upstream.login,
    config.upstream.password,
    config.upstream.session,
  );
  const verifier = createCredentialVerifier({
    check: async (login, password) => {
      await clientFor(login, password, false).call("QueryCertificateContactList", { limit: 1 });
    },
  });
  const authenticate = createAuthenticator(config.auth);
  const contextFor = async (auth: AuthResult): Promise<GatewayContext> => {
    if (auth.kind === "denied") {
      throw auth.error;
    }
    const decision = await rateLimiter.hit(auth.rateKey);
    if (!decision.allowed) {
      throw new RateLimitedError(decision);
    }
    let client = upstream;
    let account = config.upstream.login;
    if (auth.kind === "passthrough") {
      // Before anything is served: the store holds this login's records under its name.
      await verifier.verify(auth.login, auth.password);
      client = withPassthroughAuth(clientFor(auth.login, auth.password, false), auth, verifier);
      account = auth.login;
    }
    // Apollo copies the context per operation: the scopes travel as a property of it.
    return {
      ...createContext({
        upstream: client,
        account,
        cache,
        idempotency,
        settings: config.gateway,
        observeBatchSize: metrics.observeBatchSize,
      }),
      scopes: auth.scopes,
    };
  };
  const formatError = createFormatError(config.server.exposeErrorDetails);
  // Persisted queries live in the shared store, so a hash registered through one replica is
  // known to all. With CACHE_URL=off, Apollo keeps them in its own in-process LRU.
  const persistedQueriesStore = cache.keyv();

  const httpServer: Server = createServer();
  const tracingPlugin = tracing.apolloPlugin<GatewayContext>();
  const apollo = new ApolloServer<GatewayContext>({
    schema: await buildGatewaySchema(),
    formatError: (formatted, error) => withTokenLimitCode(formatError(formatted, error)),
    introspection: config.server.introspection,
    hideSchemaDetailsFromClientErrors: !config.server.suggestions,
    includeStacktraceInErrorResponses: false,
    csrfPrevention: true,
    // main.ts owns SIGTERM/SIGINT: Apollo's own handler would re-raise the signal and kill the
    // process before the pools, the stores and the session are closed.
    stopOnTerminationSignals: false,
    allowBatchedHttpRequests: false,
    parseOptions: { maxTokens: config.limits.maxTokens },
    validationRules: [
      createOperationGuardRule(),
      ...createQueryLimitRules({
        maxDepth: config.limits.maxDepth,
        maxAliases: config.limits.maxAliases,
        maxDirectives: config.limits.maxDirectives,
        maxPageSize: config.gateway.maxPageSize,
      }),
    ],
    persistedQueries: persistedQueriesStore
      ? { cache: new KeyvAdapter(persistedQueriesStore) }
      : undefined,
    plugins: [
      // First: its span times the whole request, the other plugins' work included.
      ...(tracingPlugin ? [tracingPlugin] : []),
      metricsPlugin<GatewayContext>(metrics),
      // On stop: refuse new connections, close idle keep-alive ones, let requests in flight
      // finish for at most the grace period, then close their connections too.
      ApolloServerPluginDrainHttpServer({
        httpServer,
        stopGracePeriodMillis: config.server.shutdownGraceMs,
      }),
      // Scopes first: a caller without the scope learns nothing about the operation's cost.
      createScopePlugin<GatewayContext>(context => context.scopes),
      createCostLimitPlugin<GatewayContext>({
        maxCost: config.limits.maxCost,
        maxPageSize: config.gateway.maxPageSize,
      }),
      createRequestLogPlugin<GatewayContext>(logger),
      // Cache-Control from the schema's @cacheControl hints; unhinted objects and roots: no-store.
      ApolloServerPluginCacheControl({ defaultMaxAge: 0 }),
      config.server.explorer
        ? ApolloServerPluginLandingPageLocalDefault({
            embed: true,
            footer: false,
            document: EXPLORER_DOCUMENT,
            variables: EXPLORER_VARIABLES,
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

  httpServer.on("clientError", answerClientError);
  httpServer.on(
    "request",
    createHttpHandler<GatewayContext>({
      apollo,
      maxBodyBytes: config.limits.maxBodyBytes,
      ready,
      cors: config.cors,
      metrics: metricsHandler(metrics),
      logger,
      context: request => contextFor(authenticate(request.headers)),
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
    await pool?.destroy();
    await sandbox?.stop();
    await settledWithin(tracing.shutdown(), TRACING_FLUSH_MS);
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
    metrics,
    stop: () => {
      stopping ??= (async () => {
        const graceEnds = performance.now() + config.server.shutdownGraceMs;
        const graceLeft = (): number => Math.max(0, graceEnds - performance.now());
        // The drain plugin stops accepting and waits for in-flight requests, at most the grace
        // period; then it closes their connections.
        await apollo.stop();
        // Ends the upstream session (best effort) and lets upstream calls still under way finish
        // within what is left of the grace period; then they are cut off, so that stop() never
        // waits for a hung upstream's timeouts.
        await settledWithin(upstream.close(), graceLeft());
        if (pool) {
          await settledWithin(pool.close(), graceLeft());
          await pool.destroy().catch(() => undefined);
        }
        await idempotency.close();
        // After the idempotency store: the Redis one uses the cache's connection.
        await cache.close();
        await sandbox?.stop();
        // Last: exports the spans of the requests drained above.
        await settledWithin(tracing.shutdown(), Math.max(graceLeft(), TRACING_FLUSH_MS));
      })();
      return stopping;
    },
  };
}

/** Resolves once `promise` settled (either way) or `ms` passed, whichever is first. */
async function settledWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    promise.catch(() => undefined),
    new Promise<void>(resolve => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
}

/**
 * Idempotency keys go where the cache is: in the shared Redis when there is one, so a key
 * claimed through one replica blocks it on every other; else in this process's memory.
 */
function createIdempotencyStore(cache: GatewayCache): IdempotencyStore {
  const redis = cache.redis();
  return redis ? createRedisIdempotencyStore(redis) : createMemoryIdempotencyStore();
}
