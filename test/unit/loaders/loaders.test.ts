import { createCache } from "../../../src/cache";
import { createLoaders, forgetChanges, type Loaders } from "../../../src/loaders";
import { type UpstreamClient } from "../../../src/upstream/client";
import { decodeReply, encodeReply, type ReplyProperty } from "../../../src/upstream/codec";
import { type CommandName } from "../../../src/upstream/commands";
import { UpstreamError } from "../../../src/upstream/errors";

interface RecordedCall {
  command: CommandName;
  args: Record<string, unknown>;
}

type Answer = ReplyProperty[] | UpstreamError;

/**
 * A fake upstream that answers from `answer`, records every call and tracks how many calls are
 * in flight at once (each takes `delayMs`).
 */
function fakeUpstream(
  answer: (command: CommandName, args: Record<string, unknown>) => Answer,
  delayMs = 5,
) {
  const calls: RecordedCall[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const client: UpstreamClient = {
    async call(command, args) {
      calls.push({ command, args: args as Record<string, unknown> });
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        await new Promise(resolve => setTimeout(resolve, delayMs));
        const result = answer(command, args as Record<string, unknown>);
        if (result instanceof UpstreamError) {
          throw result;
        }
        return decodeReply(
          encodeReply({
            code: 200,
            description: "Command completed successfully",
            properties: result,
          }),
        );
      } finally {
        inFlight -= 1;
      }
    },
    close: () => Promise.resolve(),
  };
  return {
    client,
    calls,
    callsTo: (command: CommandName) => calls.filter(c => c.command === command),
    maxInFlight: () => maxInFlight,
  };
}

function rejected(
  upstreamCode: number,
  code: UpstreamError["code"] = "UPSTREAM_REJECTED",
): UpstreamError {
  return new UpstreamError({
    code,
    command: "StatusCertificate",
    message: `rejected ${upstreamCode}`,
    retryable: false,
    upstreamCode,
    upstreamDescription: "Entity reference not found",
  });
}

function certificate(id: string, extra: ReplyProperty[] = []): ReplyProperty[] {
  return [
    ["certificate", [id]],
    ["status", ["processing"]],
    ["class", ["SSL123DV"]],
    ["order", [`O-${id}`]],
    ["domain", [`${id.toLowerCase()}.example.com`]],
    ["created date", ["2022-06-27 13:05:54.0"]],
    ...extra,
  ];
}

function listOf(ids: string[]): ReplyProperty[] {
  return [
    ["certificate", ids],
    ["status", ids.map(() => "active")],
    ["certificateorder", ids.map(id => `O-${id}`)],
    ["server type", ids.map(() => "apache")],
    ["created date", ids.map(() => "2022-01-18 14:20:09")],
    ["updated date", ids.map(() => "2022-01-18 14:20:09")],
    ["expiration date", ids.map(() => "")],
    ["class", ids.map(() => "SSL123DV")],
    [
      "column",
      [
        "certificate",
        "status",
        "certificateorder",
        "server type",
        "created date",
        "updated date",
        "expiration date",
        "class",
      ],
    ],
    ["count", [ids.length]],
    ["first", [0]],
    ["last", [ids.length - 1]],
    ["limit", [100]],
    ["total", [ids.length]],
  ];
}

function statusAnswer(command: CommandName, args: Record<string, unknown>): Answer {
  if (command === "StatusCertificate") {
    const id = String(args.certificate);
    if (id.startsWith("MISSING")) {
      return rejected(545);
    }
    if (id.startsWith("REFUSED")) {
      return rejected(549);
    }
    return certificate(id);
  }
  if (command === "QueryCertificateList") {
    return listOf(["DK1", "DK2", "DK3"]);
  }
  throw new Error(`unexpected ${command}`);
}

function loadersOn(upstream: ReturnType<typeof fakeUpstream>, fetchConcurrency = 8): Loaders {
  // No shared store: these tests are about one request's batching (see cached-loaders.test.ts).
  const cache = createCache({ kind: "off", url: "" });
  return createLoaders({
    upstream: upstream.client,
    cache,
    account: "reseller-1",
    fetchConcurrency,
  });
}

describe("certificateById", () => {
  it("asks for each distinct certificate once, however often it is loaded", async () => {
    const upstream = fakeUpstream(statusAnswer);
    const loaders = loadersOn(upstream);

    const records = await Promise.all(
      ["DK1", "DK2", "DK1", "DK2", "DK1"].map(id => loaders.certificateById.load(id)),
    );
    await loaders.certificateById.load("DK1");

    expect(records.map(r => r?.id)).toEqual(["DK1", "DK2", "DK1", "DK2", "DK1"]);
    expect(upstream.callsTo("StatusCertificate").map(c => c.args.certificate)).toEqual([
      "DK1",
      "DK2",
    ]);
  });

  it("loads an unknown certificate as null", async () => {
    const upstream = fakeUpstream(statusAnswer);
    const loaders = loadersOn(upstream);

    await expect(loaders.certificateById.load("MISSING1")).resolves.toBeNull();
  });

  it("fails only the key the upstream refused", async () => {
    const upstream = fakeUpstream(statusAnswer);
    const loaders = loadersOn(upstream);

    const [refused, fine] = await Promise.allSettled([
      loaders.certificateById.load("REFUSED1"),
      loaders.certificateById.load("DK1"),
    ]);

    expect(refused.status).toBe("rejected");
    expect(fine).toMatchObject({ status: "fulfilled", value: { id: "DK1" } });
  });

  it("fails the whole batch when the upstream cannot be reached", async () => {
    const upstream = fakeUpstream((command, args) =>
      args.certificate === "DK2"
        ? rejected(0, "UPSTREAM_UNAVAILABLE")
        : statusAnswer(command, args),
    );
    const loaders = loadersOn(upstream);

    const results = await Promise.allSettled([
      loaders.certificateById.load("DK1"),
      loaders.certificateById.load("DK2"),
    ]);

    expect(results.map(r => r.status)).toEqual(["rejected", "rejected"]);
  });

  it("sends the reads concurrently, never more than fetchConcurrency at once", async () => {
    const upstream = fakeUpstream(statusAnswer, 20);
    const loaders = loadersOn(upstream, 3);

    await Promise.all(Array.from({ length: 10 }, (_, i) => loaders.certificateById.load(`DK${i}`)));

    expect(upstream.callsTo("StatusCertificate")).toHaveLength(10);
    expect(upstream.maxInFlight()).toBe(3);
  });
});

describe("certificateRowById", () => {
  it("serves rows a list primed without any StatusCertificate", async () => {
    const upstream = fakeUpstream(statusAnswer);
    const loaders = loadersOn(upstream);

    await loaders.certificatePage.load({ offset: 0, limit: 20 });
    const rows = await Promise.all(
      ["DK1", "DK2", "DK3"].map(id => loaders.certificateRowById.load(id)),
    );

    expect(rows.map(r => r?.status)).toEqual(["active", "active", "active"]);
    expect(upstream.callsTo("StatusCertificate")).toEqual([]);
    expect(upstream.calls).toHaveLength(1);
  });

  it("falls back to the full record once and shares it with certificateById", async () => {
    const upstream = fakeUpstream(statusAnswer);
    const loaders = loadersOn(upstream);

    const row = await loaders.certificateRowById.load("DK7");
    const full = await loaders.certificateById.load("DK7");

    expect(row).toMatchObject({ id: "DK7", className: "ssl123dv", orderId: "O-DK7" });
    expect(full?.domains).toEqual(["dk7.example.com"]);
    expect(upstream.callsTo("StatusCertificate")).toHaveLength(1);
  });
});

describe("certificatePage", () => {
  it("shares one call between equal queries, whatever the order of their fields", async () => {
    const upstream = fakeUpstream(statusAnswer);
    const loaders = loadersOn(upstream);

    await Promise.all([
      loaders.certificatePage.load({ offset: 0, limit: 5, status: "active" }),
      loaders.certificatePage.load({ status: "active", limit: 5, offset: 0 }),
    ]);

    expect(upstream.callsTo("QueryCertificateList")).toHaveLength(1);
    expect(upstream.calls[0]?.args).toMatchObject({
      wide: 1,
      first: 0,
      limit: 5,
      status: "active",
    });
  });
});

describe("classByName", () => {
  function classAnswer(command: CommandName, args: Record<string, unknown>): Answer {
    if (command !== "GetCertificateInfo") {
      throw new Error(`unexpected ${command}`);
    }
    if (args.class === undefined) {
      return [["class", ["ssl123dv", "rapidssldv"]]];
    }
    if (args.class === "nosuchclass") {
      return rejected(541);
    }
    if (args.class === "otherclass") {
      return [["class", ["ssl123dv"]]];
    }
    return [
      ["class", [args.class as string]],
      ["type", ["DV"]],
    ];
  }

  it("loads each class once whatever the case of its name", async () => {
    const upstream = fakeUpstream(classAnswer);
    const loaders = loadersOn(upstream);

    const [a, b] = await Promise.all([
      loaders.classByName.load("SSL123DV"),
      loaders.classByName.load("ssl123dv"),
    ]);

    expect(a?.name).toBe("ssl123dv");
    expect(b).toBe(a);
    expect(upstream.calls.map(c => c.args.class)).toEqual(["ssl123dv"]);
  });

  it("loads an unknown class, or a reply about another class, as null", async () => {
    const upstream = fakeUpstream(classAnswer);
    const loaders = loadersOn(upstream);

    await expect(loaders.classByName.load("nosuchclass")).resolves.toBeNull();
    await expect(loaders.classByName.load("otherclass")).resolves.toBeNull();
    await expect(loaders.classByName.load(" ")).resolves.toBeNull();
    expect(upstream.calls.map(c => c.args.class)).toEqual(["nosuchclass", "otherclass"]);
  });

  it("lists the class names once per request", async () => {
    const upstream = fakeUpstream(classAnswer);
    const loaders = loadersOn(upstream);

    const [names] = await Promise.all([
      loaders.classNames.load("all"),
      loaders.classNames.load("all"),
    ]);

    expect(names).toEqual(["ssl123dv", "rapidssldv"]);
    expect(upstream.calls).toHaveLength(1);
  });
});

describe("forgetChanges", () => {
  it("makes the loaders read a changed certificate, its order and the lists again", async () => {
    const upstream = fakeUpstream(statusAnswer);
    const loaders = loadersOn(upstream);
    await loaders.certificatePage.load({ offset: 0, limit: 20 });
    await loaders.certificateById.load("DK1");

    forgetChanges(loaders, { certificateIds: ["DK1"], orderIds: ["O-DK1"] });
    await loaders.certificateById.load("DK1");
    await loaders.certificateRowById.load("DK2");
    await loaders.certificatePage.load({ offset: 0, limit: 20 });

    expect(upstream.callsTo("StatusCertificate").map(c => c.args.certificate)).toEqual([
      "DK1",
      "DK1",
    ]);
    expect(upstream.callsTo("QueryCertificateList")).toHaveLength(2);
  });
});

describe("createLoaders", () => {
  it("names every DataLoader after its key in Loaders", () => {
    const loaders = loadersOn(fakeUpstream(statusAnswer));

    for (const [key, loader] of Object.entries(loaders)) {
      expect((loader as { name: string | null }).name).toBe(key);
    }
  });
});
