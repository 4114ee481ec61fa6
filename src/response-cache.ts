/**
 * Whole-response caching of queries (Apollo's response cache plugin) on the shared store.
 *
 * A repeated query (a dashboard refreshed, a page polled) is answered from the stored response
 * without executing it: no resolver, loader or record lookup runs, only the request pipeline
 * (authentication, rate limit, scopes and cost checks still run first, in `didResolveOperation`).
 *
 * What may be stored and for how long follows the schema's cache hints (`@cacheControl`: records
 * 10 s, private; the catalogue an hour), so a response is never older than the hints allow. What
 * keeps it correct after a change is the key: it holds the upstream account (never served to
 * another, whatever the scope) and the account's list generation, which every mutation of the
 * account and every processed upstream event replaces on every replica. A query that started
 * before a change may store its answer, but under the old generation: nobody reads it again.
 * Mutations, responses with errors and subscriptions are never stored. Without a store
 * (`CACHE_URL=off`) or while the store cannot say the generation, nothing is read or written.
 */
import { type ApolloServerPlugin, type BaseContext } from "@apollo/server";
import responseCachePlugin from "@apollo/server-plugin-response-cache";
import { KeyvAdapter } from "@apollo/utils.keyvadapter";
import { accountTag, type GatewayCache } from "./cache";

/** What the plugin needs of a request's context: whose data it is. */
export interface ResponseCacheContext extends BaseContext {
  /** The upstream login the request reads as. */
  readonly account: string;
}

/**
 * The response cache plugin over `cache`'s `gw:v1:resp:` keys, or `undefined` when the cache is
 * off. One per gateway.
 */
export function createResponseCachePlugin<TContext extends ResponseCacheContext>(
  cache: GatewayCache,
): ApolloServerPlugin<TContext> | undefined {
  const keyv = cache.responseKeyv();
  if (!keyv) {
    return undefined;
  }
  // The generation each request's key was built with; absent: the store failed, skip the cache.
  const generations = new WeakMap<object, string>();
  const usable = (context: TContext): Promise<boolean> => Promise.resolve(generations.has(context));
  return responseCachePlugin<TContext>({
    cache: new KeyvAdapter(keyv),
    sessionId: ({ contextValue }) => Promise.resolve(accountTag(contextValue.account)),
    extraCacheKeyData: async ({ contextValue }) => {
      const generation = await cache.listGeneration(contextValue.account);
      if (generation !== undefined) {
        generations.set(contextValue, generation);
      }
      // Public answers (the catalogue) are keyed by it too: nothing crosses accounts.
      return { account: accountTag(contextValue.account), generation: generation ?? null };
    },
    shouldReadFromCache: ({ contextValue }) => usable(contextValue),
    shouldWriteToCache: ({ contextValue }) => usable(contextValue),
  });
}
