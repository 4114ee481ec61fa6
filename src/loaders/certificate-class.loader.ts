import DataLoader from "dataloader";
import { type UpstreamClient } from "../upstream/client";
import { decodeClass, decodeClassName, decodeClassNames } from "../upstream/records";
import { type ClassRecord } from "../upstream/types";
import { fetchEach } from "./fetch-each";
import { type Limiter } from "./limiter";

/** Certificate classes by name, case-insensitive (`classByName`); `null` when unknown. */
export type ClassLoader = DataLoader<string, ClassRecord | null, string>;

/** The only key of `classNames`: the list has no parameters. */
export const ALL_CLASSES = "all";

/** The list of class names under the single key `ALL_CLASSES` (`classNames`). */
export type ClassNamesLoader = DataLoader<typeof ALL_CLASSES, string[]>;

/**
 * Certificate classes by name (case-insensitive): one GetCertificateInfo CLASS=<name> per
 * distinct class, concurrently under the request's limiter. An unknown (or empty) class name
 * loads as `null`.
 * Per request.
 */
export function createClassLoader(upstream: UpstreamClient, limit: Limiter): ClassLoader {
  return new DataLoader(
    names =>
      fetchEach(names, limit, async name => {
        const className = decodeClassName(name);
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

/** The names of every class (GetCertificateInfo without CLASS), lower case. Per request. */
export function createClassNamesLoader(upstream: UpstreamClient, limit: Limiter): ClassNamesLoader {
  return new DataLoader(
    keys =>
      limit(async () => {
        const names = decodeClassNames(await upstream.call("GetCertificateInfo", {}));
        return keys.map(() => names);
      }),
    { name: "classNames" },
  );
}
