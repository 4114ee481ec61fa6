import {
  CIRCUIT_BREAKER_DEFAULTS,
  type CircuitStateChange,
  createCircuitBreaker,
  withCircuitBreaker,
} from "../../src/upstream/circuit-breaker";
import { type UpstreamClient } from "../../src/upstream/client";
import { type WireReply } from "../../src/upstream/codec";
import { UpstreamError, type UpstreamErrorCode } from "../../src/upstream/errors";

const reply: WireReply = { code: 200, description: "ok", properties: new Map(), columns: [] };

function failure(code: UpstreamErrorCode, retryable = true, upstreamCode?: number): UpstreamError {
  return new UpstreamError({
    code,
    command: "StatusCertificate",
    message: `${code} happened`,
    retryable,
    upstreamCode,
  });
}

const unreachable = () => failure("UPSTREAM_UNAVAILABLE");
/** What the client rejects with when the caller aborts a read: the signal's reason. */
const aborted = () =>
  Object.assign(new Error("This operation was aborted"), { name: "AbortError" });
const timeout = () => failure("UPSTREAM_TIMEOUT");

/** A client whose next outcomes are scripted; every call it receives is recorded. */
function scriptedClient() {
  const outcomes: (WireReply | Error | Promise<WireReply>)[] = [];
  const calls: string[] = [];
  const client: UpstreamClient = {
    call: command => {
      calls.push(command);
      const next = outcomes.shift() ?? reply;
      if (next instanceof Promise) {
        return next;
      }
      return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
    },
    close: jest.fn(() => Promise.resolve()),
  };
  return { client, outcomes, calls };
}

function setup(options: { failureThreshold?: number; openMs?: number } = {}) {
  let now = Date.UTC(2025, 0, 1);
  const changes: CircuitStateChange[] = [];
  const { client, outcomes, calls } = scriptedClient();
  const guarded = withCircuitBreaker(client, {
    ...options,
    now: () => now,
    onStateChange: change => changes.push(change),
  });
  const read = () => guarded.call("StatusCertificate", { certificate: "1" });
  return {
    guarded,
    inner: client,
    outcomes,
    calls,
    changes,
    read,
    advance: (ms: number) => (now += ms),
    failTimes: async (count: number, make: () => Error = unreachable) => {
      for (let i = 0; i < count; i++) {
        outcomes.push(make());
        await read().catch(() => undefined);
      }
    },
  };
}

describe("withCircuitBreaker", () => {
  it("opens after five consecutive transport failures or timeouts", async () => {
    const t = setup();

    await t.failTimes(2, unreachable);
    await t.failTimes(2, timeout);
    expect(t.guarded.state()).toBe("closed");
    await t.failTimes(1);

    expect(t.guarded.state()).toBe("open");
    expect(t.changes).toEqual([
      { from: "closed", to: "open", at: expect.any(Number), failures: 5 },
    ]);
  });

  it("fails fast while open, without sending, saying since when", async () => {
    const t = setup();
    await t.failTimes(5);
    t.calls.length = 0;

    const error = await t.read().catch((e: unknown) => e);

    expect(t.calls).toEqual([]);
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({
      code: "UPSTREAM_UNAVAILABLE",
      command: "StatusCertificate",
      retryable: true,
      outcomeUnknown: false,
    });
    expect((error as Error).message).toMatch(
      /^StatusCertificate: circuit open; upstream unreachable since 2025-01-01T00:00:00\.000Z/,
    );
  });

  it("does not count replies: a 5xx or 4xx answer resets the count", async () => {
    const t = setup();
    await t.failTimes(4);
    await t.failTimes(1, () => failure("UPSTREAM_REJECTED", false, 545));
    await t.failTimes(4);
    await t.failTimes(1, () => failure("UPSTREAM_TEMPORARY", true, 421));
    await t.failTimes(4);
    await t.failTimes(1, () => failure("UPSTREAM_AUTHENTICATION", false, 530));
    await t.failTimes(4);

    expect(t.guarded.state()).toBe("closed");
  });

  it("neither counts nor resets on unknown outcomes, protocol errors, aborts and a closed client", async () => {
    const t = setup();
    await t.failTimes(4);
    await t.failTimes(1, () => failure("UPSTREAM_OUTCOME_UNKNOWN", false));
    await t.failTimes(1, () => failure("UPSTREAM_PROTOCOL", false));
    await t.failTimes(1, aborted);
    await t.failTimes(1, () => failure("UPSTREAM_UNAVAILABLE", false));
    expect(t.guarded.state()).toBe("closed");

    await t.failTimes(1);
    expect(t.guarded.state()).toBe("open");
  });

  it("lets one read through as a probe after openMs, and closes when it is answered", async () => {
    const t = setup({ openMs: 10_000 });
    await t.failTimes(5);
    t.advance(9_999);
    expect(t.guarded.state()).toBe("open");
    t.advance(1);
    expect(t.guarded.state()).toBe("half-open");

    let answer!: (value: WireReply) => void;
    t.outcomes.push(new Promise<WireReply>(resolve => (answer = resolve)));
    t.calls.length = 0;
    const probe = t.read();
    const concurrent = await t.read().catch((e: unknown) => e);

    expect(t.calls).toEqual(["StatusCertificate"]);
    expect((concurrent as Error).message).toMatch(/half-open, a probe is under way/);
    answer(reply);
    await expect(probe).resolves.toBe(reply);
    expect(t.guarded.state()).toBe("closed");
    expect(t.changes.map(c => `${c.from}>${c.to}`)).toEqual([
      "closed>open",
      "open>half-open",
      "half-open>closed",
    ]);
    await expect(t.read()).resolves.toBe(reply);
  });

  it("closes on a probe answered with an upstream error code", async () => {
    const t = setup();
    await t.failTimes(5);
    t.advance(CIRCUIT_BREAKER_DEFAULTS.openMs);

    await t.failTimes(1, () => failure("UPSTREAM_REJECTED", false, 545));

    expect(t.guarded.state()).toBe("closed");
  });

  it("reopens for another openMs when the probe fails", async () => {
    const t = setup({ openMs: 1_000 });
    await t.failTimes(5);
    t.advance(1_000);

    await t.failTimes(1, timeout);

    expect(t.guarded.state()).toBe("open");
    t.advance(999);
    expect(t.guarded.state()).toBe("open");
    t.advance(1);
    expect(t.guarded.state()).toBe("half-open");
  });

  it("never uses a write as the probe", async () => {
    const t = setup({ openMs: 1_000 });
    await t.failTimes(5);
    t.advance(1_000);
    t.calls.length = 0;

    await expect(
      t.guarded.call("AddCertificate", { class: "x", csr: "y", domain: ["a"] }),
    ).rejects.toMatchObject({ code: "UPSTREAM_UNAVAILABLE", command: "AddCertificate" });

    expect(t.calls).toEqual([]);
    expect(t.guarded.state()).toBe("half-open");
  });

  it("stays half-open when the probe is aborted, so the next read probes", async () => {
    const t = setup({ openMs: 1_000 });
    await t.failTimes(5);
    t.advance(1_000);

    await t.failTimes(1, aborted);
    expect(t.guarded.state()).toBe("half-open");
    await expect(t.read()).resolves.toBe(reply);
    expect(t.guarded.state()).toBe("closed");
  });

  it("ignores an observer that throws, and closes the inner client", async () => {
    const { client, outcomes } = scriptedClient();
    const guarded = withCircuitBreaker(client, {
      failureThreshold: 1,
      onStateChange: () => {
        throw new Error("broken logger");
      },
    });
    outcomes.push(unreachable());

    await expect(guarded.call("GetCertificateInfo", {})).rejects.toMatchObject({
      message: "UPSTREAM_UNAVAILABLE happened",
    });
    expect(guarded.state()).toBe("open");
    await guarded.close();
    expect(client.close).toHaveBeenCalledTimes(1);
  });

  it("refuses nonsensical options", () => {
    const { client } = scriptedClient();
    expect(() => withCircuitBreaker(client, { failureThreshold: 0 })).toThrow(RangeError);
    expect(() => withCircuitBreaker(client, { openMs: -1 })).toThrow(RangeError);
  });
});

describe("createCircuitBreaker", () => {
  it("shares one state between the clients it wraps (pass-through accounts)", async () => {
    const breaker = createCircuitBreaker({ failureThreshold: 2 });
    const alice = scriptedClient();
    const bob = scriptedClient();
    alice.outcomes.push(unreachable());
    bob.outcomes.push(timeout());

    await breaker
      .wrap(alice.client)
      .call("GetCertificateInfo", {})
      .catch(() => undefined);
    await breaker
      .wrap(bob.client)
      .call("GetCertificateInfo", {})
      .catch(() => undefined);

    expect(breaker.state()).toBe("open");
    await expect(breaker.wrap(alice.client).call("GetCertificateInfo", {})).rejects.toMatchObject({
      code: "UPSTREAM_UNAVAILABLE",
    });
    expect(alice.calls).toHaveLength(1);
  });
});
