import DataLoader from "dataloader";
import { type UpstreamClient } from "../upstream/client";
import { decodeContact, decodeContactRows, toContactRow } from "../upstream/records";
import { type ContactRecord, type ContactRowRecord, type PageRecord } from "../upstream/types";
import { queryKey } from "./fetch-each";
import { type Limiter } from "./limiter";
import { type CacheScope, fetchEachCached, fetchPagesCached } from "./read-through";

/** Full certificate contacts by id (`contactById`); `null` for an unknown id. */
export type ContactLoader = DataLoader<string, ContactRecord | null>;
/** List-row views of contacts by id (`contactRowById`). */
export type ContactRowLoader = DataLoader<string, ContactRowRecord | null>;

/** One page of QueryCertificateContactList; values are the upstream's pattern parameters. */
export interface ContactListQuery {
  offset: number;
  limit: number;
  /** `organization`, `tech` or `evapprover`. */
  type?: string;
  email?: string;
}

/** Pages of the contact list by query (`contactPage`). */
export type ContactPageLoader = DataLoader<ContactListQuery, PageRecord<ContactRowRecord>, string>;

/**
 * Full certificate contacts by id, read through the shared store (`contact`); the ids it lacks
 * cost one StatusCertificateContact each, concurrently under the request's limiter. An unknown
 * id loads as `null`. Per request.
 */
export function createContactLoader(
  upstream: UpstreamClient,
  store: CacheScope,
  limit: Limiter,
): ContactLoader {
  return new DataLoader(
    ids =>
      fetchEachCached(store, "contact", ids, limit, async id =>
        decodeContact(
          await upstream.call("StatusCertificateContact", { certificatecontact: id }),
          id,
        ),
      ),
    { name: "contactById" },
  );
}

/** What a contact list row holds, by id; primed by lists, else the row view of `contactById`. */
export function createContactRowLoader(full: ContactLoader): ContactRowLoader {
  return new DataLoader(
    ids =>
      Promise.all(
        ids.map(id =>
          full.load(id).then(
            record => (record ? toContactRow(record) : null),
            (error: unknown) => (error instanceof Error ? error : new Error(String(error))),
          ),
        ),
      ),
    { name: "contactRowById" },
  );
}

/**
 * Pages of QueryCertificateContactList (`wide=1`), keyed by query and read through the shared
 * store (`contactList`); every row primes `rows`. Per request.
 */
export function createContactPageLoader(
  upstream: UpstreamClient,
  store: CacheScope,
  limit: Limiter,
  rows: ContactRowLoader,
): ContactPageLoader {
  return new DataLoader<ContactListQuery, PageRecord<ContactRowRecord>, string>(
    async queries => {
      const pages = await fetchPagesCached(
        store,
        "contactList",
        queries,
        queryKey,
        limit,
        async query =>
          decodeContactRows(
            await upstream.call("QueryCertificateContactList", {
              wide: 1,
              first: query.offset,
              limit: query.limit,
              type: query.type,
              email: query.email,
            }),
            query.offset,
          ),
      );
      for (const page of pages) {
        for (const row of page.items) {
          rows.prime(row.id, row);
        }
      }
      return pages;
    },
    { name: "contactPage", cacheKeyFn: queryKey },
  );
}
