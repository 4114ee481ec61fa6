/**
 * The composition root: wires the upstream client (or the embedded sandbox), the shared store,
 * the idempotency store, the schema, Apollo Server and the HTTP front. Nothing imports this module
 * except `main.ts` and test helpers.
 */
import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import { type AddressInfo } from "node:net";
import { hostname } from "node:os";
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
import { type Context, createContext, createLiveServices } from "./context";
import { createFormatError } from "./errors";
import { EXPLORER_DOCUMENT, EXPLORER_VARIABLES } from "./explorer-document";
import { answerClientError, createHttpHandler, type ReadinessReport } from "./http-handler";
import {
  createMemoryIdempotencyStore,
  createRedisIdempotencyStore,
  type IdempotencyStore,
} from "./idempotency";
import { createMemoryEventBus, createRedisEventBus } from "./live/event-bus";
import {
  createMemoryEventClaims,
  createRedisEventClaims,
  DEFAULT_DONE_TTL_MS,
} from "./live/event-claims";
import { createMemoryEventLog, createRedisEventLog } from "./live/event-log";
import { createEventPipeline } from "./live/event-pipeline";
import { createEventPoller, type EventPoller, type PollResult } from "./live/event-poller";
import { createMemoryLease, createRedisLease } from "./live/lease";
import { type EventBus, type EventClaims, type EventLog, type Lease } from "./live/types";
import { createWebhookService, type ManagedWebhookService } from "./live/webhooks";
import {
  createLogger,
  createRequestLogPlugin,
  createUpstreamCallLogger,
  runWithLogger,
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
import { createResponseCachePlugin } from "./response-cache";
import { startSandbox, type SandboxHandle } from "./sandbox/server";
import {
  attachSubscriptionServer,
  createHttpSubscriptionGuard,
  type SubscriptionServer,
} from "./subscription-server";
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
  /** Live status: the event poller, the event bus and the webhook worker of this replica. */
  readonly events: GatewayEvents;
  /** The WebSocket endpoint of subscriptions; `undefined` with `GATEWAY_WS_MAX_CONNECTIONS=0`. */
  readonly subscriptions: SubscriptionServer | undefined;
  /**
   * Stops accepting, lets in-flight requests finish (bounded), closes the pool, the stores (the
   * Redis connection) and the sandbox.
   */
  stop(): Promise<void>;
}

/** The live-status parts of a running gateway (see `Gateway.events`). */
export interface GatewayEvents {
  /**
   * The poller of the configured upstream account; `undefined` with `GATEWAY_EVENTS_POLL_MS=0`.
   * Every replica runs one; only the holder of the account's lease polls.
   */
  readonly poller: EventPoller | undefined;
  /**
   * Runs one poll now (joining one under way) instead of waiting for the interval; `undefined`
   * without a poller. Never rejects.
   */
  pollOnce(): Promise<PollResult | undefined>;
  /** Resolves once this replica's event-bus subscriptions hear events (Redis SUBSCRIBE done). */
  ready(): Promise<void>;
  /** The webhook service; `deliverDue()` attempts what is due now. */
  readonly webhooks: ManagedWebhookService;
}

/** An admitted caller: authenticated, within its rate limit, with the client it calls with. */
interface Caller {
  readonly scopes: readonly Scope[];
  /** What rate limits count under. */
  readonly rateKey: string;
  /** The upstream login its calls are made as. */
  readonly account: string;
  /** Who owns its webhooks: the key's name, `open`, or `account:<tag>` in pass-through. */
  readonly owner: string;
  readonly client: UpstreamClient;
}

/** The context of a request as Apollo sees it: the resolvers' `Context`, scopes and the caller. */
type GatewayContext = Context & { readonly scopes: readonly Scope[]; readonly caller: Caller };

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
  const live = createLiveStores(config, cache, logger);
  const liveServices = createLiveServices({
    log: live.log,
    webhooks: live.webhooks,
    bus: live.bus,
  });
  const hitRateLimit = async (rateKey: string): Promise<void> => {
    const decision = await rateLimiter.hit(rateKey);
    if (!decision.allowed) {
      throw new RateLimitedError(decision);
    }
  };
  /** Authenticated, within its rate limit, pass-through credentials verified; else throws. */
  const admit = async (auth: AuthResult): Promise<Caller> => {
    if (auth.kind === "denied") {
      throw auth.error;
    }
    await hitRateLimit(auth.rateKey);
    if (auth.kind === "passthrough") {
      // Before anything is served: the store holds this login's records under its name.
      await verifier.verify(auth.login, auth.password);
      return {
        scopes: auth.scopes,
        rateKey: auth.rateKey,
        account: auth.login,
        owner: auth.rateKey,
        client: withPassthroughAuth(clientFor(auth.login, auth.password, false), auth, verifier),
      };
    }
    return {
      scopes: auth.scopes,
      rateKey: auth.rateKey,
      account: config.upstream.login,
      owner: auth.kind === "key" ? auth.name : "open",
      client: upstream,
    };
  };
  /** A context with fresh loaders for `caller`. No I/O. */
  const contextOf = (caller: Caller): GatewayContext => ({
    ...createContext({
      upstream: caller.client,
      account: caller.account,
      cache,
      idempotency,
      settings: config.gateway,
      observeBatchSize: metrics.observeBatchSize,
      live: liveServices,
      owner: caller.owner,
    }),
    // Apollo copies the context per operation: the scopes travel as a property of it.
    scopes: caller.scopes,
    caller,
  });
  const contextFor = async (auth: AuthResult): Promise<GatewayContext> =>
    contextOf(await admit(auth));
  const formatError = createFormatError(config.server.exposeErrorDetails);
  // Persisted queries live in the shared store, so a hash registered through one replica is
  // known to all. With CACHE_URL=off, Apollo keeps them in its own in-process LRU.
  const persistedQueriesStore = cache.keyv();

  const httpServer: Server = createServer();
  const tracingPlugin = tracing.apolloPlugin<GatewayContext>();
  // Whole responses of repeated queries, keyed by account and list generation (off: none).
  const responseCache = createResponseCachePlugin<GatewayContext>(cache);
  const schema = await buildGatewaySchema();
  const validationRules = [
    createOperationGuardRule(),
    ...createQueryLimitRules({
      maxDepth: config.limits.maxDepth,
      maxAliases: config.limits.maxAliases,
      maxDirectives: config.limits.maxDirectives,
      maxPageSize: config.gateway.maxPageSize,
    }),
  ];
  const apollo = new ApolloServer<GatewayContext>({
    schema,
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
    validationRules,
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
      // Subscriptions are served over WebSocket (below), never run as an HTTP query.
      createHttpSubscriptionGuard<GatewayContext>(),
      // Scopes first: a caller without the scope learns nothing about the operation's cost.
      createScopePlugin<GatewayContext>(context => context.scopes),
      createCostLimitPlugin<GatewayContext>({
        maxCost: config.limits.maxCost,
        maxPageSize: config.gateway.maxPageSize,
      }),
      createRequestLogPlugin<GatewayContext>(logger),
      // A stored answer is looked up only after the checks above passed (didResolveOperation).
      ...(responseCache ? [responseCache] : []),
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

  // Same port and path as HTTP: the WebSocket upgrade of /graphql.
  const subscriptions =
    config.subscriptions.maxConnections > 0
      ? attachSubscriptionServer<Caller, GatewayContext>({
          httpServer,
          schema,
          path: "/graphql",
          connect: authorization => admit(authenticate({ authorization })),
          context: async caller => {
            await hitRateLimit(caller.rateKey);
            return contextOf(caller);
          },
          renew: context => contextOf(context.caller),
          scopes: context => context.scopes,
          validationRules,
          suggestions: config.server.suggestions,
          maxTokens: config.limits.maxTokens,
          maxCost: config.limits.maxCost,
          maxPageSize: config.gateway.maxPageSize,
          formatError: (formatted, error) => withTokenLimitCode(formatError(formatted, error)),
          cors: config.cors,
          maxConnections: config.subscriptions.maxConnections,
          maxPayloadBytes: config.limits.maxBodyBytes,
          logger,
        })
      : undefined;

  try {
    await new Promise<void>((resolve, reject) => {
      httpServer.once("error", reject);
      httpServer.listen(config.server.port, config.server.host, () => {
        httpServer.off("error", reject);
        resolve();
      });
    });
  } catch (error) {
    await subscriptions?.stop();
    await apollo.stop();
    await live.close();
    await upstream.close();
    await idempotency.close();
    await cache.close();
    await pool?.destroy();
    await sandbox?.stop();
    await settledWithin(tracing.shutdown(), TRACING_FLUSH_MS);
    throw error;
  }

  // One poller per replica for the configured account; only the lease holder polls.
  const poller =
    config.events.pollMs > 0
      ? createEventPoller({
          account: config.upstream.login,
          upstream,
          pipeline: live.pipeline,
          lease: live.lease,
          holder: `${hostname()}:${process.pid}:${randomUUID()}`,
          intervalMs: config.events.pollMs,
          leaseTtlMs: config.events.leaseMs,
          expiry:
            config.events.expiryThresholdsDays.length > 0
              ? {
                  thresholdsDays: config.events.expiryThresholdsDays,
                  scanIntervalMs: config.events.expiryScanMs,
                }
              : undefined,
          logger: logger.child({ component: "event-poller" }),
        })
      : undefined;
  // The poller's own upstream calls (a QueryEventList every interval) are logged at debug only:
  // at info they would drown the request log. Its summaries and failures still show.
  const pollerCalls = logger.child(
    { component: "event-poller" },
    { level: /^(debug|trace)$/.test(config.log.level) ? config.log.level : "warn" },
  );
  if (poller) {
    runWithLogger(pollerCalls, () => poller.start());
  }
  live.webhooks.start();

  const address = httpServer.address() as AddressInfo;
  const host = /^(0\.0\.0\.0|::)$/.test(config.server.host) ? "localhost" : config.server.host;
  let stopping: Promise<void> | undefined;
  return {
    url: `http://${host}:${address.port}/graphql`,
    sandbox,
    upstream,
    cache,
    metrics,
    events: {
      poller,
      pollOnce: async () => poller?.pollOnce(),
      ready: () => liveServices.ready(),
      webhooks: live.webhooks,
    },
    subscriptions,
    stop: () => {
      stopping ??= (async () => {
        const graceEnds = performance.now() + config.server.shutdownGraceMs;
        const graceLeft = (): number => Math.max(0, graceEnds - performance.now());
        // WebSockets first (closed with 1001: clients reconnect elsewhere), then the poller
        // (waits for a poll under way and releases the lease, so another replica takes over).
        await subscriptions?.stop();
        await settledWithin(poller?.stop() ?? Promise.resolve(), graceLeft());
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
        // Webhook attempts under way finish within what is left of the grace period (at least
        // 2 s); then the live stores, before Redis closes. A delivery cut off is attempted again.
        await settledWithin(live.close(), Math.max(graceLeft(), 2_000));
        await idempotency.close();
        // After the idempotency store and the live stores: they use the cache's connection.
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

/** The live-status stores of one gateway and what is built on them. */
interface LiveStores {
  readonly log: EventLog;
  readonly claims: EventClaims;
  readonly lease: Lease;
  readonly bus: EventBus & { ready?(): Promise<void> };
  readonly webhooks: ManagedWebhookService;
  readonly pipeline: ReturnType<typeof createEventPipeline>;
  /** Stops the webhook worker and closes the bus and the log (not the Redis connection). */
  close(): Promise<void>;
}

/**
 * Events, claims, the poller's lease, the bus and webhooks go where the cache is: in the shared
 * Redis when there is one, so the replicas poll once, process each event once and hear each
 * other's events; else in this process's memory (one replica).
 */
function createLiveStores(config: Config, cache: GatewayCache, logger: Logger): LiveStores {
  const redis = cache.redisConnection();
  const report =
    (what: string) =>
    (error: Error): void =>
      logger.warn({ err: error, live: what }, `${what} failed`);
  const log = redis
    ? createRedisEventLog(redis, {
        maxPerAccount: config.events.logMaxPerAccount,
        onError: report("event log"),
      })
    : createMemoryEventLog({ maxPerAccount: config.events.logMaxPerAccount });
  // Expiry warnings are deduplicated by their claims: remembered past the largest threshold.
  const doneTtlMs = Math.max(
    DEFAULT_DONE_TTL_MS,
    (Math.max(0, ...config.events.expiryThresholdsDays) + 1) * 86_400_000,
  );
  const claims = redis
    ? createRedisEventClaims(redis, { doneTtlMs, onError: report("event claims") })
    : createMemoryEventClaims({ doneTtlMs });
  const lease = redis
    ? createRedisLease(redis, { onError: report("poller lease") })
    : createMemoryLease();
  const bus = redis
    ? createRedisEventBus(redis, { onError: report("event bus") })
    : createMemoryEventBus({ onError: report("event listener") });
  const webhooks = createWebhookService({
    redis,
    allowPrivateTargets: config.webhooks.allowPrivateTargets,
    timeoutMs: config.webhooks.timeoutMs,
    onError: (error, operation) =>
      logger.warn({ err: error, webhooks: operation }, `webhook ${operation} failed`),
  });
  const pipeline = createEventPipeline({
    cache,
    log,
    claims,
    bus,
    webhooks,
    onError: report("event claim release"),
  });
  return {
    log,
    claims,
    lease,
    bus,
    webhooks,
    pipeline,
    close: async () => {
      await webhooks.stop();
      await bus.close();
      await log.close();
    },
  };
}
