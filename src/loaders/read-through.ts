import { type CacheNamespace, type GatewayCache } from "../cache";
import { fetchEach } from "./fetch-each";
import { type Limiter } from "./limiter";

/**
 * The shared store as one request's loaders see it: the cache, and the upstream account every
 * value they read or write is keyed by. Values of one account are never served to another.
 */
export interface CacheScope {
  readonly cache: GatewayCache;
  /** The upstream login the request's reads are made as. */
  readonly account: string;
  /** Observer of batch sizes (metrics): called once per batch with the namespace and its size. */
  readonly observeBatchSize?: (loader: string, size: number) => void;
}

/**
 * `fetchEach` through the shared store: keys the store holds cost no upstream call; the others
 * are fetched (one read per key, concurrently under `limit`) and stored with the policy's TTL.
 * Concurrent misses of the same key in this process share one fetch (`cache.readThrough`).
 *
 * Same contract as `fetchEach`: one entry per key in key order, `null` for an absent object
 * (never stored), an `Error` for a key the upstream refused (never stored); a failure that is
 * not about one key rejects. A request that joined another's fetch of a refused key gets `null`.
 */
export async function fetchEachCached<V>(
  scope: CacheScope,
  namespace: CacheNamespace,
  keys: readonly string[],
  limit: Limiter,
  fetch: (key: string) => Promise<V | null>,
): Promise<(V | null | Error)[]> {
  scope.observeBatchSize?.(namespace, keys.length);
  const refused = new Map<string, Error>();
  const found = await scope.cache.readThrough(namespace, scope.account, keys, async missing => {
    const results = await fetchEach(missing, limit, fetch);
    const loaded = new Map<string, V>();
    missing.forEach((key, index) => {
      const result = results[index];
      if (result instanceof Error) {
        refused.set(key, result);
      } else if (result !== null && result !== undefined) {
        loaded.set(key, result);
      }
    });
    return loaded;
  });
  return keys.map(key => found.get(key) ?? refused.get(key) ?? null);
}

/**
 * List pages through the shared store, keyed by `keyOf(query)` (a canonical serialisation, so
 * equal queries share an entry). Missing pages are fetched concurrently under `limit`; any
 * failure rejects the whole batch, as a list has no per-key errors. Pages are stored under the
 * account's list generation, so every mutation of the account drops them all.
 */
export async function fetchPagesCached<Q, P>(
  scope: CacheScope,
  namespace: CacheNamespace,
  queries: readonly Q[],
  keyOf: (query: Q) => string,
  limit: Limiter,
  fetch: (query: Q) => Promise<P>,
): Promise<P[]> {
  scope.observeBatchSize?.(namespace, queries.length);
  const byKey = new Map(queries.map(query => [keyOf(query), query]));
  const found = await scope.cache.readThrough(
    namespace,
    scope.account,
    [...byKey.keys()],
    missing =>
      Promise.all(missing.map(key => limit(() => fetch(byKey.get(key)!)))).then(
        pages => new Map(missing.map((key, index) => [key, pages[index]!])),
      ),
  );
  return queries.map(query => {
    const page = found.get(keyOf(query));
    if (page === undefined) {
      // load returned every missing key, so only a broken store could get here.
      throw new Error(`list page ${keyOf(query)} was neither stored nor loaded`);
    }
    return page;
  });
}
