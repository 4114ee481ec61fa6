import {
  createMemoryIdempotencyStore,
  fingerprintOf,
  type IdempotencyScope,
  IdempotencyOutcomeUnknownError,
} from "../../src/idempotency";
import { publicKeyFingerprint } from "../../src/pki/csr";
import {
  candidateRows,
  type CertificateAttempt,
  certificateListArgs,
  CLOCK_SKEW_MS,
  describeCertificateAttempt,
  isAttemptResult,
  MAX_CANDIDATES,
  parseCertificateAttempt,
  settleUnknownAttempt,
} from "../../src/reconcile";
import { type UpstreamClient } from "../../src/upstream/client";
import { decodeReply, encodeReply, type ReplyProperty } from "../../src/upstream/codec";
import { type CommandName } from "../../src/upstream/commands";
import { UpstreamError } from "../../src/upstream/errors";
import { fromStoredReply, type StoredReply } from "../../src/upstream/records";
import { type CertificateRecord, type CertificateRowRecord } from "../../src/upstream/types";
import { makeCsr } from "../helpers/pki";

const DAY_MS = 24 * 60 * 60 * 1000;
const ATTEMPTED_AT = Date.UTC(2025, 5, 1, 12, 0, 0);

const csrA = makeCsr({ commonName: "shop.example.com", keyType: "ec", keySlot: "reconcile-a" });
const csrB = makeCsr({ commonName: "shop.example.com", keyType: "ec", keySlot: "reconcile-b" });

function attempt(changes: Partial<CertificateAttempt> = {}): CertificateAttempt {
  return {
    ...describeCertificateAttempt({
      className: "ssl123dv",
      domains: ["shop.example.com"],
      csr: csrA.csrPem,
    }),
    ...changes,
  };
}

function record(changes: Partial<CertificateRecord> = {}): CertificateRecord {
  return {
    id: "DK1",
    status: "processing",
    className: "ssl123dv",
    orderId: "O-1",
    domains: ["shop.example.com", "www.shop.example.com"],
    validations: [],
    serverType: null,
    csr: csrA.csrPem,
    crt: null,
    intermediate: null,
    root: null,
    techContactId: null,
    organizationContactId: null,
    evApproverContactId: null,
    orderPaidUntil: null,
    createdAt: new Date(ATTEMPTED_AT + 1000),
    updatedAt: null,
    expiresAt: null,
    ...changes,
  };
}

function row(id: string, createdAt: number | null, changes: Partial<CertificateRowRecord> = {}) {
  return {
    id,
    status: "processing" as const,
    className: "ssl123dv",
    orderId: `O-${id}`,
    serverType: null,
    createdAt: createdAt === null ? null : new Date(createdAt),
    updatedAt: null,
    expiresAt: null,
    ...changes,
  };
}

describe("describeCertificateAttempt", () => {
  it("normalises class and domains and keeps the CSR's public key, not the CSR", () => {
    const described = describeCertificateAttempt({
      className: " SSL123DV ",
      domains: ["Shop.Example.com.", "shop.example.com", " www.shop.example.com"],
      csr: csrA.csrPem,
      orderId: "O-7",
      excludeIds: ["DK7"],
    });

    expect(described).toEqual({
      kind: "certificate",
      className: "ssl123dv",
      domains: ["shop.example.com", "www.shop.example.com"],
      csrKey: publicKeyFingerprint(csrA.csrPem),
      orderId: "O-7",
      excludeIds: ["DK7"],
    });
    expect(JSON.stringify(described)).not.toContain("BEGIN");
  });

  it("gives CSRs of one key the same csrKey and CSRs of two keys different ones", () => {
    const sameKey = makeCsr({
      commonName: "other.example.com",
      keyType: "ec",
      keySlot: "reconcile-a",
    });
    const key = (csr: string) =>
      describeCertificateAttempt({ className: "x", domains: ["a.b"], csr }).csrKey;

    expect(key(sameKey.csrPem)).toBe(key(csrA.csrPem));
    expect(key(csrB.csrPem)).not.toBe(key(csrA.csrPem));
  });

  it("compares no key when there is no CSR or one it cannot read", () => {
    const of = (csr: string | null) =>
      describeCertificateAttempt({ className: "ssl123dv", domains: ["a.example.com"], csr }).csrKey;

    expect(of(null)).toBeNull();
    expect(of("")).toBeNull();
    expect(of("-----BEGIN CERTIFICATE REQUEST-----\n\u0000\u0001junk\n")).toBeNull();
  });
});

describe("parseCertificateAttempt", () => {
  it("reads back what describeCertificateAttempt wrote, after a trip through JSON", () => {
    const described = attempt({ orderId: "O-1", excludeIds: ["DK0"] });

    expect(parseCertificateAttempt(JSON.parse(JSON.stringify(described)))).toEqual(described);
  });

  it.each([
    ["nothing", undefined],
    ["a string", "certificate"],
    ["another kind", { ...attempt(), kind: "contact" }],
    ["no domains", { ...attempt(), domains: [] }],
    ["a domain that is not a string", { ...attempt(), domains: [1] }],
    ["no class", { ...attempt(), className: "" }],
    ["a csrKey of the wrong type", { ...attempt(), csrKey: 5 }],
    ["no excludeIds", { ...attempt(), excludeIds: undefined }],
  ])("refuses %s", (_name, value) => {
    expect(parseCertificateAttempt(value)).toBeUndefined();
  });
});

describe("certificateListArgs", () => {
  it("asks for the newest certificates of the class that cover the first domain", () => {
    expect(certificateListArgs(attempt())).toEqual({
      wide: 1,
      class: "ssl123dv",
      domain: "shop.example.com",
      certificateorder: undefined,
      orderby: "CREATEDDATE",
      order: "DESC",
      limit: 100,
    });
  });

  it("stays in the order of a reissue", () => {
    expect(certificateListArgs(attempt({ orderId: "O-9" })).certificateorder).toBe("O-9");
  });
});

describe("candidateRows", () => {
  it("keeps rows of the class created since the attempt (less the clock skew), oldest first", () => {
    const rows = [
      row("NEWER", ATTEMPTED_AT + 60_000),
      row("SKEWED", ATTEMPTED_AT - CLOCK_SKEW_MS + 1000),
      row("OLD", ATTEMPTED_AT - CLOCK_SKEW_MS - 1000),
      row("OTHER-CLASS", ATTEMPTED_AT + 1000, { className: "rapidssldv" }),
      row("UNDATED", null),
      row("SAME-SECOND", ATTEMPTED_AT),
    ];

    expect(candidateRows(rows, attempt(), ATTEMPTED_AT).map(r => r.id)).toEqual([
      "SKEWED",
      "SAME-SECOND",
      "NEWER",
      "UNDATED",
    ]);
  });

  it("leaves out the excluded certificate and, for a reissue, other orders", () => {
    const rows = [
      row("ORIGINAL", ATTEMPTED_AT + 1, { orderId: "O-1" }),
      row("REISSUED", ATTEMPTED_AT + 2, { orderId: "O-1" }),
      row("ELSEWHERE", ATTEMPTED_AT + 3, { orderId: "O-2" }),
    ];

    const found = candidateRows(
      rows,
      attempt({ orderId: "O-1", excludeIds: ["ORIGINAL"] }),
      ATTEMPTED_AT,
    );

    expect(found.map(r => r.id)).toEqual(["REISSUED"]);
  });

  it(`looks at ${MAX_CANDIDATES} rows at most`, () => {
    const rows = Array.from({ length: 30 }, (_, i) => row(`DK${i}`, ATTEMPTED_AT + i * 1000));

    expect(candidateRows(rows, attempt(), ATTEMPTED_AT)).toHaveLength(MAX_CANDIDATES);
  });
});

describe("isAttemptResult", () => {
  it("matches the certificate of the same class, domains and CSR key, free alternatives included", () => {
    expect(isAttemptResult(record(), attempt())).toBe(true);
    expect(isAttemptResult(record({ domains: ["SHOP.example.com."] }), attempt())).toBe(true);
  });

  it.each<[string, Partial<CertificateRecord>, Partial<CertificateAttempt>]>([
    ["another key's CSR", { csr: csrB.csrPem }, {}],
    ["no CSR at all", { csr: null }, {}],
    ["an unreadable CSR", { csr: "junk" }, {}],
    ["a domain missing", { domains: ["www.shop.example.com"] }, {}],
    ["another class", { className: "rapidssldv" }, {}],
    ["the excluded certificate", {}, { excludeIds: ["DK1"] }],
    ["another order than the reissue's", { orderId: "O-2" }, { orderId: "O-1" }],
  ])("does not match %s", (_name, changes, attemptChanges) => {
    expect(isAttemptResult(record(changes), attempt(attemptChanges))).toBe(false);
  });

  it("compares class and domains only when the attempt has no CSR key", () => {
    expect(isAttemptResult(record({ csr: null }), attempt({ csrKey: null }))).toBe(true);
  });
});

describe("settleUnknownAttempt", () => {
  interface Call {
    command: CommandName;
    args: Record<string, unknown>;
  }

  /** A fake upstream: a list of `rows` (as reply columns) and StatusCertificate of `records`. */
  function fakeUpstream(
    records: CertificateRecord[],
    options: { fail?: boolean } = {},
  ): { client: UpstreamClient; calls: Call[] } {
    const calls: Call[] = [];
    const reply = (properties: ReplyProperty[]) =>
      decodeReply(
        encodeReply({ code: 200, description: "Command completed successfully", properties }),
      );
    const client: UpstreamClient = {
      call(command, args) {
        calls.push({ command, args: args as Record<string, unknown> });
        if (options.fail) {
          return Promise.reject(
            new UpstreamError({
              code: "UPSTREAM_TIMEOUT",
              command,
              message: "timed out",
              retryable: true,
            }),
          );
        }
        if (command === "QueryCertificateList") {
          const date = (r: CertificateRecord) =>
            r.createdAt?.toISOString().slice(0, 19).replace("T", " ") ?? "";
          return Promise.resolve(
            reply([
              ["certificate", records.map(r => r.id)],
              ["class", records.map(r => r.className.toUpperCase())],
              ["certificateorder", records.map(r => r.orderId ?? "")],
              ["status", records.map(r => r.status)],
              ["createddate", records.map(date)],
              ["column", ["certificate", "class", "certificateorder", "status", "createddate"]],
              ["total", [records.length]],
            ]),
          );
        }
        if (command === "StatusCertificate") {
          const found = records.find(r => r.id === (args as { certificate: string }).certificate)!;
          return Promise.resolve(
            reply([
              ["certificate", [found.id]],
              ["status", [found.status]],
              ["class", [found.className.toUpperCase()]],
              ["order", [found.orderId ?? ""]],
              ["domain", found.domains],
              ["csr", (found.csr ?? "").split("\n").filter(line => line !== "")],
            ]),
          );
        }
        return Promise.reject(new Error(`unexpected ${command}`));
      },
      close: () => Promise.resolve(),
    };
    return { client, calls };
  }

  const lostReply = () =>
    Promise.reject(
      Object.assign(new Error("AddCertificate: connection lost"), {
        code: "UPSTREAM_OUTCOME_UNKNOWN",
        outcomeUnknown: true,
      }),
    );

  /** A store holding an `unknown` record of `key-1`, attempted at ATTEMPTED_AT. */
  async function unknownRecord({
    lookup = attempt(),
    withLookup = true,
  }: { lookup?: unknown; withLookup?: boolean } = {}) {
    let now = ATTEMPTED_AT;
    const store = createMemoryIdempotencyStore({ now: () => now });
    const scope: IdempotencyScope = {
      account: "reseller",
      key: "key-1",
      operation: "orderCertificate",
      fingerprint: fingerprintOf({ domain: "shop.example.com" }),
      ttlMs: DAY_MS,
      ...(withLookup ? { lookup } : {}),
    };
    await expect(store.run(scope, lostReply)).rejects.toThrow("connection lost");
    const unknownError = await store.run(scope, lostReply).catch((error: unknown) => error);
    expect(unknownError).toBeInstanceOf(IdempotencyOutcomeUnknownError);
    return {
      store,
      scope,
      unknownError: unknownError as IdempotencyOutcomeUnknownError,
      advance: (ms: number) => {
        now += ms;
      },
      now: () => now,
    };
  }

  it("settles the record with the certificate found upstream, which run then answers", async () => {
    const { store, scope, unknownError, advance, now } = await unknownRecord();
    const upstream = fakeUpstream([record({ id: "DK-OTHER", csr: csrB.csrPem }), record()]);
    advance(5000);

    await settleUnknownAttempt(
      {
        idempotency: store,
        upstream: upstream.client,
        account: "reseller",
        reconcileAfterMs: 60_000,
        now,
      },
      "key-1",
      unknownError,
    );
    const send = jest.fn(() => Promise.reject(new Error("must not send")));
    const answer = fromStoredReply(await store.run<StoredReply>(scope, send));

    expect(send).not.toHaveBeenCalled();
    expect(answer.properties.get("certificate")).toEqual(["DK1"]);
    expect(upstream.calls.map(c => c.command)).toEqual([
      "QueryCertificateList",
      "StatusCertificate",
      "StatusCertificate",
    ]);
    expect((await store.inspect("reseller", "key-1"))?.state).toBe("done");
  });

  it("releases the key when nothing was created and the attempt is old enough", async () => {
    const { store, scope, unknownError, advance, now } = await unknownRecord();
    const upstream = fakeUpstream([record({ csr: csrB.csrPem })]);
    advance(60_000);

    await settleUnknownAttempt(
      {
        idempotency: store,
        upstream: upstream.client,
        account: "reseller",
        reconcileAfterMs: 60_000,
        now,
      },
      "key-1",
      unknownError,
    );
    const send = jest.fn(() => Promise.resolve("sent"));

    await expect(store.run(scope, send)).resolves.toBe("sent");
    expect(send).toHaveBeenCalledTimes(1);
  });

  it("keeps the outcome unknown, saying when to ask again, while the attempt may still run", async () => {
    const { store, unknownError, advance, now } = await unknownRecord();
    const upstream = fakeUpstream([]);
    advance(20_000);

    const error = await settleUnknownAttempt(
      {
        idempotency: store,
        upstream: upstream.client,
        account: "reseller",
        reconcileAfterMs: 60_000,
        now,
      },
      "key-1",
      unknownError,
    ).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(IdempotencyOutcomeUnknownError);
    expect((error as IdempotencyOutcomeUnknownError).retryAfterMs).toBe(40_000);
    expect((await store.inspect("reseller", "key-1"))?.state).toBe("unknown");
  });

  it("keeps the outcome unknown when the lookup fails or the record holds nothing to look for", async () => {
    const failing = await unknownRecord();
    const withoutLookup = await unknownRecord({ withLookup: false });
    const deps = (store: typeof failing.store, client: UpstreamClient) => ({
      idempotency: store,
      upstream: client,
      account: "reseller",
      reconcileAfterMs: 0,
      now: () => ATTEMPTED_AT + DAY_MS / 2,
    });
    const silent = fakeUpstream([]);

    await expect(
      settleUnknownAttempt(
        deps(failing.store, fakeUpstream([], { fail: true }).client),
        "key-1",
        failing.unknownError,
      ),
    ).rejects.toBe(failing.unknownError);
    await expect(
      settleUnknownAttempt(
        deps(withoutLookup.store, silent.client),
        "key-1",
        withoutLookup.unknownError,
      ),
    ).rejects.toBe(withoutLookup.unknownError);
    expect(silent.calls).toEqual([]);
    expect((await failing.store.inspect("reseller", "key-1"))?.state).toBe("unknown");
  });

  it("does nothing when another request settled the record first", async () => {
    const { store, unknownError, now } = await unknownRecord();
    await store.resolveUnknown("reseller", "key-1", { outcome: "not-run" });
    const upstream = fakeUpstream([]);

    await settleUnknownAttempt(
      {
        idempotency: store,
        upstream: upstream.client,
        account: "reseller",
        reconcileAfterMs: 0,
        now,
      },
      "key-1",
      unknownError,
    );

    expect(upstream.calls).toEqual([]);
  });
});
