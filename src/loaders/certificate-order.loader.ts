import DataLoader from "dataloader";
import { type UpstreamClient } from "../upstream/client";
import { decodeOrder, decodeOrderRows, toOrderRow } from "../upstream/records";
import {
  type CertificateOrderRecord,
  type CertificateOrderRowRecord,
  type PageRecord,
} from "../upstream/types";
import { queryKey } from "./fetch-each";
import { type Limiter } from "./limiter";
import { type CacheScope, fetchEachCached, fetchPagesCached } from "./read-through";

/** Full certificate orders by id (`orderById`); `null` for an unknown id. */
export type OrderLoader = DataLoader<string, CertificateOrderRecord | null>;
/** List-row views of orders by id (`orderRowById`). */
export type OrderRowLoader = DataLoader<string, CertificateOrderRowRecord | null>;

/** One page of QueryCertificateOrderList; values are the upstream's pattern parameters. */
export interface OrderListQuery {
  offset: number;
  limit: number;
  /** Lower-case status. */
  status?: string;
  /** Lower-case class name. */
  className?: string;
}

/** Pages of the order list by query (`orderPage`). */
export type OrderPageLoader = DataLoader<
  OrderListQuery,
  PageRecord<CertificateOrderRowRecord>,
  string
>;

/**
 * Full certificate orders by id, read through the shared store (`order`); the ids it lacks cost
 * one StatusCertificateOrder each, concurrently under the request's limiter. An unknown id loads
 * as `null`. Per request.
 */
export function createOrderLoader(
  upstream: UpstreamClient,
  store: CacheScope,
  limit: Limiter,
): OrderLoader {
  return new DataLoader(
    ids =>
      fetchEachCached(store, "order", ids, limit, async id =>
        decodeOrder(await upstream.call("StatusCertificateOrder", { certificateorder: id }), id),
      ),
    { name: "orderById" },
  );
}

/** What an order list row holds, by id; primed by lists, else the row view of `orderById`. */
export function createOrderRowLoader(full: OrderLoader): OrderRowLoader {
  return new DataLoader(
    ids =>
      Promise.all(
        ids.map(id =>
          full.load(id).then(
            record => (record ? toOrderRow(record) : null),
            (error: unknown) => (error instanceof Error ? error : new Error(String(error))),
          ),
        ),
      ),
    { name: "orderRowById" },
  );
}

/**
 * Pages of QueryCertificateOrderList (`wide=1`), keyed by query and read through the shared
 * store (`orderList`); every row primes `rows`. Per request.
 */
export function createOrderPageLoader(
  upstream: UpstreamClient,
  store: CacheScope,
  limit: Limiter,
  rows: OrderRowLoader,
): OrderPageLoader {
  return new DataLoader<OrderListQuery, PageRecord<CertificateOrderRowRecord>, string>(
    async queries => {
      const pages = await fetchPagesCached(
        store,
        "orderList",
        queries,
        queryKey,
        limit,
        async query =>
          decodeOrderRows(
            await upstream.call("QueryCertificateOrderList", {
              wide: 1,
              first: query.offset,
              limit: query.limit,
              status: query.status,
              class: query.className,
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
    { name: "orderPage", cacheKeyFn: queryKey },
  );
}
