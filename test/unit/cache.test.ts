import { KeyvAdapter } from "@apollo/utils.keyvadapter";
import { type KeyvStoreAdapter, type StoredData } from "keyv";
import {
  accountTag,
  type CacheEvent,
  type CacheOptions,
  createCache,
  type GatewayCache,
} from "../../src/cache";
import {
  CACHE_NAMESPACES,
  CACHE_POLICY,
  CACHE_TTL_MS,
  type CacheNamespace,
  ttlFor,
} from "../../src/cache-policy";
import {
  type CertificateOrderRecord,
  type CertificateRecord,
  type CertificateStatusValue,
  type ContactRecord,
  type PageRecord,
} from "../../src/upstream/types";

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** A hand-driven clock, started at the real time so Keyv's own expiry never gets in the way. */
function manualClock() {
  let now = Date.now();
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

function certificate(changes: Partial<CertificateRecord> = {}): CertificateRecord {
  return {
    id: "CRT-1",
    status: "active",
    className: "ssl123dv",
    orderId: "ORD-1",
    domains: ["example.com", "www.example.com"],
    validations: [],
    serverType: null,
    csr: null,
    crt: "-----BEGIN CERTIFICATE-----",
    intermediate: null,
    root: null,
    techContactId: null,
    organizationContactId: null,
    evApproverContactId: null,
    orderPaidUntil: new Date("2027-01-01T00:00:00.000Z"),
    createdAt: new Date("2025-01-01T12:34:56.789Z"),
    updatedAt: null,
    expiresAt: new Date(Date.now() + 90 * 24 * HOUR),
    ...changes,
  };
}

function order(
  status: CertificateStatusValue,
  paidUntil: Date | null = null,
): CertificateOrderRecord {
  return {
    id: "ORD-1",
    status,
    className: "ssl123dv",
    ca: null,
    certificates: [{ id: "CRT-1", status, expiresAt: new Date("2026-03-01T00:00:00.000Z") }],
    paidUntil,
    createdAt: null,
    updatedAt: null,
  };
}

function contact(status: string | null): ContactRecord {
  return {
    id: "CC-1",
    type: "organization",
    status,
    firstName: "Ada",
    lastName: "Lovelace",
    jobTitle: null,
    email: "ada@example.com",
    phone: null,
    organization: null,
    createdAt: null,
    updatedAt: null,
  };
}

/** A loader that records every call and answers with `make(id)` (`undefined`: absent). */
function recordingLoader<T>(make: (id: string) => T | undefined) {
  const calls: string[][] = [];
  const load = (missing: string[]): Promise<Map<string, T>> => {
    calls.push([...missing]);
    const result = new Map<string, T>();
    for (const id of missing) {
      const value = make(id);
      if (value !== undefined) {
        result.set(id, value);
      }
    }
    return Promise.resolve(result);
  };
  return { load, calls };
}

/** A Keyv store over a plain Map, so a test can look at the keys written. */
class MapStore implements KeyvStoreAdapter {
  readonly opts = {};
  readonly map = new Map<string, unknown>();
  get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    return Promise.resolve(this.map.get(key) as Value | undefined);
  }
  set(key: string, value: unknown): Promise<boolean> {
    this.map.set(key, value);
    return Promise.resolve(true);
  }
  delete(key: string): Promise<boolean> {
    return Promise.resolve(this.map.delete(key));
  }
  clear(): Promise<void> {
    this.map.clear();
    return Promise.resolve();
  }
  on(): this {
    return this;
  }
}

/** A store whose every call fails (`mode: "throw"`) or never answers (`mode: "hang"`). */
function brokenStore(mode: "throw" | "hang"): KeyvStoreAdapter {
  const fail = <T>(): Promise<T> =>
    mode === "throw" ? Promise.reject(new Error("store is down")) : new Promise<T>(() => undefined);
  return {
    opts: {},
    get: () => fail(),
    set: () => fail(),
    delete: () => fail(),
    clear: () => fail(),
    on() {
      return this;
    },
  };
}

function memoryCache(options: CacheOptions = {}): GatewayCache {
  return createCache({ kind: "memory", url: "" }, options);
}

describe("ttlFor", () => {
  const now = Date.UTC(2026, 0, 1);

  it("keeps the catalogue for hours", () => {
    expect(ttlFor("class", { name: "ssl123dv" }, now)).toBe(6 * HOUR);
    expect(ttlFor("classList", ["ssl123dv"], now)).toBe(6 * HOUR);
  });

  it("keeps certificates and orders in a final state for a day", () => {
    for (const status of ["revoked", "expired", "canceled", "failed"] as const) {
      expect(ttlFor("certificate", certificate({ status }), now)).toBe(24 * HOUR);
      expect(ttlFor("order", order(status), now)).toBe(24 * HOUR);
    }
  });

  it("keeps values the CA is working on for seconds", () => {
    for (const status of ["processing", "cancel_processing", "revoke_processing"] as const) {
      expect(ttlFor("certificate", certificate({ status }), now)).toBe(10 * SECOND);
      expect(ttlFor("order", order(status), now)).toBe(10 * SECOND);
    }
    expect(ttlFor("certificate", { status: "something new" }, now)).toBe(10 * SECOND);
  });

  it("keeps active values a minute, never past their expiry", () => {
    const far = new Date(now + 30 * 24 * HOUR);
    expect(ttlFor("certificate", certificate({ expiresAt: far }), now)).toBe(MINUTE);
    expect(ttlFor("certificate", certificate({ expiresAt: null }), now)).toBe(MINUTE);
    expect(ttlFor("certificate", certificate({ expiresAt: new Date(now + 5000) }), now)).toBe(5000);
    expect(ttlFor("certificate", certificate({ expiresAt: new Date(now - 1) }), now)).toBe(
      10 * SECOND,
    );
    expect(ttlFor("order", order("active", far), now)).toBe(MINUTE);
    expect(ttlFor("order", order("active", new Date(now + 2000)), now)).toBe(2000);
  });

  it("keeps verified contacts for a day and others for minutes", () => {
    expect(ttlFor("contact", contact("verified"), now)).toBe(24 * HOUR);
    expect(ttlFor("contact", contact("unverified"), now)).toBe(5 * MINUTE);
    expect(ttlFor("contact", contact(null), now)).toBe(5 * MINUTE);
  });

  it("keeps lists for seconds", () => {
    const page: PageRecord<unknown> = { items: [], first: 0, limit: 20, total: 0 };
    for (const namespace of ["certificateList", "orderList", "contactList"] as const) {
      expect(ttlFor(namespace, page, now)).toBe(10 * SECOND);
    }
  });

  it("never caches an absent value", () => {
    for (const namespace of CACHE_NAMESPACES) {
      expect(ttlFor(namespace, null, now)).toBeUndefined();
      expect(ttlFor(namespace, undefined, now)).toBeUndefined();
    }
  });

  it("has a table row with a positive TTL for every namespace", () => {
    for (const namespace of CACHE_NAMESPACES) {
      expect(CACHE_POLICY.some(row => row.namespace === namespace)).toBe(true);
    }
    for (const row of CACHE_POLICY) {
      expect(row.ttlMs).toBeGreaterThan(0);
      expect(row.why).not.toBe("");
    }
    expect(CACHE_TTL_MS.listGeneration).toBeGreaterThan(CACHE_TTL_MS.list);
  });
});

describe("accountTag", () => {
  it("is 16 hex digits, stable, and differs between accounts", () => {
    expect(accountTag("reseller-1")).toMatch(/^[0-9a-f]{16}$/);
    expect(accountTag("reseller-1")).toBe(accountTag("reseller-1"));
    expect(accountTag("reseller-1")).not.toBe(accountTag("reseller-2"));
  });
});

describe("createCache (memory)", () => {
  it("loads a miss once and serves it from the store afterwards", async () => {
    const cache = memoryCache();
    const { load, calls } = recordingLoader(id => certificate({ id }));

    const first = await cache.readThrough("certificate", "acct", ["CRT-1", "CRT-2"], load);
    const second = await cache.readThrough(
      "certificate",
      "acct",
      ["CRT-2", "CRT-1", "CRT-3"],
      load,
    );

    expect(calls).toEqual([["CRT-1", "CRT-2"], ["CRT-3"]]);
    expect([...first.keys()]).toEqual(["CRT-1", "CRT-2"]);
    expect(second.get("CRT-1")?.id).toBe("CRT-1");
    expect(second.get("CRT-3")?.id).toBe("CRT-3");
    expect(cache.stats().byNamespace.certificate).toEqual({
      hits: 2,
      misses: 3,
      errors: 0,
      sets: 3,
      invalidations: 0,
    });
    expect(cache.stats().total.hits).toBe(2);
    await cache.close();
  });

  it("expires each value on the TTL the policy gives it", async () => {
    const clock = manualClock();
    const cache = memoryCache({ now: clock.now });
    const statuses: Record<string, CertificateStatusValue> = {
      "CRT-P": "processing",
      "CRT-A": "active",
      "CRT-R": "revoked",
    };
    const { load, calls } = recordingLoader(id => certificate({ id, status: statuses[id]! }));
    const ids = Object.keys(statuses);

    await cache.readThrough("certificate", "acct", ids, load);
    clock.advance(9 * SECOND);
    await cache.readThrough("certificate", "acct", ids, load);
    clock.advance(2 * SECOND);
    await cache.readThrough("certificate", "acct", ids, load);
    clock.advance(MINUTE);
    await cache.readThrough("certificate", "acct", ids, load);
    clock.advance(24 * HOUR);
    await cache.readThrough("certificate", "acct", ids, load);

    expect(calls).toEqual([ids, ["CRT-P"], ["CRT-P", "CRT-A"], ids]);
    await cache.close();
  });

  it("really expires on real time too (Keyv's TTL in milliseconds)", async () => {
    const cache = memoryCache();
    const { load, calls } = recordingLoader(id =>
      // Wide enough that the second read lands before expiry on a loaded machine.
      certificate({ id, expiresAt: new Date(Date.now() + 400) }),
    );

    await cache.readThrough("certificate", "acct", ["CRT-1"], load);
    await cache.readThrough("certificate", "acct", ["CRT-1"], load);
    await new Promise(resolve => setTimeout(resolve, 600));
    await cache.readThrough("certificate", "acct", ["CRT-1"], load);

    expect(calls).toHaveLength(2);
    await cache.close();
  });

  it("evicts the least recently used entries beyond maxEntries", async () => {
    const cache = memoryCache({ maxEntries: 3 });
    const { load, calls } = recordingLoader(id => ({ name: id }));

    await cache.readThrough("class", "acct", ["a", "b", "c"], load);
    await cache.readThrough("class", "acct", ["a"], load); // a is now the most recent
    await cache.readThrough("class", "acct", ["d"], load); // evicts b
    await cache.readThrough("class", "acct", ["a", "c", "d"], load);
    await cache.readThrough("class", "acct", ["b"], load);

    expect(calls).toEqual([["a", "b", "c"], ["d"], ["b"]]);
    await cache.close();
  });

  it("evicts beyond maxBytes and never stores a value larger than the store", async () => {
    // Each value is ~2 KiB serialised (UTF-16: ~4 KiB); three fit in 14 KiB, four do not.
    const cache = memoryCache({ maxBytes: 14 * 1024 });
    const { load, calls } = recordingLoader(id =>
      id === "huge" ? { name: id, blob: "x".repeat(20_000) } : { name: id, blob: "x".repeat(2000) },
    );

    await cache.readThrough("class", "acct", ["a", "b", "c"], load);
    await cache.readThrough("class", "acct", ["a", "b", "c"], load);
    await cache.readThrough("class", "acct", ["d"], load); // evicts a
    await cache.readThrough("class", "acct", ["b", "c", "d"], load);
    await cache.readThrough("class", "acct", ["a"], load);
    const huge1 = await cache.readThrough("class", "acct", ["huge"], load);
    const huge2 = await cache.readThrough("class", "acct", ["huge"], load);

    expect(huge1.get("huge")).toEqual(huge2.get("huge"));
    expect(calls).toEqual([["a", "b", "c"], ["d"], ["a"], ["huge"], ["huge"]]);
    await cache.close();
  });

  it("never serves one account's value to another", async () => {
    const cache = memoryCache();
    const loadA = recordingLoader(id => certificate({ id, className: "for-a" }));
    const loadB = recordingLoader(id => certificate({ id, className: "for-b" }));

    await cache.readThrough("certificate", "account-a", ["CRT-1"], loadA.load);
    const b = await cache.readThrough("certificate", "account-b", ["CRT-1"], loadB.load);
    const a = await cache.readThrough("certificate", "account-a", ["CRT-1"], loadA.load);

    expect(b.get("CRT-1")?.className).toBe("for-b");
    expect(a.get("CRT-1")?.className).toBe("for-a");
    expect(loadA.calls).toEqual([["CRT-1"]]);
    expect(loadB.calls).toEqual([["CRT-1"]]);
    await cache.close();
  });

  it("writes keys under gw:v1 with a hash of the account, never the login", async () => {
    const store = new MapStore();
    const cache = memoryCache({ store });
    const { load } = recordingLoader(id => certificate({ id }));

    await cache.readThrough("certificate", "secret-login", ["CRT-1"], load);
    await cache.readThrough("certificateList", "secret-login", ['[["limit",20]]'], () =>
      Promise.resolve(new Map([['[["limit",20]]', { items: [], first: 0, limit: 20, total: 0 }]])),
    );

    const keys = [...store.map.keys()];
    const tag = accountTag("secret-login");
    expect(keys).toContain(`gw:v1:certificate:${tag}:CRT-1`);
    expect(keys).toContain(`gw:v1:listgen:${tag}`);
    expect(
      keys.some(key =>
        /^gw:v1:certificateList:[0-9a-f]{16}:[0-9a-f]{12}:\[\["limit",20\]\]$/.test(key),
      ),
    ).toBe(true);
    expect(keys.every(key => key.startsWith("gw:v1:") && !key.includes("secret-login"))).toBe(true);
    await cache.close();
  });

  it("loads once for concurrent misses of the same id (single flight)", async () => {
    const cache = memoryCache();
    let release!: () => void;
    const gate = new Promise<void>(resolve => (release = resolve));
    const calls: string[][] = [];
    const load = async (missing: string[]) => {
      calls.push(missing);
      await gate;
      return new Map(missing.map(id => [id, certificate({ id })]));
    };

    const reads = Array.from({ length: 10 }, () =>
      cache.readThrough("certificate", "acct", ["CRT-1"], load),
    );
    const overlapping = cache.readThrough("certificate", "acct", ["CRT-1", "CRT-2"], load);
    await new Promise(resolve => setImmediate(resolve));
    release();
    const results = await Promise.all([...reads, overlapping]);

    expect(calls).toEqual([["CRT-1"], ["CRT-2"]]);
    for (const result of results) {
      expect(result.get("CRT-1")?.id).toBe("CRT-1");
    }
    expect(results[10]!.get("CRT-2")?.id).toBe("CRT-2");
    await cache.close();
  });

  it("rejects every joined caller when the load fails, and loads again next time", async () => {
    const cache = memoryCache();
    let attempt = 0;
    const load = async (missing: string[]) => {
      attempt += 1;
      await new Promise(resolve => setImmediate(resolve));
      if (attempt === 1) {
        throw new Error("upstream down");
      }
      return new Map(missing.map(id => [id, certificate({ id })]));
    };

    const reads = Array.from({ length: 3 }, () =>
      cache.readThrough("certificate", "acct", ["CRT-1"], load),
    );
    const settled = await Promise.allSettled(reads);
    const again = await cache.readThrough("certificate", "acct", ["CRT-1"], load);

    expect(settled.map(s => s.status)).toEqual(["rejected", "rejected", "rejected"]);
    expect(again.get("CRT-1")?.id).toBe("CRT-1");
    expect(attempt).toBe(2);
    await cache.close();
  });

  it("does not cache absent values", async () => {
    const cache = memoryCache();
    const { load, calls } = recordingLoader<CertificateRecord>(() => undefined);
    const nulls = (missing: string[]) =>
      Promise.resolve(new Map<string, CertificateRecord | null>(missing.map(id => [id, null])));

    const first = await cache.readThrough("certificate", "acct", ["CRT-X"], load);
    await cache.readThrough("certificate", "acct", ["CRT-X"], load);
    const viaNull = await cache.readThrough("certificate", "acct", ["CRT-Y"], nulls);

    expect(first.size).toBe(0);
    expect(viaNull.has("CRT-Y")).toBe(false);
    expect(calls).toEqual([["CRT-X"], ["CRT-X"]]);
    expect(cache.stats().byNamespace.certificate.sets).toBe(0);
    await cache.close();
  });

  it("invalidates ids so the next read loads them again", async () => {
    const cache = memoryCache();
    let version = 1;
    const { load, calls } = recordingLoader(id => certificate({ id, className: `v${version}` }));

    await cache.readThrough("certificate", "acct", ["CRT-1", "CRT-2"], load);
    version = 2;
    await cache.invalidate("certificate", "acct", ["CRT-1"]);
    const after = await cache.readThrough("certificate", "acct", ["CRT-1", "CRT-2"], load);

    expect(calls).toEqual([["CRT-1", "CRT-2"], ["CRT-1"]]);
    expect(after.get("CRT-1")?.className).toBe("v2");
    expect(after.get("CRT-2")?.className).toBe("v1");
    expect(cache.stats().byNamespace.certificate.invalidations).toBe(1);
    await cache.close();
  });

  it("does not store a load that an invalidation overtook", async () => {
    const cache = memoryCache();
    let release!: () => void;
    const gate = new Promise<void>(resolve => (release = resolve));
    let version = 1;
    const calls: string[][] = [];
    const load = async (missing: string[]) => {
      calls.push(missing);
      const seen = version;
      await gate;
      return new Map(missing.map(id => [id, certificate({ id, className: `v${seen}` })]));
    };

    const stale = cache.readThrough("certificate", "acct", ["CRT-1"], load);
    await new Promise(resolve => setImmediate(resolve));
    version = 2;
    await cache.invalidate("certificate", "acct", ["CRT-1"]);
    release();
    await stale;
    const fresh = await cache.readThrough("certificate", "acct", ["CRT-1"], load);

    expect(fresh.get("CRT-1")?.className).toBe("v2");
    expect(calls).toHaveLength(2);
    await cache.close();
  });

  it("drops every list of an account with invalidateLists, and nothing else", async () => {
    const cache = memoryCache();
    const page = (total: number): PageRecord<string> => ({ items: [], first: 0, limit: 20, total });
    const lists = recordingLoader(() => page(1));
    const records = recordingLoader(id => certificate({ id }));
    const read = (namespace: CacheNamespace, account: string) =>
      cache.readThrough(namespace, account, ["q"], lists.load);

    await read("certificateList", "a");
    await read("orderList", "a");
    await read("certificateList", "b");
    await cache.readThrough("certificate", "a", ["CRT-1"], records.load);
    await cache.invalidateLists("a");
    await read("certificateList", "a");
    await read("orderList", "a");
    await read("certificateList", "b");
    await cache.readThrough("certificate", "a", ["CRT-1"], records.load);

    expect(lists.calls).toHaveLength(5); // 3 first reads, then a's two lists again
    expect(records.calls).toHaveLength(1);
    expect(cache.stats().byNamespace.contactList.invalidations).toBe(1);
    await cache.close();
  });

  it("stores lists read together on a fresh account under one generation", async () => {
    const cache = memoryCache();
    const page = (total: number): PageRecord<string> => ({ items: [], first: 0, limit: 20, total });
    const lists = recordingLoader(() => page(1));
    const read = (namespace: CacheNamespace) =>
      cache.readThrough(namespace, "fresh", ["q"], lists.load);

    // A page and the contact list it prefetches, both the account's first lists.
    await Promise.all([read("certificateList"), read("contactList"), read("orderList")]);
    await Promise.all([read("certificateList"), read("contactList"), read("orderList")]);

    expect(lists.calls).toHaveLength(3); // the second round is served from the store
    await cache.close();
  });

  it("round-trips Dates, nested and invalid ones included", async () => {
    const cache = memoryCache();
    const original = {
      ...order("active", new Date("2027-05-06T07:08:09.010Z")),
      createdAt: new Date(Number.NaN),
    };
    const load = () => Promise.resolve(new Map([["ORD-1", original]]));

    await cache.readThrough("order", "acct", ["ORD-1"], load);
    const hit = (await cache.readThrough("order", "acct", ["ORD-1"], load)).get("ORD-1")!;

    expect(hit).not.toBe(original);
    expect(hit.paidUntil).toBeInstanceOf(Date);
    expect(hit.paidUntil?.toISOString()).toBe("2027-05-06T07:08:09.010Z");
    expect(hit.certificates[0]!.expiresAt).toEqual(new Date("2026-03-01T00:00:00.000Z"));
    expect(hit.createdAt).toBeInstanceOf(Date);
    expect(Number.isNaN(hit.createdAt.getTime())).toBe(true);
    expect(hit.updatedAt).toBeNull();
    expect({ ...hit, createdAt: null }).toEqual({ ...original, createdAt: null });
    await cache.close();
  });

  it("treats a failing store as a miss, counts and reports the error, still answers", async () => {
    const events: CacheEvent[] = [];
    const cache = memoryCache({ store: brokenStore("throw"), onEvent: e => events.push(e) });
    const { load, calls } = recordingLoader(id => certificate({ id }));

    const first = await cache.readThrough("certificate", "acct", ["CRT-1"], load);
    const second = await cache.readThrough("certificate", "acct", ["CRT-1"], load);
    await cache.invalidate("certificate", "acct", ["CRT-1"]);
    await cache.invalidateLists("acct");
    const list = await cache.readThrough("orderList", "acct", ["q"], load);

    expect(first.get("CRT-1")?.id).toBe("CRT-1");
    expect(second.get("CRT-1")?.id).toBe("CRT-1");
    expect(list.has("q")).toBe(true);
    expect(calls).toHaveLength(3);
    const stats = cache.stats();
    expect(stats.byNamespace.certificate).toMatchObject({ hits: 0, misses: 2, errors: 5, sets: 0 });
    expect(stats.byNamespace.orderList.errors).toBe(1); // the generation lookup; no store call after
    expect(events.length).toBe(stats.total.errors);
    expect(events[0]).toMatchObject({ type: "error", operation: "get", timedOut: false });
    await expect(cache.ping()).resolves.toBe(true);
    await cache.close();
  });

  it("gives up on a hanging store within the timeout", async () => {
    const events: CacheEvent[] = [];
    const cache = memoryCache({
      store: brokenStore("hang"),
      timeoutMs: 25,
      onEvent: e => events.push(e),
    });
    const { load, calls } = recordingLoader(id => certificate({ id }));

    const started = Date.now();
    const result = await cache.readThrough("certificate", "acct", ["CRT-1"], load);
    await cache.invalidate("certificate", "acct", ["CRT-1"]);
    const elapsed = Date.now() - started;

    expect(result.get("CRT-1")?.id).toBe("CRT-1");
    expect(calls).toEqual([["CRT-1"]]);
    expect(elapsed).toBeLessThan(1000);
    expect(cache.stats().byNamespace.certificate.errors).toBe(3); // get, set, delete
    expect(events.every(e => e.type === "error" && e.timedOut)).toBe(true);
    await cache.close();
  });

  it("survives an onEvent hook that throws", async () => {
    const cache = memoryCache({
      store: brokenStore("throw"),
      onEvent: () => {
        throw new Error("logger broke");
      },
    });
    const { load } = recordingLoader(id => certificate({ id }));

    await expect(cache.readThrough("certificate", "acct", ["CRT-1"], load)).resolves.toHaveProperty(
      "size",
      1,
    );
    await cache.close();
  });

  it("shares its store with Apollo's persisted queries through KeyvAdapter", async () => {
    const store = new MapStore();
    const cache = memoryCache({ store });
    const apq = new KeyvAdapter(cache.keyv());

    await apq.set("apq:abc", "{ hello }", { ttl: 300 });

    await expect(apq.get("apq:abc")).resolves.toBe("{ hello }");
    await expect(apq.get("apq:missing")).resolves.toBeUndefined();
    expect([...store.map.keys()]).toEqual(["gw:v1:apq:apq:abc"]);
    await cache.close();
  });

  it("lets persisted queries miss, not fail, when the store hangs", async () => {
    const cache = memoryCache({ store: brokenStore("hang"), timeoutMs: 20 });
    const apq = new KeyvAdapter(cache.keyv());

    await apq.set("apq:abc", "{ hello }");
    await expect(apq.get("apq:abc")).resolves.toBeUndefined();
    expect(cache.stats().byNamespace.apq.errors).toBe(2);
    await cache.close();
  });

  it("has no Redis client, and answers ping", async () => {
    const cache = memoryCache();
    expect(cache.kind).toBe("memory");
    expect(cache.redis()).toBeUndefined();
    await expect(cache.ping()).resolves.toBe(true);
    await cache.close();
    await cache.close();
  });
});

describe("createCache (off)", () => {
  it("never stores and always loads", async () => {
    const cache = createCache({ kind: "off", url: "" });
    const { load, calls } = recordingLoader(id =>
      id === "CRT-X" ? undefined : certificate({ id }),
    );

    const first = await cache.readThrough("certificate", "acct", ["CRT-1", "CRT-X", "CRT-1"], load);
    await cache.readThrough("certificate", "acct", ["CRT-1"], load);
    await cache.invalidate("certificate", "acct", ["CRT-1"]);
    await cache.invalidateLists("acct");
    const none = await cache.readThrough("certificate", "acct", [], load);

    expect(calls).toEqual([["CRT-1", "CRT-X"], ["CRT-1"]]);
    expect([...first.keys()]).toEqual(["CRT-1"]);
    expect(none.size).toBe(0);
    expect(cache.kind).toBe("off");
    expect(cache.keyv()).toBeUndefined();
    expect(cache.redis()).toBeUndefined();
    await expect(cache.ping()).resolves.toBe(true);
    expect(cache.stats().total).toEqual({
      hits: 0,
      misses: 3,
      errors: 0,
      sets: 0,
      invalidations: 0,
    });
    await cache.close();
  });
});
