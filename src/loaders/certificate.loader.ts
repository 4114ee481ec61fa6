import DataLoader from "dataloader";
import { type UpstreamClient } from "../upstream/client";
import { decodeCertificate, decodeCertificateRows, toCertificateRow } from "../upstream/records";
import {
  type CertificateRecord,
  type CertificateRowRecord,
  type PageRecord,
} from "../upstream/types";
import { queryKey } from "./fetch-each";
import { type Limiter } from "./limiter";
import { type CacheScope, fetchEachCached, fetchPagesCached } from "./read-through";

/** Full certificates by id (`certificateById`); `null` for an unknown id. */
export type CertificateLoader = DataLoader<string, CertificateRecord | null>;
/** List-row views of certificates by id (`certificateRowById`). */
export type CertificateRowLoader = DataLoader<string, CertificateRowRecord | null>;

/** One page of QueryCertificateList; values are the upstream's pattern parameters. */
export interface CertificateListQuery {
  offset: number;
  limit: number;
  /** Lower-case status (`active`). */
  status?: string;
  /** Lower-case class name. */
  className?: string;
  orderId?: string;
}

/** Pages of the certificate list by query (`certificatePage`). */
export type CertificatePageLoader = DataLoader<
  CertificateListQuery,
  PageRecord<CertificateRowRecord>,
  string
>;

/**
 * Full certificates by id, read through the shared store (`certificate`); the ids it lacks cost
 * one StatusCertificate each, sent concurrently under the request's limiter. An unknown id loads
 * as `null`. Per request: create it in `createLoaders`.
 */
export function createCertificateLoader(
  upstream: UpstreamClient,
  store: CacheScope,
  limit: Limiter,
): CertificateLoader {
  return new DataLoader(
    ids =>
      fetchEachCached(store, "certificate", ids, limit, async id =>
        decodeCertificate(await upstream.call("StatusCertificate", { certificate: id })),
      ),
    { name: "certificateById" },
  );
}

/**
 * What a certificate list row holds, by id. Lists prime it; for an id no list has primed, it
 * falls back to `certificateById` and keeps the row view of the full record, so nothing is asked
 * for twice. Per request.
 */
export function createCertificateRowLoader(full: CertificateLoader): CertificateRowLoader {
  return new DataLoader(
    ids =>
      Promise.all(
        ids.map(id =>
          full.load(id).then(
            record => (record ? toCertificateRow(record) : null),
            (error: unknown) => (error instanceof Error ? error : new Error(String(error))),
          ),
        ),
      ),
    { name: "certificateRowById" },
  );
}

/**
 * Pages of QueryCertificateList (`wide=1`), keyed by query and read through the shared store
 * (`certificateList`); every row, stored or fetched, primes `rows`. Equal queries in one request
 * share one upstream call. Per request.
 */
export function createCertificatePageLoader(
  upstream: UpstreamClient,
  store: CacheScope,
  limit: Limiter,
  rows: CertificateRowLoader,
): CertificatePageLoader {
  return new DataLoader<CertificateListQuery, PageRecord<CertificateRowRecord>, string>(
    async queries => {
      const pages = await fetchPagesCached(
        store,
        "certificateList",
        queries,
        queryKey,
        limit,
        async query =>
          decodeCertificateRows(
            await upstream.call("QueryCertificateList", {
              wide: 1,
              first: query.offset,
              limit: query.limit,
              status: query.status,
              class: query.className,
              certificateorder: query.orderId,
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
    { name: "certificatePage", cacheKeyFn: queryKey },
  );
}
