import { createCache, type GatewayCache } from "../../../src/cache";
import { createLoaders, invalidateChanges, type Loaders } from "../../../src/loaders";
import { type UpstreamClient } from "../../../src/upstream/client";
import { decodeReply, encodeReply, type ReplyProperty } from "../../../src/upstream/codec";
import { type CommandName } from "../../../src/upstream/commands";
import { UpstreamError } from "../../../src/upstream/errors";

interface RecordedCall {
  command: CommandName;
  args: Record<string, unknown>;
}

/** A fake upstream answering from `answer` after `delayMs`, recording every call. */
function fakeUpstream(
  answer: (command: CommandName, args: Record<string, unknown>) => ReplyProperty[] | Error,
  delayMs = 5,
) {
  const calls: RecordedCall[] = [];
  const client: UpstreamClient = {
    async call(command, args) {
      calls.push({ command, args: args as Record<string, unknown> });
      await new Promise(resolve => setTimeout(resolve, delayMs));
      const result = answer(command, args as Record<string, unknown>);
      if (result instanceof Error) {
        throw result;
      }
      return decodeReply(
        encodeReply({
          code: 200,
          description: "Command completed successfully",
          properties: result,
        }),
      );
    },
    close: () => Promise.resolve(),
  };
  return { client, calls, commands: () => calls.map(c => c.command) };
}

function rejected(upstreamCode: number): UpstreamError {
  return new UpstreamError({
    code: "UPSTREAM_REJECTED",
    command: "StatusCertificate",
    message: `rejected ${upstreamCode}`,
    retryable: false,
    upstreamCode,
    upstreamDescription: "rejected",
  });
}

function certificate(id: string, status = "revoked"): ReplyProperty[] {
  return [
    ["certificate", [id]],
    ["status", [status]],
    ["class", ["SSL123DV"]],
    ["order", [`O-${id}`]],
    ["domain", [`${id.toLowerCase()}.example.com`]],
    ["created date", ["2022-06-27 13:05:54.0"]],
  ];
}

function listOf(ids: string[]): ReplyProperty[] {
  return [
    ["certificate", ids],
    ["status", ids.map(() => "active")],
    ["certificateorder", ids.map(id => `O-${id}`)],
    ["class", ids.map(() => "SSL123DV")],
    ["column", ["certificate", "status", "certificateorder", "class"]],
    ["count", [ids.length]],
    ["first", [0]],
    ["last", [ids.length - 1]],
    ["limit", [100]],
    ["total", [ids.length]],
  ];
}

function answer(command: CommandName, args: Record<string, unknown>): ReplyProperty[] | Error {
  switch (command) {
    case "StatusCertificate": {
      const id = String(args.certificate);
      if (id.startsWith("MISSING")) {
        return rejected(545);
      }
      if (id.startsWith("REFUSED")) {
        return rejected(549);
      }
      return certificate(id);
    }
    case "QueryCertificateList":
      return listOf(["DK1", "DK2"]);
    case "GetCertificateInfo":
      return [["class", ["SSL123DV", "SSL123OV"]]];
    default:
      return new Error(`unexpected ${command}`);
  }
}

describe("loaders reading through the shared store", () => {
  let cache: GatewayCache;
  let upstream: ReturnType<typeof fakeUpstream>;

  /** The loaders of one new request as `account`. */
  const request = (account = "reseller-1"): Loaders =>
    createLoaders({ upstream: upstream.client, cache, account, fetchConcurrency: 4 });

  beforeEach(() => {
    cache = createCache({ kind: "memory", url: "" });
    upstream = fakeUpstream(answer);
  });

  afterEach(async () => {
    await cache.close();
  });

  it("serves a later request of the same account from the store, with Dates intact", async () => {
    await request().certificateById.load("DK1");
    await request().classNames.load("all");

    const record = await request().certificateById.load("DK1");
    const names = await request().classNames.load("all");

    expect(upstream.commands()).toEqual(["StatusCertificate", "GetCertificateInfo"]);
    expect(record).toMatchObject({ id: "DK1", status: "revoked" });
    expect(record?.createdAt).toBeInstanceOf(Date);
    expect(names).toEqual(["ssl123dv", "ssl123ov"]);
  });

  it("never serves one account's values to another", async () => {
    await request("reseller-1").certificateById.load("DK1");

    await request("reseller-2").certificateById.load("DK1");

    expect(upstream.commands()).toEqual(["StatusCertificate", "StatusCertificate"]);
  });

  it("makes concurrent requests for the same id share one upstream call", async () => {
    const records = await Promise.all([1, 2, 3].map(() => request().certificateById.load("DK7")));

    expect(records.map(r => r?.id)).toEqual(["DK7", "DK7", "DK7"]);
    expect(upstream.commands()).toEqual(["StatusCertificate"]);
  });

  it("stores neither absent objects nor refused keys", async () => {
    for (const attempt of [1, 2]) {
      const loaders = request();
      await expect(loaders.certificateById.load("MISSING1")).resolves.toBeNull();
      await expect(loaders.certificateById.load("REFUSED1")).rejects.toMatchObject({
        upstreamCode: 549,
      });
      expect(upstream.calls).toHaveLength(2 * attempt);
    }
  });

  it("serves list pages from the store and primes rows from them", async () => {
    await request().certificatePage.load({ offset: 0, limit: 10 });
    const later = request();

    const page = await later.certificatePage.load({ limit: 10, offset: 0 });
    const row = await later.certificateRowById.load("DK2");

    expect(page.items.map(item => item.id)).toEqual(["DK1", "DK2"]);
    expect(row).toMatchObject({ id: "DK2", status: "active" });
    expect(upstream.commands()).toEqual(["QueryCertificateList"]);
  });

  it("reads again what a mutation invalidated: the records named and every list page", async () => {
    await request().certificateById.load("DK1");
    await request().certificateById.load("DK2");
    await request().certificatePage.load({ offset: 0, limit: 10 });

    await invalidateChanges(cache, "reseller-1", { certificateIds: ["DK1"] });
    await request().certificateById.load("DK1");
    await request().certificateById.load("DK2");
    await request().certificatePage.load({ offset: 0, limit: 10 });

    expect(upstream.commands()).toEqual([
      "StatusCertificate",
      "StatusCertificate",
      "QueryCertificateList",
      "StatusCertificate",
      "QueryCertificateList",
    ]);
    expect(upstream.calls[3]?.args.certificate).toBe("DK1");
  });

  it("stores nothing with CACHE_URL=off", async () => {
    cache = createCache({ kind: "off", url: "" });

    await request().certificateById.load("DK1");
    await request().certificateById.load("DK1");

    expect(upstream.commands()).toEqual(["StatusCertificate", "StatusCertificate"]);
  });
});
