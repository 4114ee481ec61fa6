/**
 * The gateway's own expiry warnings: a certificate whose notAfter is within a threshold (30, 14,
 * 3 days, ...) raises an `EXPIRING` event, once per certificate and threshold.
 *
 * Only the smallest threshold a certificate has crossed is raised: a certificate first seen with
 * 2 days left raises the 3-day warning, not the 30- and 14-day ones as well. Expired certificates
 * raise nothing. A warning's id is stable (`expiring:<certificate>:<threshold>d:<notAfter day>`),
 * so the event claims deduplicate it like any event, across replicas and restarts, for as long
 * as the claims remember processed ids (their done TTL, which must exceed the largest threshold).
 * A renewal or reissue has another notAfter, hence new ids.
 */
import { type UpstreamClient } from "../upstream/client";
import { decodeCertificateRows } from "../upstream/records";
import { type CertificateEvent, EXPIRY_EVENT_CLASS, EXPIRY_EVENT_SUBCLASS } from "./types";

const DAY_MS = 24 * 60 * 60 * 1000;
/** Page size of the certificate list the scan reads (the upstream's largest, manual 9.1.10). */
export const EXPIRY_SCAN_PAGE_SIZE = 1000;

/** What the watch needs of a certificate. */
export interface ExpiryCandidate {
  readonly id: string;
  readonly orderId: string | null;
  /** The certificate's notAfter. */
  readonly expiresAt: Date;
}

/** The thresholds, in days, as given: finite and positive, without repeats, smallest first. */
function normalizeThresholds(thresholdsDays: readonly number[]): number[] {
  return [...new Set(thresholdsDays.filter(t => Number.isFinite(t) && t > 0))].sort(
    (a, b) => a - b,
  );
}

/** `yyyy-mm-dd` of `date` in UTC. */
function utcDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** The id of the warning of `certificateId` for `thresholdDays` before `expiresAt`. */
export function expiryEventId(
  certificateId: string,
  thresholdDays: number,
  expiresAt: Date,
): string {
  return `expiring:${certificateId}:${thresholdDays}d:${utcDay(expiresAt)}`;
}

/**
 * The warnings due at `now` for `certs` of `account`: for each certificate not yet expired whose
 * notAfter is at most a threshold away, one event for the smallest such threshold. Pure; does not
 * know which warnings were raised before (the claims do). Thresholds that are not positive
 * numbers are ignored. Events are dated when the threshold was crossed (notAfter minus the
 * threshold); `daysLeft` counts whole days left.
 */
export function expiryWarnings(
  certs: readonly ExpiryCandidate[],
  thresholdsDays: readonly number[],
  now: Date,
  account: string,
): CertificateEvent[] {
  const thresholds = normalizeThresholds(thresholdsDays);
  const events: CertificateEvent[] = [];
  for (const cert of certs) {
    const leftMs = cert.expiresAt.getTime() - now.getTime();
    if (!Number.isFinite(leftMs) || leftMs <= 0) {
      continue;
    }
    const threshold = thresholds.find(t => leftMs <= t * DAY_MS);
    if (threshold === undefined) {
      continue;
    }
    const daysLeft = Math.floor(leftMs / DAY_MS);
    const expiresAt = cert.expiresAt.toISOString();
    events.push({
      id: expiryEventId(cert.id, threshold, cert.expiresAt),
      account,
      eventClass: EXPIRY_EVENT_CLASS,
      subclass: EXPIRY_EVENT_SUBCLASS,
      objectId: cert.id,
      certificateId: cert.id,
      orderId: cert.orderId,
      date: new Date(cert.expiresAt.getTime() - threshold * DAY_MS).toISOString(),
      info: `The certificate expires within ${threshold} days, on ${expiresAt}`,
      data: {
        expiresAt,
        daysLeft: String(daysLeft),
        thresholdDays: String(threshold),
      },
      source: "gateway",
      receivedAt: now.toISOString(),
    });
  }
  return events;
}

/** Options of `scanExpiring`. */
export interface ExpiryScanOptions {
  /** Warn this many days before notAfter (e.g. `[30, 14, 3]`). */
  readonly thresholdsDays: readonly number[];
  /** The instant to measure against. */
  readonly now: Date;
  /** The upstream login `upstream` sends as (stamped on the events). */
  readonly account: string;
  /** Aborts the scan between pages and in flight. */
  readonly signal?: AbortSignal;
}

/**
 * Reads every active certificate of the account (QueryCertificateList `wide=1 status=ACTIVE`, in
 * pages of `EXPIRY_SCAN_PAGE_SIZE`) and returns `expiryWarnings` for them. Rejects with the
 * client's `UpstreamError` when a page cannot be read (no partial result).
 */
export async function scanExpiring(
  upstream: Pick<UpstreamClient, "call">,
  options: ExpiryScanOptions,
): Promise<CertificateEvent[]> {
  const candidates: ExpiryCandidate[] = [];
  for (let first = 0; ; first += EXPIRY_SCAN_PAGE_SIZE) {
    const reply = await upstream.call(
      "QueryCertificateList",
      { wide: 1, status: "ACTIVE", orderby: "CERTIFICATE", first, limit: EXPIRY_SCAN_PAGE_SIZE },
      options.signal ? { signal: options.signal } : {},
    );
    const page = decodeCertificateRows(reply, first);
    for (const row of page.items) {
      if (row.status === "active" && row.expiresAt !== null) {
        candidates.push({ id: row.id, orderId: row.orderId, expiresAt: row.expiresAt });
      }
    }
    if (page.items.length === 0 || first + EXPIRY_SCAN_PAGE_SIZE >= page.total) {
      break;
    }
  }
  return expiryWarnings(candidates, options.thresholdsDays, options.now, options.account);
}
