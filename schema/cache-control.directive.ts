import { Directive } from "type-graphql";

/**
 * The cache hints of the schema, in seconds (Apollo's unit). Apollo Server's cache-control plugin
 * turns them into each response's `Cache-Control` header: the smallest `maxAge` of the fields
 * the response holds, `private` as soon as one of them is private, and `no-store` when that
 * smallest age is 0, which is the default of root fields and object-typed fields without a hint,
 * and of every mutation. They are for HTTP caches and clients; the gateway's own store has its
 * own TTLs (src/cache-policy.ts), which these never exceed.
 */
export const CACHE_HINT_SECONDS = Object.freeze({
  /** The product catalogue (classes): the same for every account, changes a few times a year. */
  catalog: 60 * 60,
  /** Certificates and orders: the CA moves them on (issuance, cancels) within seconds. */
  record: 10,
  /** Contacts: immutable once created; only their verification status changes (slowly). */
  contact: 5 * 60,
  /** Pages of the certificate, order and contact lists. */
  list: 10,
});

/** What one `@cacheControl` says (Apollo's directive, arguments as it defines them). */
export interface CacheHint {
  /** Seconds; 0 means "never store". */
  readonly maxAge?: number;
  /** `PRIVATE`: for the client that asked only (a browser), never a shared cache. */
  readonly scope?: "PUBLIC" | "PRIVATE";
  /** Take the maxAge of the parent field (value objects inside a hinted type). */
  readonly inheritMaxAge?: boolean;
}

/**
 * Applies Apollo's `@cacheControl` to an object type or a field (root fields included). The
 * directive lives on the schema's AST only: it is not declared in the SDL, and `printSchema`
 * leaves applied directives out, so `schema/schema.graphql` does not change with the hints.
 */
export function CacheControl(hint: CacheHint): ReturnType<typeof Directive> {
  const args: string[] = [];
  if (hint.maxAge !== undefined) {
    args.push(`maxAge: ${Math.max(0, Math.floor(hint.maxAge))}`);
  }
  if (hint.scope !== undefined) {
    args.push(`scope: ${hint.scope}`);
  }
  if (hint.inheritMaxAge) {
    args.push("inheritMaxAge: true");
  }
  return Directive(`@cacheControl(${args.join(", ")})`);
}

/** Mutations: never stored by any cache, whatever the types they answer with say. */
export const NO_STORE: CacheHint = Object.freeze({ maxAge: 0 });
