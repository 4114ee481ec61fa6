import { findClass } from "../../../src/sandbox/catalog";
import { addYears, formatListDate, formatStatusDate, parseDate } from "../../../src/sandbox/clock";
import { buildDcv } from "../../../src/sandbox/dcv";
import { createIdAllocator, createRandom } from "../../../src/sandbox/ids";
import { lifetimeEnd, maxLifetimeDays } from "../../../src/sandbox/lifecycle";
import { compilePattern, listReply } from "../../../src/sandbox/lists";
import { indexed, pem, toCallParams } from "../../../src/sandbox/params";
import { PropertyBag, SandboxError } from "../../../src/sandbox/reply";
import { planDomains } from "../../../src/sandbox/rules";
import { makeCsr } from "../../helpers/pki";

describe("clock", () => {
  it("writes the provider's two date formats in UTC", () => {
    const date = new Date("2022-06-27T13:05:54.789Z");
    expect(formatStatusDate(date)).toBe("2022-06-27 13:05:54.0");
    expect(formatListDate(date)).toBe("2022-06-27 13:05:54");
    expect(formatListDate(undefined)).toBe("");
  });

  it("adds calendar years and parses dates", () => {
    expect(addYears(new Date("2022-06-27T13:05:54Z"), 1).toISOString()).toBe(
      "2023-06-27T13:05:54.000Z",
    );
    expect(parseDate("2022-06-27")?.toISOString()).toBe("2022-06-27T00:00:00.000Z");
    expect(parseDate("2022-06-27 13:05:54.0")?.toISOString()).toBe("2022-06-27T13:05:54.000Z");
    expect(parseDate("yesterday")).toBeUndefined();
  });
});

describe("lifetimes", () => {
  it("follows the CA/B Forum schedule, one day short of each limit", () => {
    expect(maxLifetimeDays(new Date("2026-03-14T23:59:59Z"))).toBe(397);
    expect(maxLifetimeDays(new Date("2026-03-15T00:00:00Z"))).toBe(199);
    expect(maxLifetimeDays(new Date("2027-03-15T00:00:00Z"))).toBe(99);
    expect(maxLifetimeDays(new Date("2029-03-15T00:00:00Z"))).toBe(46);
  });

  it("never ends after the order's paid until", () => {
    const issued = new Date("2026-06-01T10:00:03Z");
    expect(lifetimeEnd(issued, new Date("2027-06-01T10:00:00Z")).toISOString()).toBe(
      "2026-12-17T10:00:03.000Z",
    );
    expect(lifetimeEnd(issued, new Date("2026-07-01T00:00:00Z")).toISOString()).toBe(
      "2026-07-01T00:00:00.000Z",
    );
  });
});

describe("ids", () => {
  it("draws unique ids in the provider's formats, reproducibly", () => {
    const a = createIdAllocator(1);
    const b = createIdAllocator(1);
    const ids = [
      a.certificate("DK"),
      a.order("DK"),
      a.contact(),
      a.failure(),
      a.caId(),
      a.token(),
      a.hex(32),
    ];
    expect(ids).toEqual([
      b.certificate("DK"),
      b.order("DK"),
      b.contact(),
      b.failure(),
      b.caId(),
      b.token(),
      b.hex(32),
    ]);
    const [certificate, order, contact, failure, caId, token, hex] = ids;
    expect(certificate).toMatch(/^DK[1-9]\d{7}$/);
    expect(order).toMatch(/^DK0\d{8}$/);
    expect(contact).toMatch(/^CC-\d{8}$/);
    expect(failure).toMatch(/^FAIL\d{7}$/);
    expect(caId).toMatch(/^\d{9}$/);
    expect(token).toMatch(/^[0-9a-z]{32}$/);
    expect(hex).toMatch(/^[0-9a-f]{32}$/);
    expect([a.event(), a.event()]).toEqual(["1", "2"]);
    expect(a.session()).not.toBe(b.session());
    const many = new Set(Array.from({ length: 5000 }, () => a.contact()));
    expect(many.size).toBe(5000);
    expect(createRandom(7)()).toBe(createRandom(7)());
  });
});

describe("params", () => {
  it("keeps indexes of indexed parameters and joins PEM lines", () => {
    const params = new Map([
      ["domain", "bare.example.com"],
      ["domain2", "two.example.com"],
      ["domain0", "zero.example.com"],
      ["domain1", ""],
      ["csr0", "-----BEGIN CERTIFICATE REQUEST-----"],
      ["csr1", "AAAA"],
      ["csr2", "-----END CERTIFICATE REQUEST-----"],
      ["class", "ssl123dv"],
    ]);
    expect(indexed(params, "domain")).toEqual([
      { index: -1, value: "bare.example.com" },
      { index: 0, value: "zero.example.com" },
      { index: 2, value: "two.example.com" },
    ]);
    expect(pem(params, "csr")).toBe(
      "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n",
    );
    expect(toCallParams(params)).toEqual({
      domain: "bare.example.com",
      domain2: "two.example.com",
      domain0: "zero.example.com",
      domain1: "",
      class: "ssl123dv",
      csr: "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----",
    });
  });
});

describe("lists", () => {
  it("compiles * and ? patterns, case-insensitively, matching whole values", () => {
    expect(compilePattern("DK*").test("dk12345678")).toBe(true);
    expect(compilePattern("?K1*").test("DK12345678")).toBe(true);
    expect(compilePattern("example.com").test("exampleXcom")).toBe(false);
    expect(compilePattern("act").test("active")).toBe(false);
    expect(compilePattern("(a)+").test("(a)+")).toBe(true);
  });

  it("pages, sorts and answers the paging figures", () => {
    const items = ["c", "a", "b", "d"];
    const spec = {
      columns: [{ name: "item", value: (s: string) => s }],
      wideColumns: [
        { name: "item", value: (s: string) => s },
        { name: "upper", value: (s: string) => s.toUpperCase() },
      ],
      filters: { item: (s: string) => s },
      orderBy: { ITEM: (s: string) => s },
      defaultOrderBy: "ITEM",
    };
    const reply = listReply(
      items,
      new Map([
        ["first", "1"],
        ["limit", "2"],
        ["order", "desc"],
        ["wide", "1"],
      ]),
      spec,
    );
    expect(reply.properties).toEqual([
      ["column", ["item", "upper"]],
      ["count", [2]],
      ["first", [1]],
      ["item", ["c", "b"]],
      ["last", [2]],
      ["limit", [2]],
      ["total", [4]],
      ["upper", ["C", "B"]],
    ]);
    expect(() => listReply(items, new Map([["orderby", "size"]]), spec)).toThrow(SandboxError);
  });
});

describe("PropertyBag", () => {
  it("sorts names alphabetically and keeps one empty value", () => {
    const bag = new PropertyBag()
      .set("status", "active")
      .list("domain", ["a", "b"])
      .set("expiration date", "")
      .list("none", []);
    expect(bag.toProperties()).toEqual([
      ["domain", ["a", "b"]],
      ["expiration date", [""]],
      ["status", ["active"]],
    ]);
  });
});

describe("buildDcv", () => {
  const { csrPem } = makeCsr({ commonName: "example.com" });
  const ids = createIdAllocator(3);

  it("gives DigiCert's DNS-TXT one token per certificate and CNAMEs per domain", () => {
    const domains = planDomains(findClass("ssl123dv")!, ["*.example.com", "api.example.net"], true);
    const txt = buildDcv({ ca: "DigiCert", method: "dns-txt", domains, csrPem }, ids);
    expect(new Set(txt.map(r => r.dnsRr)).size).toBe(1);
    expect(txt.map(r => r.domain)).toEqual([
      "example.com",
      "api.example.net",
      "example.com",
      "api.example.net",
    ]);
    const cname = buildDcv(
      { ca: "DigiCert", method: "dns-cname", domains, csrPem, token: "t".repeat(32) },
      ids,
    );
    expect(cname.map(r => r.dnsRr)).toEqual([
      `${"t".repeat(32)}.example.com. IN CNAME dcv.digicert.com`,
      `${"t".repeat(32)}.api.example.net. IN CNAME dcv.digicert.com`,
      `${"t".repeat(32)}.example.com. IN CNAME dcv.digicert.com`,
      `${"t".repeat(32)}.www.api.example.net. IN CNAME dcv.digicert.com`,
    ]);
  });

  it("derives Sectigo's names from the CSR, the same for the same CSR", () => {
    const domains = planDomains(findClass("positivessldv")!, ["example.com"], true);
    const one = buildDcv({ ca: "Sectigo", method: "https", domains, csrPem }, ids);
    const two = buildDcv({ ca: "Sectigo", method: "https", domains, csrPem }, ids);
    expect(one).toEqual(two);
    expect(one[0]?.fileName).toMatch(
      /^https:\/\/example\.com\/\.well-known\/pki-validation\/[0-9A-F]{32}\.txt$/,
    );
  });

  it("takes each domain's approver address for EMAIL", () => {
    const domains = planDomains(findClass("ssl123dv")!, ["example.com"], true);
    const email = buildDcv(
      {
        ca: "DigiCert",
        method: "email",
        domains,
        csrPem,
        emails: ["admin@example.com", "admin@example.com"],
      },
      ids,
    );
    expect(email.map(r => [r.domain, r.email])).toEqual([
      ["example.com", "admin@example.com"],
      ["example.com", "admin@example.com"],
    ]);
  });
});
