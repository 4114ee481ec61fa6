import { type CacheNamespace } from "../../../src/cache";
import { createMemoryEventClaims } from "../../../src/live/event-claims";
import { createMemoryEventLog } from "../../../src/live/event-log";
import { createEventPipeline, type EventPipelineDeps } from "../../../src/live/event-pipeline";
import {
  type CertificateEvent,
  type EventBus,
  type EventClaims,
  type EventLog,
} from "../../../src/live/types";

const NOW = new Date("2026-06-01T10:00:05.000Z");

function event(changes: Partial<CertificateEvent> = {}): CertificateEvent {
  return {
    id: "17",
    account: "reseller",
    eventClass: "CERTIFICATE_REQUEST",
    subclass: "REQUEST_SUCCESSFUL",
    objectId: "DK17",
    certificateId: "DK17",
    orderId: "O17",
    date: "2026-06-01T10:00:00.000Z",
    info: "issued",
    data: { certificate: "DK17", certificateorder: "O17" },
    source: "upstream",
    receivedAt: "2026-06-01T10:00:01.000Z",
    ...changes,
  };
}

/** Every store of the pipeline, recording its calls in one ordered list. */
function recordingDeps(overrides: Partial<EventPipelineDeps> = {}) {
  const calls: string[] = [];
  const published: CertificateEvent[] = [];
  const enqueued: CertificateEvent[] = [];
  const log: EventLog = createMemoryEventLog({ maxPerAccount: 10 });
  const claims: EventClaims = createMemoryEventClaims();
  const deps: EventPipelineDeps = {
    cache: {
      invalidate: (namespace: CacheNamespace, account: string, ids: readonly string[]) => {
        calls.push(`invalidate ${namespace} ${account} ${ids.join(",")}`);
        return Promise.resolve();
      },
      invalidateLists: (account: string) => {
        calls.push(`invalidateLists ${account}`);
        return Promise.resolve();
      },
    },
    log: {
      append: e => {
        calls.push(`append ${e.id}`);
        return log.append(e);
      },
      list: (...args) => log.list(...args),
      close: () => log.close(),
    },
    claims: {
      claim: async (account, id) => {
        const result = await claims.claim(account, id);
        calls.push(`claim ${id} ${result}`);
        return result;
      },
      complete: (account, id) => {
        calls.push(`complete ${id}`);
        return claims.complete(account, id);
      },
      release: (account, id) => {
        calls.push(`release ${id}`);
        return claims.release(account, id);
      },
    },
    bus: {
      publish: e => {
        calls.push(`publish ${e.id}`);
        published.push(e);
        return Promise.resolve();
      },
      subscribe: () => () => undefined,
      close: () => Promise.resolve(),
    } satisfies EventBus,
    webhooks: {
      enqueue: e => {
        calls.push(`enqueue ${e.id}`);
        enqueued.push(e);
        return Promise.resolve();
      },
    },
    now: () => NOW,
    ...overrides,
  };
  return { deps, calls, published, enqueued, log };
}

describe("createEventPipeline", () => {
  it("invalidates the certificate, its order and the account's lists before publishing", async () => {
    const { deps, calls, published, enqueued, log } = recordingDeps();
    const pipeline = createEventPipeline(deps);

    expect(await pipeline.process(event())).toBe("processed");

    expect(calls.slice(0, 1)).toEqual(["claim 17 claimed"]);
    expect(calls.slice(1, 4).sort()).toEqual([
      "invalidate certificate reseller DK17",
      "invalidate order reseller O17",
      "invalidateLists reseller",
    ]);
    expect(calls.slice(4)).toEqual(["append 17", "publish 17", "enqueue 17", "complete 17"]);
    const processed = { ...event(), receivedAt: NOW.toISOString() };
    expect(published).toEqual([processed]);
    expect(enqueued).toEqual([processed]);
    expect((await log.list("reseller", {}, 0, 10)).items).toEqual([processed]);
  });

  it("invalidates only the lists when the event names no certificate or order", async () => {
    const { deps, calls } = recordingDeps();

    await createEventPipeline(deps).process(event({ certificateId: null, orderId: null }));

    expect(calls.filter(c => c.startsWith("invalidate"))).toEqual(["invalidateLists reseller"]);
  });

  it("does nothing for an event processed before, or under way elsewhere", async () => {
    const { deps, calls, published } = recordingDeps();
    const pipeline = createEventPipeline(deps);
    await pipeline.process(event());
    calls.length = 0;

    expect(await pipeline.process(event())).toBe("duplicate");
    await deps.claims.claim("reseller", "18");
    expect(await pipeline.process(event({ id: "18" }))).toBe("busy");

    expect(calls).toEqual(["claim 17 done", "claim 18 claimed", "claim 18 busy"]);
    expect(published.map(e => e.id)).toEqual(["17"]);
  });

  it("works without webhooks", async () => {
    const { deps, calls } = recordingDeps({ webhooks: undefined });

    expect(await createEventPipeline(deps).process(event())).toBe("processed");
    expect(calls).not.toContain("enqueue 17");
  });

  it("releases the claim and rethrows when a step fails, so the event is processed again", async () => {
    let failures = 1;
    const { deps, calls, enqueued } = recordingDeps();
    const enqueue = deps.webhooks!.enqueue;
    deps.webhooks = {
      enqueue: e => (failures-- > 0 ? Promise.reject(new Error("queue down")) : enqueue(e)),
    };
    const pipeline = createEventPipeline(deps);

    await expect(pipeline.process(event())).rejects.toThrow("queue down");
    expect(calls).toContain("release 17");
    expect(calls).not.toContain("complete 17");

    expect(await pipeline.process(event())).toBe("processed");
    expect(enqueued.map(e => e.id)).toEqual(["17"]);
  });

  it("rethrows the step's error even when the release fails too, and reports that", async () => {
    const errors: Error[] = [];
    const { deps } = recordingDeps({
      onError: e => errors.push(e),
      cache: {
        invalidate: () => Promise.reject(new Error("cache bug")),
        invalidateLists: () => Promise.resolve(),
      },
    });
    deps.claims = { ...deps.claims, release: () => Promise.reject(new Error("store down")) };

    await expect(createEventPipeline(deps).process(event())).rejects.toThrow("cache bug");
    expect(errors.map(e => e.message)).toEqual(["store down"]);
  });
});
