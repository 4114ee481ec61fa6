import {
  createMemoryIdempotencyStore,
  fingerprintOf,
  IdempotencyConflictError,
  type IdempotencyScope,
  IdempotencyOutcomeUnknownError,
  IdempotencyUnavailableError,
  MIN_IDEMPOTENCY_TTL_MS,
} from "../../src/idempotency";

const DAY_MS = 24 * 60 * 60 * 1000;

function scope(changes: Partial<IdempotencyScope> = {}): IdempotencyScope {
  return {
    account: "reseller-1",
    key: "key-1",
    operation: "orderCertificate",
    fingerprint: fingerprintOf({ class: "ssl123dv", domains: ["example.com"] }),
    ttlMs: DAY_MS,
    ...changes,
  };
}

/** A hand-driven clock. */
function manualClock(start = Date.UTC(2025, 0, 1)) {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

/** A promise whose settlement the test controls. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** An upstream-like error that says whether the command may have run. */
function upstreamError(code: string, outcomeUnknown: boolean): Error {
  return Object.assign(new Error(`AddCertificate: ${code}`), { code, outcomeUnknown });
}

describe("createMemoryIdempotencyStore", () => {
  it("sends once for 20 concurrent calls with one key and gives all of them the same result", async () => {
    const store = createMemoryIdempotencyStore();
    const upstream = deferred<{ id: string; domains: string[] }>();
    const send = jest.fn(() => upstream.promise);

    const calls = Array.from({ length: 20 }, () => store.run(scope(), send));
    await Promise.resolve();
    expect(send).toHaveBeenCalledTimes(1);
    upstream.resolve({ id: "DK12345678", domains: ["example.com", "www.example.com"] });
    const results = await Promise.all(calls);

    expect(send).toHaveBeenCalledTimes(1);
    for (const result of results) {
      expect(result).toEqual({ id: "DK12345678", domains: ["example.com", "www.example.com"] });
    }
    // Each caller holds its own copy: one caller's changes do not reach the others.
    results[0]!.domains.push("mutated.example.com");
    expect(results[1]!.domains).toEqual(["example.com", "www.example.com"]);
  });

  it("replays the stored result to a later caller without sending", async () => {
    const store = createMemoryIdempotencyStore();
    const send = jest.fn(() => Promise.resolve({ id: "DK12345678" }));

    const first = await store.run(scope(), send);
    const again = await store.run(scope(), send);

    expect(send).toHaveBeenCalledTimes(1);
    expect(again).toEqual(first);
    expect(again).not.toBe(first);
  });

  it("gives every caller a JSON copy, so the first caller sees what a replay will see", async () => {
    const store = createMemoryIdempotencyStore();
    const createdAt = new Date(Date.UTC(2025, 0, 1));

    const result = await store.run(scope(), () => Promise.resolve({ createdAt }));

    expect(result).toEqual({ createdAt: createdAt.toISOString() });
  });

  it("refuses the key with another input, while pending and after", async () => {
    const store = createMemoryIdempotencyStore();
    const upstream = deferred<string>();
    const other = scope({
      fingerprint: fingerprintOf({ class: "ssl123dv", domains: ["example.net"] }),
    });
    const send = jest.fn(() => upstream.promise);

    const first = store.run(scope(), send);
    await expect(store.run(other, send)).rejects.toBeInstanceOf(IdempotencyConflictError);
    upstream.resolve("DK1");
    await first;
    const conflict = store.run(other, send);

    await expect(conflict).rejects.toMatchObject({
      code: "IDEMPOTENCY_KEY_REUSED",
      operation: "orderCertificate",
    });
    expect(send).toHaveBeenCalledTimes(1);
  });

  it("refuses the key for another operation with the same input", async () => {
    const store = createMemoryIdempotencyStore();
    const send = jest.fn(() => Promise.resolve("DK1"));

    await store.run(scope(), send);

    await expect(store.run(scope({ operation: "renewCertificate" }), send)).rejects.toMatchObject({
      code: "IDEMPOTENCY_KEY_REUSED",
    });
    expect(send).toHaveBeenCalledTimes(1);
  });

  it("keeps the keys of different accounts apart", async () => {
    const store = createMemoryIdempotencyStore();
    const send = jest.fn((id: string) => Promise.resolve(id));

    const a = await store.run(scope({ account: "reseller-1" }), () => send("DK1"));
    const b = await store.run(scope({ account: "reseller-2" }), () => send("DK2"));

    expect([a, b]).toEqual(["DK1", "DK2"]);
    expect(send).toHaveBeenCalledTimes(2);
  });

  it("releases the key when the command certainly did not run, so a corrected retry proceeds", async () => {
    const store = createMemoryIdempotencyStore();
    const rejected = upstreamError("UPSTREAM_REJECTED", false);
    const corrected = scope({
      fingerprint: fingerprintOf({ class: "ssl123dv", domains: ["fixed.example.com"] }),
    });

    await expect(store.run(scope(), () => Promise.reject(rejected))).rejects.toBe(rejected);
    expect(await store.inspect("reseller-1", "key-1")).toMatchObject({
      state: "failed",
      error: { code: "UPSTREAM_REJECTED" },
    });
    const send = jest.fn(() => Promise.resolve("DK1"));

    await expect(store.run(corrected, send)).resolves.toBe("DK1");
    expect(send).toHaveBeenCalledTimes(1);
    expect(await store.inspect("reseller-1", "key-1")).toMatchObject({
      state: "done",
      result: "DK1",
    });
  });

  it("gives concurrent callers the first attempt's failure instead of sending again", async () => {
    const store = createMemoryIdempotencyStore();
    const upstream = deferred<string>();
    const send = jest.fn(() => upstream.promise);
    const rejected = upstreamError("UPSTREAM_REJECTED", false);

    const calls = [store.run(scope(), send), store.run(scope(), send), store.run(scope(), send)];
    upstream.reject(rejected);
    const outcomes = await Promise.allSettled(calls);

    expect(outcomes).toEqual([
      { status: "rejected", reason: rejected },
      { status: "rejected", reason: rejected },
      { status: "rejected", reason: rejected },
    ]);
    expect(send).toHaveBeenCalledTimes(1);
  });

  it.each([
    ["a timeout after sending", upstreamError("UPSTREAM_OUTCOME_UNKNOWN", true)],
    ["an error that does not say", new TypeError("cannot read properties of undefined")],
  ])("remembers an unknown outcome (%s) and never sends again", async (_case, error) => {
    const clock = manualClock();
    const store = createMemoryIdempotencyStore({ now: clock.now });
    const attemptedAt = clock.now();
    const send = jest.fn(() => Promise.reject(error));

    await expect(store.run(scope(), send)).rejects.toBe(error);
    clock.advance(60_000);
    const later = store.run(scope(), send);

    await expect(later).rejects.toBeInstanceOf(IdempotencyOutcomeUnknownError);
    await expect(later).rejects.toMatchObject({
      code: "UPSTREAM_OUTCOME_UNKNOWN",
      attemptedAt,
      message: expect.stringContaining("may or may not have been carried out"),
    });
    expect(send).toHaveBeenCalledTimes(1);
    expect(await store.inspect("reseller-1", "key-1")).toMatchObject({ state: "unknown" });
  });

  it("keeps the scope's lookup with the record for reconciliation, as a JSON copy", async () => {
    const store = createMemoryIdempotencyStore();
    const lookup = { kind: "certificate", domains: ["example.com"], csrKey: null };
    const lost = () => Promise.reject(upstreamError("UPSTREAM_OUTCOME_UNKNOWN", true));
    await expect(store.run(scope({ lookup }), lost)).rejects.toThrow();
    lookup.domains.push("changed.example.com");

    const record = await store.inspect("reseller-1", "key-1");
    await store.run(scope({ key: "no-lookup" }), () => Promise.resolve("DK1"));

    expect(record).toMatchObject({
      state: "unknown",
      lookup: { kind: "certificate", domains: ["example.com"], csrKey: null },
    });
    expect(await store.inspect("reseller-1", "no-lookup")).not.toHaveProperty("lookup");
  });

  it("lets reconciliation settle an unknown outcome either way", async () => {
    const store = createMemoryIdempotencyStore();
    const lost = () => Promise.reject(upstreamError("UPSTREAM_OUTCOME_UNKNOWN", true));
    await expect(store.run(scope({ key: "ran" }), lost)).rejects.toThrow();
    await expect(store.run(scope({ key: "did-not-run" }), lost)).rejects.toThrow();
    const send = jest.fn(() => Promise.resolve("DK2"));

    expect(
      await store.resolveUnknown("reseller-1", "ran", { outcome: "done", result: "DK1" }),
    ).toBe(true);
    expect(await store.resolveUnknown("reseller-1", "did-not-run", { outcome: "not-run" })).toBe(
      true,
    );
    expect(await store.resolveUnknown("reseller-1", "ran", { outcome: "not-run" })).toBe(false);

    await expect(store.run(scope({ key: "ran" }), send)).resolves.toBe("DK1");
    await expect(store.run(scope({ key: "did-not-run" }), send)).resolves.toBe("DK2");
    expect(send).toHaveBeenCalledTimes(1);
  });

  it("forgets a settled key when its TTL has passed, and never a pending one", async () => {
    const clock = manualClock();
    const store = createMemoryIdempotencyStore({ now: clock.now });
    const send = jest.fn(() => Promise.resolve("DK1"));
    await store.run(scope(), send);

    clock.advance(DAY_MS - 1);
    await store.run(scope(), send);
    expect(send).toHaveBeenCalledTimes(1);
    clock.advance(1);
    await store.run(scope(), send);
    expect(send).toHaveBeenCalledTimes(2);

    const slow = deferred<string>();
    const slowSend = jest.fn(() => slow.promise);
    const first = store.run(scope({ key: "slow" }), slowSend);
    clock.advance(3 * DAY_MS);
    const second = store.run(scope({ key: "slow" }), slowSend);
    slow.resolve("DK9");

    await expect(Promise.all([first, second])).resolves.toEqual(["DK9", "DK9"]);
    expect(slowSend).toHaveBeenCalledTimes(1);
  });

  it("evicts expired records first when full, then failed ones, and refuses rather than drop a live key", async () => {
    const clock = manualClock();
    const store = createMemoryIdempotencyStore({ now: clock.now, maxEntries: 2 });
    const send = jest.fn(() => Promise.resolve("ok"));
    await store.run(scope({ key: "old", ttlMs: DAY_MS }), send);
    await store.run(scope({ key: "young", ttlMs: 2 * DAY_MS }), send);
    clock.advance(DAY_MS);

    await store.run(scope({ key: "new" }), send);

    expect(await store.inspect("reseller-1", "old")).toBeUndefined();
    expect(await store.inspect("reseller-1", "young")).toMatchObject({ state: "done" });
    expect(await store.inspect("reseller-1", "new")).toMatchObject({ state: "done" });

    const refused = store.run(scope({ key: "one-too-many" }), send);
    await expect(refused).rejects.toBeInstanceOf(IdempotencyUnavailableError);
    await expect(refused).rejects.toMatchObject({ code: "IDEMPOTENCY_UNAVAILABLE" });
    expect(send).toHaveBeenCalledTimes(3);
  });

  it("makes room by dropping a failed record, whose key is free anyway", async () => {
    const store = createMemoryIdempotencyStore({ maxEntries: 2 });
    await store.run(scope({ key: "done" }), () => Promise.resolve("ok"));
    await expect(
      store.run(scope({ key: "failed" }), () =>
        Promise.reject(upstreamError("UPSTREAM_REJECTED", false)),
      ),
    ).rejects.toThrow();

    await expect(store.run(scope({ key: "next" }), () => Promise.resolve("ok"))).resolves.toBe(
      "ok",
    );
    expect(await store.inspect("reseller-1", "failed")).toBeUndefined();
    expect(await store.inspect("reseller-1", "done")).toMatchObject({ state: "done" });
  });

  it("blocks the key when the result cannot be stored, since the command did run", async () => {
    const store = createMemoryIdempotencyStore();
    const send = jest.fn(() => Promise.resolve({ amount: 10n }));

    await expect(store.run(scope(), send)).rejects.toBeInstanceOf(TypeError);
    await expect(store.run(scope(), send)).rejects.toMatchObject({
      code: "UPSTREAM_OUTCOME_UNKNOWN",
    });
    expect(send).toHaveBeenCalledTimes(1);
  });

  it("rejects a TTL shorter than a day as a programming error", async () => {
    const store = createMemoryIdempotencyStore();
    const send = jest.fn(() => Promise.resolve("ok"));

    await expect(
      store.run(scope({ ttlMs: MIN_IDEMPOTENCY_TTL_MS - 1 }), send),
    ).rejects.toBeInstanceOf(RangeError);
    expect(send).not.toHaveBeenCalled();
  });

  it("refuses to send once closed", async () => {
    const store = createMemoryIdempotencyStore();
    const send = jest.fn(() => Promise.resolve("ok"));
    await store.close();

    await expect(store.run(scope(), send)).rejects.toBeInstanceOf(IdempotencyUnavailableError);
    expect(send).not.toHaveBeenCalled();
  });
});

describe("fingerprintOf", () => {
  it("ignores key order, prototypes and undefined properties", () => {
    const graphqlInput = Object.assign(Object.create(null) as object, {
      domains: ["example.com"],
      class: "ssl123dv",
      dcvToken: undefined,
      techContact: { id: "P-ABC123" },
    });

    expect(fingerprintOf(graphqlInput)).toBe(
      fingerprintOf({
        class: "ssl123dv",
        techContact: { id: "P-ABC123" },
        domains: ["example.com"],
      }),
    );
    expect(fingerprintOf({ a: 1 })).toMatch(/^[0-9a-f]{64}$/);
  });

  it("tells different inputs apart, array order included", () => {
    expect(fingerprintOf({ domains: ["a.example", "b.example"] })).not.toBe(
      fingerprintOf({ domains: ["b.example", "a.example"] }),
    );
    expect(fingerprintOf({ periodYears: 1 })).not.toBe(fingerprintOf({ periodYears: "1" }));
    expect(fingerprintOf({ a: null })).not.toBe(fingerprintOf({}));
  });

  it("uses toJSON and refuses cycles", () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;

    expect(fingerprintOf({ at: new Date(0) })).toBe(
      fingerprintOf({ at: "1970-01-01T00:00:00.000Z" }),
    );
    expect(() => fingerprintOf(cyclic)).toThrow(TypeError);
  });
});
