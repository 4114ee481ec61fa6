import { expiryWarnings, scanExpiring } from "../../../src/live/expiry-watch";
import { EXPIRY_EVENT_CLASS, EXPIRY_EVENT_SUBCLASS } from "../../../src/live/types";
import { type UpstreamClient } from "../../../src/upstream/client";
import { decodeReply, encodeReply } from "../../../src/upstream/codec";
import { type CommandArgs } from "../../../src/upstream/commands";

const DAY = 86_400_000;
const NOT_AFTER = new Date("2026-12-17T10:00:03.000Z");
const THRESHOLDS = [30, 14, 3];

const cert = { id: "DK1", orderId: "O1", expiresAt: NOT_AFTER };
/** The instant `days` before NOT_AFTER. */
const before = (days: number) => new Date(NOT_AFTER.getTime() - days * DAY);

describe("expiryWarnings", () => {
  it("raises nothing while no threshold is crossed", () => {
    expect(expiryWarnings([cert], THRESHOLDS, before(31), "acct")).toEqual([]);
    expect(expiryWarnings([cert], THRESHOLDS, new Date(before(30).getTime() - 1), "acct")).toEqual(
      [],
    );
  });

  it("raises the warning of a threshold once it is crossed, with a stable id and its data", () => {
    const at = before(30);

    const [warning, ...rest] = expiryWarnings([cert], THRESHOLDS, at, "acct");

    expect(rest).toEqual([]);
    expect(warning).toEqual({
      id: "expiring:DK1:30d:2026-12-17",
      account: "acct",
      eventClass: EXPIRY_EVENT_CLASS,
      subclass: EXPIRY_EVENT_SUBCLASS,
      objectId: "DK1",
      certificateId: "DK1",
      orderId: "O1",
      date: before(30).toISOString(),
      info: expect.stringContaining("30 days") as string,
      data: { expiresAt: NOT_AFTER.toISOString(), daysLeft: "30", thresholdDays: "30" },
      source: "gateway",
      receivedAt: at.toISOString(),
    });
    // The same warning a day later: same id and date, so the claims see it as a duplicate.
    const later = expiryWarnings([cert], THRESHOLDS, before(29), "acct")[0];
    expect([later?.id, later?.date, later?.data.daysLeft]).toEqual([
      "expiring:DK1:30d:2026-12-17",
      before(30).toISOString(),
      "29",
    ]);
  });

  it("raises only the smallest threshold crossed", () => {
    const at = (days: number) =>
      expiryWarnings([cert], THRESHOLDS, before(days), "acct").map(w => w.id);

    expect(at(20)).toEqual(["expiring:DK1:30d:2026-12-17"]);
    expect(at(14)).toEqual(["expiring:DK1:14d:2026-12-17"]);
    expect(at(4)).toEqual(["expiring:DK1:14d:2026-12-17"]);
    // First seen with 2 days left: the 3-day warning only, not 30 and 14 too.
    expect(at(2)).toEqual(["expiring:DK1:3d:2026-12-17"]);
    expect(at(0.001)).toEqual(["expiring:DK1:3d:2026-12-17"]);
  });

  it("raises nothing for an expired certificate", () => {
    expect(expiryWarnings([cert], THRESHOLDS, NOT_AFTER, "acct")).toEqual([]);
    expect(expiryWarnings([cert], THRESHOLDS, before(-1), "acct")).toEqual([]);
  });

  it("takes thresholds in any order, ignoring repeats and ones that are not positive", () => {
    const ids = expiryWarnings([cert], [3, 30, 3, 0, -5, Number.NaN, 14], before(10), "acct").map(
      w => w.id,
    );
    expect(ids).toEqual(["expiring:DK1:14d:2026-12-17"]);
    expect(expiryWarnings([cert], [], before(1), "acct")).toEqual([]);
  });

  it("gives a renewed certificate (another notAfter) new ids, and handles many certificates", () => {
    const renewed = { id: "DK1", orderId: "O1", expiresAt: new Date("2027-07-04T10:00:00Z") };
    const other = { id: "DK2", orderId: null, expiresAt: before(-100) };

    const warnings = expiryWarnings(
      [cert, renewed, other],
      THRESHOLDS,
      new Date("2027-06-20T00:00:00Z"),
      "acct",
    );

    expect(warnings.map(w => [w.id, w.orderId])).toEqual([["expiring:DK1:30d:2027-07-04", "O1"]]);
  });
});

describe("scanExpiring", () => {
  /** A fake upstream holding `count` active certificates, answering QueryCertificateList pages. */
  function upstreamWith(count: number, expiresAt: (index: number) => string) {
    const calls: CommandArgs<"QueryCertificateList">[] = [];
    const upstream: Pick<UpstreamClient, "call"> = {
      call: (command, args) => {
        if (command !== "QueryCertificateList") {
          throw new Error(`unexpected ${command}`);
        }
        const list = args as CommandArgs<"QueryCertificateList">;
        calls.push(list);
        const first = list.first ?? 0;
        const limit = list.limit ?? 1000;
        const indexes = Array.from({ length: count }, (_, i) => i).slice(first, first + limit);
        return Promise.resolve(
          decodeReply(
            encodeReply({
              code: 200,
              description: "Command completed successfully",
              properties: [
                ["certificate", indexes.map(i => `DK${i}`)],
                ["certificateorder", indexes.map(i => `O${i}`)],
                ["status", indexes.map(() => "active")],
                ["expirationdate", indexes.map(expiresAt)],
                ["column", ["certificate", "certificateorder", "status", "expirationdate"]],
                ["count", [indexes.length]],
                ["first", [first]],
                ["limit", [limit]],
                ["total", [count]],
              ],
            }),
          ),
        );
      },
    };
    return { upstream, calls };
  }

  it("reads every page of active certificates (1000 a page) and warns for those due", async () => {
    const { upstream, calls } = upstreamWith(2008, i =>
      i % 1000 === 7 ? "2026-06-10 10:00:00" : "2027-06-10 10:00:00",
    );

    const warnings = await scanExpiring(upstream, {
      thresholdsDays: THRESHOLDS,
      now: new Date("2026-06-01T10:00:00Z"),
      account: "acct",
    });

    expect(calls).toEqual(
      [0, 1000, 2000].map(first => ({
        wide: 1,
        status: "ACTIVE",
        orderby: "CERTIFICATE",
        first,
        limit: 1000,
      })),
    );
    expect(warnings.map(w => [w.id, w.orderId, w.account])).toEqual([
      ["expiring:DK7:14d:2026-06-10", "O7", "acct"],
      ["expiring:DK1007:14d:2026-06-10", "O1007", "acct"],
      ["expiring:DK2007:14d:2026-06-10", "O2007", "acct"],
    ]);
  });

  it("stops once the total is read, and skips rows without an expiration date", async () => {
    const { upstream, calls } = upstreamWith(3, i => (i === 1 ? "" : "2026-06-02 10:00:00"));

    const warnings = await scanExpiring(upstream, {
      thresholdsDays: [3],
      now: new Date("2026-06-01T10:00:00Z"),
      account: "acct",
    });

    expect(calls).toHaveLength(1);
    expect(warnings.map(w => w.id)).toEqual([
      "expiring:DK0:3d:2026-06-02",
      "expiring:DK2:3d:2026-06-02",
    ]);
  });
});
