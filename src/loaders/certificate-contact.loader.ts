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

/**
 * The contact list query that answers many contacts at once: the first 1000 contacts of the
 * account (the largest page the provider's lists answer, manual 9.1.10), every type.
 */
export const CONTACT_SWEEP: Readonly<ContactListQuery> = Object.freeze({ offset: 0, limit: 1000 });

/**
 * What a contact list row holds, by id. Lists prime it. Otherwise one id costs the contact's own
 * record (`contactById`: a cached one costs nothing, a missing one one StatusCertificateContact),
 * and several ids in one batch cost a single QueryCertificateContactList (`CONTACT_SWEEP`, itself
 * cached as a list page) instead of one status command each: a page of certificates needs their
 * contacts' rows all at once. Ids the sweep does not list (more than 1000 contacts, or one created
 * since) fall back to their own record; so does everything when the sweep fails.
 */
export function createContactRowLoader(
  full: ContactLoader,
  page?: () => ContactPageLoader,
): ContactRowLoader {
  const one = (id: string): Promise<ContactRowRecord | null | Error> =>
    full.load(id).then(
      record => (record ? toContactRow(record) : null),
      (error: unknown) => (error instanceof Error ? error : new Error(String(error))),
    );
  return new DataLoader(
    async ids => {
      const pages = page?.();
      if (ids.length < 2 || pages === undefined) {
        return Promise.all(ids.map(one));
      }
      const listed = await pages.load(CONTACT_SWEEP).then(
        swept => new Map(swept.items.map(row => [row.id, row])),
        () => new Map<string, ContactRowRecord>(),
      );
      return Promise.all(
        ids.map(id => {
          const row = listed.get(id);
          return row ? Promise.resolve(row) : one(id);
        }),
      );
    },
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
