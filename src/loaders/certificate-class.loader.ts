import DataLoader from "dataloader";
import { type UpstreamClient } from "../upstream/client";
import { decodeClass, decodeClassName, decodeClassNames } from "../upstream/records";
import { type ClassRecord } from "../upstream/types";
import { type Limiter } from "./limiter";
import { type CacheScope, fetchEachCached } from "./read-through";

/** Certificate classes by name, case-insensitive (`classByName`); `null` when unknown. */
export type ClassLoader = DataLoader<string, ClassRecord | null, string>;

/** The only key of `classNames`: the list has no parameters. */
export const ALL_CLASSES = "all";

/** The list of class names under the single key `ALL_CLASSES` (`classNames`). */
export type ClassNamesLoader = DataLoader<typeof ALL_CLASSES, string[]>;

/**
 * Certificate classes by name (case-insensitive), read through the shared store (`class`, under
 * the lower-case name); the classes it lacks cost one GetCertificateInfo CLASS=<name> each,
 * concurrently under the request's limiter. An unknown (or empty) class name loads as `null`.
 * Per request.
 */
export function createClassLoader(
  upstream: UpstreamClient,
  store: CacheScope,
  limit: Limiter,
): ClassLoader {
  return new DataLoader(
    names =>
      fetchEachCached(store, "class", names.map(decodeClassName), limit, async className => {
        if (className === "") {
          return null;
        }
        const record = decodeClass(
          await upstream.call("GetCertificateInfo", { class: className }),
          className,
        );
        // A reply about another class (or the class list) is no answer about this one.
        return record.name === className ? record : null;
      }),
    { name: "classByName", cacheKeyFn: decodeClassName },
  );
}

/**
 * The names of every class (GetCertificateInfo without CLASS), lower case, read through the
 * shared store (`classList`). Per request.
 */
export function createClassNamesLoader(
  upstream: UpstreamClient,
  store: CacheScope,
  limit: Limiter,
): ClassNamesLoader {
  return new DataLoader(
    async keys => {
      const found = await store.cache.readThrough(
        "classList",
        store.account,
        [ALL_CLASSES],
        async () =>
          new Map([
            [
              ALL_CLASSES,
              decodeClassNames(await limit(() => upstream.call("GetCertificateInfo", {}))),
            ],
          ]),
      );
      const names = found.get(ALL_CLASSES) ?? [];
      return keys.map(() => names);
    },
    { name: "classNames" },
  );
}
