/**
 * The poller of one upstream account: on every tick, the replica holding the account's lease
 * reads the account's events (QueryEventList, oldest first), processes each through the pipeline
 * and deletes it upstream once processed; every `scanIntervalMs` it also runs the expiry watch.
 * Every replica runs a poller per account; only the lease holder polls, the others try to take
 * the lease on each tick, so a stopped (lease released) or dead (lease ran out) leader is
 * replaced within one interval (or one lease TTL).
 *
 * An event is deleted upstream only after it was processed (or found processed before: another
 * replica processed it and could not delete it). An event that failed, or that another replica is
 * processing, stays upstream and is looked at again on the next tick.
 */
import { accountTag } from "../cache";
import { type UpstreamClient } from "../upstream/client";
import { rows, value, values, type WireReply } from "../upstream/codec";
import { UpstreamError } from "../upstream/errors";
import { decodeDate } from "../upstream/records";
import { type EventPipeline, type ProcessOutcome } from "./event-pipeline";
import { scanExpiring } from "./expiry-watch";
import { type CertificateEvent, type Lease } from "./types";

/** Default number of events read per QueryEventList page. */
export const DEFAULT_EVENT_BATCH_SIZE = 100;
/** Most QueryEventList pages one tick reads: a flood of events cannot hold a tick for ever. */
export const MAX_EVENT_PAGES_PER_TICK = 50;
/** The upstream's reply code for an object that does not exist (an event deleted meanwhile). */
const NOT_FOUND_CODE = 545;

/** The log methods the poller uses (a pino logger fits). */
export interface PollerLogger {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

/** Options of `createEventPoller`. */
export interface EventPollerOptions {
  /** The upstream login `upstream` sends as. */
  account: string;
  upstream: Pick<UpstreamClient, "call">;
  pipeline: EventPipeline;
  lease: Lease;
  /** This replica's id in the lease (unique per process: host name and a random part). */
  holder: string;
  /** Time between the end of a tick and the start of the next, in ms. */
  intervalMs: number;
  /** How long the lease outlives a silent leader, in ms (default 3 × `intervalMs`). */
  leaseTtlMs?: number;
  /** Events per QueryEventList page (default `DEFAULT_EVENT_BATCH_SIZE`). */
  batchSize?: number;
  /** The expiry watch: warn this many days before notAfter, scanning every `scanIntervalMs`. */
  expiry?: { thresholdsDays: readonly number[]; scanIntervalMs: number };
  /** The clock of the expiry watch, its scan interval and event dates (default real time). */
  now?: () => Date;
  logger?: PollerLogger;
}

/** What one tick did. */
export interface PollResult {
  /** This replica held the lease (only then did it poll). */
  readonly leader: boolean;
  /** Upstream events processed now. */
  readonly processed: number;
  /** Upstream events found processed before (deleted upstream now). */
  readonly duplicates: number;
  /** Upstream events deleted (processed now or before). */
  readonly deleted: number;
  /** Expiry warnings processed now (a warning raised before is not counted). */
  readonly expiring: number;
}

/** The poller of one account. */
export interface EventPoller {
  /** Starts ticking: the first tick at once, then `intervalMs` after each. Idempotent. */
  start(): void;
  /** Stops ticking, waits for a tick under way, and releases the lease. Idempotent. */
  stop(): Promise<void>;
  /**
   * Runs one tick now, or joins the one under way (ticks never overlap). Never rejects: failures
   * are logged, and what was done until then is counted.
   */
  pollOnce(): Promise<PollResult>;
  /** This replica held the lease at its last tick. */
  isLeader(): boolean;
}

interface Counts {
  leader: boolean;
  processed: number;
  duplicates: number;
  deleted: number;
  expiring: number;
}

/** What became of one listed event. */
type Handled = "processed" | "duplicate" | "left" | "gone";

/**
 * Builds the poller; nothing runs until `start` or `pollOnce`. A stopped poller stays stopped
 * (its `pollOnce` answers `leader: false`). Throws `RangeError` for an
 * interval, lease TTL or batch size below 1.
 */
export function createEventPoller(options: EventPollerOptions): EventPoller {
  const { account, upstream, pipeline, lease, holder } = options;
  const intervalMs = atLeastOne("intervalMs", options.intervalMs);
  const leaseTtlMs = atLeastOne("leaseTtlMs", options.leaseTtlMs ?? 3 * intervalMs);
  const batchSize = atLeastOne("batchSize", options.batchSize ?? DEFAULT_EVENT_BATCH_SIZE);
  const now = options.now ?? (() => new Date());
  const logger = options.logger;
  const leaseName = `poller:${accountTag(account)}`;
  const tag = accountTag(account);

  let leader = false;
  let running = false;
  let stopping = false;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<PollResult> | undefined;
  /** When this replica last ran the expiry scan as leader; reset when it loses the lease. */
  let lastScanAt: number | undefined;

  function log(level: keyof PollerLogger, details: object, message: string): void {
    try {
      logger?.[level]({ account: tag, ...details }, message);
    } catch {
      // A broken logger must not stop the poller.
    }
  }

  async function acquire(): Promise<boolean> {
    let held: boolean;
    try {
      held = await lease.acquire(leaseName, holder, leaseTtlMs);
    } catch (error) {
      log("warn", { err: error }, "event poller: the lease store failed");
      held = false;
    }
    if (held !== leader) {
      log("info", { holder }, held ? "event poller: leading" : "event poller: no longer leading");
    }
    leader = held;
    if (!held) {
      lastScanAt = undefined;
    }
    return held;
  }

  /** The event of a QueryEventList row, completed by StatusEvent; `undefined` once it is gone. */
  async function readEvent(
    row: Record<string, string>,
    id: string,
  ): Promise<CertificateEvent | undefined> {
    let reply: WireReply;
    try {
      reply = await upstream.call("StatusEvent", { event: id });
    } catch (error) {
      if (error instanceof UpstreamError && error.upstreamCode === NOT_FOUND_CODE) {
        return undefined;
      }
      throw error;
    }
    const data: Record<string, string> = {};
    for (const line of values(reply, "data")) {
      const eq = line.indexOf("=");
      if (eq > 0) {
        data[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
      }
    }
    const objectId = value(reply, "object_id") || row.object_id || "";
    const date =
      decodeDate(value(reply, "date")) ?? decodeDate(row.event_date) ?? new Date(now().getTime());
    return {
      id,
      account,
      eventClass: value(reply, "class") || row.eventclass || "",
      subclass: value(reply, "subclass") || row.eventsubclass || "",
      objectId,
      certificateId: data.certificate || objectId || null,
      orderId: data.certificateorder || null,
      date: date.toISOString(),
      info: value(reply, "info") ?? "",
      data,
      source: "upstream",
      receivedAt: now().toISOString(),
    };
  }

  /** Deletes a processed event upstream; false when it is still there. */
  async function remove(id: string): Promise<boolean> {
    try {
      await upstream.call("DeleteEvent", { event: id });
      return true;
    } catch (error) {
      if (error instanceof UpstreamError && error.upstreamCode === NOT_FOUND_CODE) {
        return true; // deleted meanwhile (by a replica that led before)
      }
      log("warn", { err: error, event: id }, "event poller: DeleteEvent failed; retried next tick");
      return false;
    }
  }

  async function handle(row: Record<string, string>, id: string, counts: Counts): Promise<Handled> {
    let event: CertificateEvent | undefined;
    let outcome: ProcessOutcome;
    try {
      event = await readEvent(row, id);
      if (!event) {
        return "gone";
      }
      outcome = await pipeline.process(event);
    } catch (error) {
      log("error", { err: error, event: id }, "event poller: processing failed; retried next tick");
      return "left";
    }
    if (outcome === "busy") {
      return "left";
    }
    if (outcome === "processed") {
      counts.processed += 1;
    } else {
      counts.duplicates += 1;
    }
    if (await remove(id)) {
      counts.deleted += 1;
      return outcome;
    }
    return "left";
  }

  /** Reads and processes the account's events, page by page, while the pages are full. */
  async function drain(counts: Counts): Promise<void> {
    // Events left upstream (failed, busy) are the first of the list: the next page starts after them.
    let left = 0;
    for (let page = 0; page < MAX_EVENT_PAGES_PER_TICK && !stopping; page++) {
      if (page > 0 && !(await acquire())) {
        return; // the lease was lost midway: the new leader goes on
      }
      const reply = await upstream.call("QueryEventList", {
        orderby: "EVENT",
        order: "ASC",
        first: left,
        limit: batchSize,
      });
      const listed = rows(reply).filter(row => (row.event ?? "") !== "");
      for (const row of listed) {
        if (stopping) {
          return;
        }
        const outcome = await handle(row, row.event!, counts);
        if (outcome === "left") {
          left += 1;
        }
      }
      if (listed.length < batchSize) {
        return;
      }
    }
  }

  /** Runs the expiry watch when it is due (every `scanIntervalMs` while leading). */
  async function scan(counts: Counts): Promise<void> {
    const expiry = options.expiry;
    if (!expiry || stopping) {
      return;
    }
    const at = now();
    if (lastScanAt !== undefined && at.getTime() - lastScanAt < expiry.scanIntervalMs) {
      return;
    }
    const warnings = await scanExpiring(upstream, {
      thresholdsDays: expiry.thresholdsDays,
      now: at,
      account,
    });
    lastScanAt = at.getTime();
    for (const warning of warnings) {
      try {
        if ((await pipeline.process(warning)) === "processed") {
          counts.expiring += 1;
        }
      } catch (error) {
        // The warning is raised again by the next scan (its claim was released).
        log("error", { err: error, event: warning.id }, "event poller: expiry warning failed");
      }
    }
  }

  async function tick(): Promise<PollResult> {
    const counts: Counts = { leader: false, processed: 0, duplicates: 0, deleted: 0, expiring: 0 };
    if (stopping || !(await acquire())) {
      return counts;
    }
    counts.leader = true;
    try {
      await drain(counts);
    } catch (error) {
      log("error", { err: error }, "event poller: reading the events failed");
    }
    try {
      await scan(counts);
    } catch (error) {
      log("error", { err: error }, "event poller: the expiry scan failed");
    }
    if (counts.processed + counts.expiring > 0) {
      log("info", { ...counts }, "event poller: events processed");
    }
    return counts;
  }

  function pollOnce(): Promise<PollResult> {
    current ??= tick().finally(() => {
      current = undefined;
    });
    return current;
  }

  function schedule(delayMs: number): void {
    timer = setTimeout(() => {
      timer = undefined;
      void pollOnce().finally(() => {
        if (running) {
          schedule(intervalMs);
        }
      });
    }, delayMs);
    timer.unref();
  }

  return {
    start() {
      if (running || stopping) {
        return;
      }
      running = true;
      schedule(0);
    },
    async stop() {
      running = false;
      stopping = true;
      if (timer) {
        clearTimeout(timer);
        timer = undefined;
      }
      await current?.catch(() => undefined);
      if (leader) {
        leader = false;
        lastScanAt = undefined;
        try {
          await lease.release(leaseName, holder);
        } catch (error) {
          log("warn", { err: error }, "event poller: releasing the lease failed");
        }
      }
    },
    pollOnce,
    isLeader: () => leader,
  };
}

function atLeastOne(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 1) {
    throw new RangeError(`createEventPoller: ${name} must be a number >= 1`);
  }
  return value;
}
