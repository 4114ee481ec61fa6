import { UpstreamError } from "../upstream/errors";
import { type Limiter } from "./limiter";

/**
 * Reply codes of a keyed read that mean "no such object" (manual: 545 entity reference not found;
 * 541 invalid attribute value and 505 invalid syntax for ids that cannot exist).
 */
const ABSENT_CODES: ReadonlySet<number> = new Set([505, 541, 545]);

/** True when `error` is the upstream saying that the object asked for does not exist. */
export function isAbsentError(error: unknown): boolean {
  return (
    error instanceof UpstreamError &&
    error.code === "UPSTREAM_REJECTED" &&
    error.upstreamCode !== undefined &&
    ABSENT_CODES.has(error.upstreamCode)
  );
}

/**
 * The batch function body shared by the keyed loaders: one upstream read per key, all of them
 * concurrently under `limit`. Follows the DataLoader contract: one entry per key in key order,
 * `null` for an absent object, an `Error` for a key the upstream refused. A failure that is not
 * about one key (unreachable, timeout, authentication, protocol) rejects the whole batch.
 */
export async function fetchEach<K, V>(
  keys: readonly K[],
  limit: Limiter,
  fetch: (key: K) => Promise<V>,
): Promise<(V | null | Error)[]> {
  const settled = await Promise.allSettled(keys.map(key => limit(() => fetch(key))));
  const results: (V | null | Error)[] = [];
  for (const outcome of settled) {
    if (outcome.status === "fulfilled") {
      results.push(outcome.value);
      continue;
    }
    const error: unknown = outcome.reason;
    if (isAbsentError(error)) {
      results.push(null);
    } else if (error instanceof UpstreamError && error.code !== "UPSTREAM_REJECTED") {
      throw error;
    } else {
      results.push(error instanceof Error ? error : new Error(String(error)));
    }
  }
  return results;
}

/**
 * A `DataLoader` cache key for list queries: the object's entries sorted by key, `undefined`
 * left out, so equal queries share one upstream call whatever order their fields were set in.
 */
export function queryKey(query: object): string {
  const entries = Object.entries(query)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify(entries);
}
