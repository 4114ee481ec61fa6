/**
 * The GraphQL context: what every resolver of one request shares. `createContext` is called once
 * per request by the composition root; it builds fresh loaders, so nothing read for one request
 * is served to another.
 */
import { type Config } from "./config";
import { type IdempotencyStore } from "./idempotency";
import { createLoaders, forgetChanges, type LoaderChanges, type Loaders } from "./loaders";
import { type UpstreamClient } from "./upstream/client";

/** The gateway's own limits, as `config.gateway` holds them. */
export type GatewaySettings = Config["gateway"];

/** What `createContext` is built from: shared by every request of the gateway. */
export interface ContextDeps {
  /** The upstream client (one pool for the whole gateway). */
  readonly upstream: UpstreamClient;
  /** The upstream login the client sends: the scope of idempotency keys. */
  readonly account: string;
  /** Where idempotency keys are claimed (shared by every request and, in production, instance). */
  readonly idempotency: IdempotencyStore;
  /** `config.gateway`: fetch concurrency, page size limit, idempotency TTL. */
  readonly settings: GatewaySettings;
}

/** The context of one GraphQL request. */
export interface Context {
  /** For mutations and un-keyed reads; keyed reads go through `loaders`. */
  readonly upstream: UpstreamClient;
  /** This request's loaders (memoised per request). */
  readonly loaders: Loaders;
  /** The upstream login: the scope of idempotency keys. */
  readonly account: string;
  readonly idempotency: IdempotencyStore;
  readonly settings: GatewaySettings;
  /** Makes this request's loaders forget what a mutation changed (see `forgetChanges`). */
  forget(changes: LoaderChanges): void;
}

/**
 * Builds the context of one request: fresh loaders sharing one limiter of
 * `settings.fetchConcurrency` upstream reads. Never throws; does no I/O.
 */
export function createContext(deps: ContextDeps): Context {
  const loaders = createLoaders({
    upstream: deps.upstream,
    fetchConcurrency: deps.settings.fetchConcurrency,
  });
  return {
    upstream: deps.upstream,
    loaders,
    account: deps.account,
    idempotency: deps.idempotency,
    settings: deps.settings,
    forget: changes => forgetChanges(loaders, changes),
  };
}
