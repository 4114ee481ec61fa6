import { accountTag } from "../../../src/cache";
import { createMemoryEventBus } from "../../../src/live/event-bus";
import { createMemoryEventClaims } from "../../../src/live/event-claims";
import { createMemoryEventLog } from "../../../src/live/event-log";
import { createEventPipeline, type EventPipeline } from "../../../src/live/event-pipeline";
import { createEventPoller, type EventPollerOptions } from "../../../src/live/event-poller";
import { createMemoryLease } from "../../../src/live/lease";
import { type CertificateEvent, type EventClaims, type Lease } from "../../../src/live/types";
import { type UpstreamClient } from "../../../src/upstream/client";
import { decodeReply, encodeReply, type ReplyProperty } from "../../../src/upstream/codec";
import { type CommandArgs, type CommandName } from "../../../src/upstream/commands";
import { UpstreamError } from "../../../src/upstream/errors";

const ACCOUNT = "reseller";
const DAY = 86_400_000;

interface FakeEvent {
  id: string;
  subclass: string;
  certificate: string;
  order: string;
}

function reply(properties: ReplyProperty[] = []) {
  return decodeReply(
    encodeReply({ code: 200, description: "Command completed successfully", properties }),
  );
}

function notFound(command: CommandName, id: string): UpstreamError {
  return new UpstreamError({
    code: "UPSTREAM_REJECTED",
    command,
    message: `${command}: event ${id} not found`,
    retryable: false,
    upstreamCode: 545,
  });
}

/**
 * An upstream with an event queue (QueryEventList oldest first, StatusEvent, DeleteEvent) and a
 * certificate list for the expiry watch. `failNext` makes the next call of a command fail.
 */
function fakeUpstream() {
  const events = new Map<string, FakeEvent>();
  const certificates: { id: string; order: string; expires: string }[] = [];
  const calls: { command: CommandName; args: unknown }[] = [];
  const failures = new Map<CommandName, Error[]>();
  let nextId = 1;

  const upstream: Pick<UpstreamClient, "call"> = {
    call: <C extends CommandName>(command: C, args: CommandArgs<C>) => {
      calls.push({ command, args });
      const failure = failures.get(command)?.shift();
      if (failure) {
        return Promise.reject(failure);
      }
      const params = args as Record<string, unknown>;
      switch (command) {
        case "QueryEventList": {
          const first = Number(params.first ?? 0);
          const limit = Number(params.limit ?? 1000);
          const page = [...events.values()]
            .sort((a, b) => Number(a.id) - Number(b.id))
            .slice(first, first + limit);
          return Promise.resolve(
            reply([
              ["event", page.map(e => e.id)],
              ["eventclass", page.map(() => "CERTIFICATE_REQUEST")],
              ["eventsubclass", page.map(e => e.subclass)],
              ["event_date", page.map(() => "2026-06-01 10:00:03")],
              ["object_id", page.map(e => e.certificate)],
              ["column", ["event", "eventclass", "eventsubclass", "event_date", "object_id"]],
              ["count", [page.length]],
              ["total", [events.size]],
            ]),
          );
        }
        case "StatusEvent": {
          const event = events.get(String(params.event));
          if (!event) {
            return Promise.reject(notFound(command, String(params.event)));
          }
          return Promise.resolve(
            reply([
              ["class", ["CERTIFICATE_REQUEST"]],
              [
                "data",
                [
                  `certificate=${event.certificate}`,
                  `certificateorder=${event.order}`,
                  "status=active",
                ],
              ],
              ["date", ["2026-06-01 10:00:03.0"]],
              ["info", ["The CA issued the certificate"]],
              ["object_id", [event.certificate]],
              ["subclass", [event.subclass]],
            ]),
          );
        }
        case "DeleteEvent": {
          if (!events.delete(String(params.event))) {
            return Promise.reject(notFound(command, String(params.event)));
          }
          return Promise.resolve(reply());
        }
        case "QueryCertificateList":
          return Promise.resolve(
            reply([
              ["certificate", certificates.map(c => c.id)],
              ["certificateorder", certificates.map(c => c.order)],
              ["status", certificates.map(() => "active")],
              ["expirationdate", certificates.map(c => c.expires)],
              ["count", [certificates.length]],
              ["total", [certificates.length]],
            ]),
          );
        default:
          return Promise.reject(new Error(`unexpected ${command}`));
      }
    },
  };

  return {
    upstream,
    events,
    certificates,
    calls,
    callsTo: (command: CommandName) => calls.filter(c => c.command === command),
    add(subclass = "REQUEST_SUCCESSFUL"): string {
      const id = String(nextId++);
      events.set(id, { id, subclass, certificate: `DK${id}`, order: `O${id}` });
      return id;
    },
    failNext(command: CommandName, error: Error = new Error(`${command} failed`)) {
      failures.set(command, [...(failures.get(command) ?? []), error]);
    },
  };
}

/** A pipeline over memory stores, with what it published. */
function memoryPipeline(claims: EventClaims = createMemoryEventClaims()) {
  const bus = createMemoryEventBus();
  const heard: CertificateEvent[] = [];
  bus.subscribe(ACCOUNT, e => heard.push(e));
  const log = createMemoryEventLog({ maxPerAccount: 100 });
  const pipeline = createEventPipeline({
    cache: { invalidate: () => Promise.resolve(), invalidateLists: () => Promise.resolve() },
    log,
    claims,
    bus,
  });
  return { pipeline, heard, log, claims };
}

function logger() {
  const lines: { level: string; message: string }[] = [];
  const at =
    (level: string) =>
    (_details: object, message: string): void => {
      lines.push({ level, message });
    };
  return { lines, logger: { info: at("info"), warn: at("warn"), error: at("error") } };
}

describe("createEventPoller", () => {
  let upstream: ReturnType<typeof fakeUpstream>;
  let lease: Lease;
  let clock: number;

  beforeEach(() => {
    upstream = fakeUpstream();
    clock = Date.parse("2026-06-01T12:00:00Z");
    lease = createMemoryLease({ now: () => clock });
  });

  function poller(pipeline: EventPipeline, options: Partial<EventPollerOptions> = {}) {
    return createEventPoller({
      account: ACCOUNT,
      upstream: upstream.upstream,
      pipeline,
      lease,
      holder: "replica-a",
      intervalMs: 1000,
      now: () => new Date(clock),
      ...options,
    });
  }

  it("processes the events oldest first, with StatusEvent's details, and deletes them", async () => {
    const { pipeline, heard, log } = memoryPipeline();
    upstream.add();
    upstream.add("CLOSE_SUCCESSFUL");

    const result = await poller(pipeline).pollOnce();

    expect(result).toEqual({ leader: true, processed: 2, duplicates: 0, deleted: 2, expiring: 0 });
    expect(upstream.events.size).toBe(0);
    expect(heard.map(e => [e.id, e.subclass])).toEqual([
      ["1", "REQUEST_SUCCESSFUL"],
      ["2", "CLOSE_SUCCESSFUL"],
    ]);
    expect(heard[0]).toEqual({
      id: "1",
      account: ACCOUNT,
      eventClass: "CERTIFICATE_REQUEST",
      subclass: "REQUEST_SUCCESSFUL",
      objectId: "DK1",
      certificateId: "DK1",
      orderId: "O1",
      date: "2026-06-01T10:00:03.000Z",
      info: "The CA issued the certificate",
      data: { certificate: "DK1", certificateorder: "O1", status: "active" },
      source: "upstream",
      receivedAt: expect.any(String) as string,
    });
    expect((await log.list(ACCOUNT, {}, 0, 10)).total).toBe(2);
    expect(upstream.callsTo("QueryEventList")[0]?.args).toEqual({
      orderby: "EVENT",
      order: "ASC",
      first: 0,
      limit: 100,
    });
  });

  it("reads page after page while the pages are full", async () => {
    const { pipeline, heard } = memoryPipeline();
    for (let i = 0; i < 5; i++) {
      upstream.add();
    }

    const result = await poller(pipeline, { batchSize: 2 }).pollOnce();

    expect(result.processed).toBe(5);
    expect(heard.map(e => e.id)).toEqual(["1", "2", "3", "4", "5"]);
    expect(upstream.callsTo("QueryEventList")).toHaveLength(3);
  });

  it("does nothing but try the lease while another replica leads", async () => {
    const { pipeline, heard } = memoryPipeline();
    upstream.add();
    await lease.acquire(`poller:${accountTag(ACCOUNT)}`, "replica-b", 3000);
    const follower = poller(pipeline);

    expect(await follower.pollOnce()).toEqual({
      leader: false,
      processed: 0,
      duplicates: 0,
      deleted: 0,
      expiring: 0,
    });
    expect(follower.isLeader()).toBe(false);
    expect(upstream.calls).toEqual([]);
    expect(heard).toEqual([]);

    // The leader died: its lease runs out after 3 intervals, then this replica takes over.
    clock += 3000;
    expect((await follower.pollOnce()).processed).toBe(1);
    expect(follower.isLeader()).toBe(true);
  });

  it("deletes an event processed before without processing it again", async () => {
    const { pipeline, heard, claims } = memoryPipeline();
    const id = upstream.add();
    // Another replica processed it and died before DeleteEvent.
    await claims.claim(ACCOUNT, id);
    await claims.complete(ACCOUNT, id);

    const result = await poller(pipeline).pollOnce();

    expect(result).toMatchObject({ processed: 0, duplicates: 1, deleted: 1 });
    expect(upstream.events.size).toBe(0);
    expect(heard).toEqual([]);
  });

  it("leaves an event another replica is processing, and goes on with the next ones", async () => {
    const { pipeline, heard, claims } = memoryPipeline();
    const busy = upstream.add();
    upstream.add();
    upstream.add();
    await claims.claim(ACCOUNT, busy);

    const result = await poller(pipeline, { batchSize: 2 }).pollOnce();

    expect(result).toMatchObject({ processed: 2, deleted: 2 });
    expect([...upstream.events.keys()]).toEqual([busy]);
    expect(heard.map(e => e.id)).toEqual(["2", "3"]);
    // The second page started after the event left in place.
    expect(
      upstream.callsTo("QueryEventList").map(c => (c.args as { first: number }).first),
    ).toEqual([0, 1]);
  });

  it("keeps an event whose processing failed upstream, and processes it next tick", async () => {
    const { pipeline, heard } = memoryPipeline();
    const log = logger();
    upstream.add();
    upstream.add();
    upstream.failNext("StatusEvent");
    const events = poller(pipeline, { logger: log.logger });

    expect(await events.pollOnce()).toMatchObject({ processed: 1, deleted: 1 });
    expect([...upstream.events.keys()]).toEqual(["1"]);
    expect(log.lines).toContainEqual({
      level: "error",
      message: "event poller: processing failed; retried next tick",
    });

    expect(await events.pollOnce()).toMatchObject({ processed: 1, deleted: 1 });
    expect(heard.map(e => e.id)).toEqual(["2", "1"]);
    expect(upstream.events.size).toBe(0);
  });

  it("deletes an event whose DeleteEvent failed on the next tick, without processing it twice", async () => {
    const { pipeline, heard } = memoryPipeline();
    upstream.add();
    upstream.failNext("DeleteEvent");
    const events = poller(pipeline);

    expect(await events.pollOnce()).toMatchObject({ processed: 1, deleted: 0 });
    expect(await events.pollOnce()).toMatchObject({ processed: 0, duplicates: 1, deleted: 1 });
    expect(heard.map(e => e.id)).toEqual(["1"]);
    expect(upstream.events.size).toBe(0);
  });

  it("skips an event deleted meanwhile, and survives a failing QueryEventList", async () => {
    const { pipeline, heard } = memoryPipeline();
    upstream.add();
    upstream.failNext("StatusEvent", notFound("StatusEvent", "1"));
    upstream.failNext("QueryEventList");
    const log = logger();
    const events = poller(pipeline, { logger: log.logger });

    expect(await events.pollOnce()).toMatchObject({ leader: true, processed: 0 });
    expect(log.lines).toContainEqual({
      level: "error",
      message: "event poller: reading the events failed",
    });
    expect(await events.pollOnce()).toMatchObject({ processed: 0, deleted: 0 });
    expect(heard).toEqual([]);
  });

  it("raises expiry warnings every scanIntervalMs while leading, once per threshold", async () => {
    const { pipeline, heard } = memoryPipeline();
    const notAfter = clock + 20 * DAY;
    upstream.certificates.push({
      id: "DK9",
      order: "O9",
      expires: new Date(notAfter).toISOString().replace("T", " ").slice(0, 19),
    });
    const events = poller(pipeline, {
      expiry: { thresholdsDays: [30, 14, 3], scanIntervalMs: DAY },
    });

    expect((await events.pollOnce()).expiring).toBe(1);
    // Not due again before scanIntervalMs.
    clock += DAY - 1;
    expect(await events.pollOnce()).toMatchObject({ expiring: 0 });
    expect(upstream.callsTo("QueryCertificateList")).toHaveLength(1);
    // Due, but nothing new crossed.
    clock += 1;
    expect(await events.pollOnce()).toMatchObject({ expiring: 0 });
    expect(upstream.callsTo("QueryCertificateList")).toHaveLength(2);
    clock = notAfter - 14 * DAY;
    expect((await events.pollOnce()).expiring).toBe(1);
    clock = notAfter - 1 * DAY;
    expect((await events.pollOnce()).expiring).toBe(1);
    clock = notAfter + 1;
    expect((await events.pollOnce()).expiring).toBe(0);

    expect(heard.map(e => e.id)).toEqual([
      "expiring:DK9:30d:2026-06-21",
      "expiring:DK9:14d:2026-06-21",
      "expiring:DK9:3d:2026-06-21",
    ]);
  });

  it("never runs two ticks at once: a second pollOnce joins the one under way", async () => {
    const { pipeline } = memoryPipeline();
    upstream.add();
    const events = poller(pipeline);

    const [a, b] = await Promise.all([events.pollOnce(), events.pollOnce()]);

    expect(a).toBe(b);
    expect(upstream.callsTo("QueryEventList")).toHaveLength(1);
  });

  it("ticks on its timer once started, and releases the lease when stopped", async () => {
    const { pipeline, heard } = memoryPipeline();
    upstream.add();
    const leader = poller(pipeline, { intervalMs: 10 });
    const follower = poller(pipeline, { intervalMs: 10, holder: "replica-b" });

    leader.start();
    leader.start();
    await until(() => heard.length === 1);
    upstream.add();
    await until(() => heard.length === 2);
    expect(leader.isLeader()).toBe(true);
    expect((await follower.pollOnce()).leader).toBe(false);

    await leader.stop();
    const ticks = upstream.callsTo("QueryEventList").length;
    await new Promise(resolve => setTimeout(resolve, 30));
    expect(upstream.callsTo("QueryEventList")).toHaveLength(ticks);
    expect(leader.isLeader()).toBe(false);
    expect((await leader.pollOnce()).leader).toBe(false);

    // Released: the other replica leads at once, without waiting for the TTL.
    upstream.add();
    expect(await follower.pollOnce()).toMatchObject({ leader: true, processed: 1 });
  });

  it("stop waits for the tick under way", async () => {
    let finish!: () => void;
    const gate = new Promise<void>(resolve => {
      finish = resolve;
    });
    const processed: string[] = [];
    const slow: EventPipeline = {
      process: async e => {
        await gate;
        processed.push(e.id);
        return "processed";
      },
    };
    upstream.add();
    const events = poller(slow);
    const tick = events.pollOnce();
    await until(() => upstream.callsTo("StatusEvent").length === 1);

    let stopped = false;
    const stopping = events.stop().then(() => {
      stopped = true;
    });
    await new Promise(resolve => setTimeout(resolve, 10));
    expect(stopped).toBe(false);

    finish();
    await stopping;
    expect(processed).toEqual(["1"]);
    expect((await tick).processed).toBe(1);
  });

  it("refuses an interval, lease TTL or batch size below 1", () => {
    const { pipeline } = memoryPipeline();
    expect(() => poller(pipeline, { intervalMs: 0 })).toThrow(RangeError);
    expect(() => poller(pipeline, { batchSize: 0 })).toThrow(RangeError);
    expect(() => poller(pipeline, { leaseTtlMs: 0.5 })).toThrow(RangeError);
  });
});

/** Waits (briefly) until `condition` holds. */
async function until(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) {
      throw new Error("condition not met in time");
    }
    await new Promise(resolve => setTimeout(resolve, 2));
  }
}
