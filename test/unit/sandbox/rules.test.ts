import { findClass, type CertificateClass } from "../../../src/sandbox/catalog";
import { SandboxError } from "../../../src/sandbox/reply";
import {
  alternativeOf,
  approverEmails,
  baseDomain,
  checkKeySize,
  dcvDomainOf,
  formatMoney,
  isApproverEmail,
  normalizeDomain,
  planDomains,
  quote,
} from "../../../src/sandbox/rules";

function cls(name: string): CertificateClass {
  const found = findClass(name);
  if (!found) {
    throw new Error(`no class ${name}`);
  }
  return found;
}

function errorOf(run: () => unknown): { code: number; message: string } {
  try {
    run();
  } catch (error) {
    if (error instanceof SandboxError) {
      return { code: error.code, message: error.message };
    }
    throw error;
  }
  throw new Error("expected a SandboxError");
}

describe("normalizeDomain", () => {
  it("lower-cases, trims and drops a trailing dot", () => {
    expect(normalizeDomain(" WWW.Example.COM. ")).toBe("www.example.com");
    expect(normalizeDomain("*.example.com")).toBe("*.example.com");
    expect(normalizeDomain("xn--bcher-kva.de")).toBe("xn--bcher-kva.de");
    expect(normalizeDomain("shop.xn--p1ai")).toBe("shop.xn--p1ai");
  });

  it.each([
    ["bücher.de", /ASCII/],
    ["ex*ample.com", /leftmost/],
    ["*.*.example.com", /leftmost/],
    ["www.*.example.com", /leftmost/],
    ["localhost", /not a valid domain/],
    ["-shop.example.com", /not a valid domain/],
    ["shop-.example.com", /not a valid domain/],
    ["shop_1.example.com", /not a valid domain/],
    ["example.c0m", /not a valid domain/],
    ["*.com", /not a valid domain/],
    [`${"a".repeat(64)}.example.com`, /not a valid domain/],
    ["192.168.0.1", /not a valid domain/],
  ])("refuses %s with 505", (domain, message) => {
    const error = errorOf(() => normalizeDomain(domain));
    expect(error.code).toBe(505);
    expect(error.message).toMatch(message);
  });
});

describe("baseDomain and approvers", () => {
  it("takes the last two labels, or three under a second-level suffix", () => {
    expect(baseDomain("example.com")).toBe("example.com");
    expect(baseDomain("a.b.example.com")).toBe("example.com");
    expect(baseDomain("*.shop.example.co.uk")).toBe("example.co.uk");
    expect(baseDomain("example.co.uk")).toBe("example.co.uk");
    expect(baseDomain("www.example.com.au")).toBe("example.com.au");
  });

  it("lists the five mailboxes of the domain, then of its base domain", () => {
    expect(approverEmails("example.com")).toEqual([
      "admin@example.com",
      "administrator@example.com",
      "hostmaster@example.com",
      "webmaster@example.com",
      "postmaster@example.com",
    ]);
    expect(approverEmails("*.api.example.org")).toHaveLength(10);
    expect(approverEmails("*.api.example.org")[0]).toBe("admin@api.example.org");
    expect(approverEmails("*.api.example.org")[5]).toBe("admin@example.org");
    expect(isApproverEmail("api.example.org", "Postmaster@Example.org")).toBe(true);
    expect(isApproverEmail("api.example.org", "info@example.org")).toBe(false);
    expect(isApproverEmail("example.org", "admin@api.example.org")).toBe(false);
  });
});

describe("planDomains", () => {
  it("adds www alternatives after the given domains (9.1.14)", () => {
    const plan = planDomains(
      cls("ssl123dv"),
      ["example.com", "example.net", "ftp.example.org"],
      true,
    );
    expect(plan.map(p => [p.name, p.free])).toEqual([
      ["example.com", false],
      ["example.net", false],
      ["ftp.example.org", false],
      ["www.example.com", true],
      ["www.example.net", true],
      ["www.ftp.example.org", true],
    ]);
    expect(plan.map(dcvDomainOf)).toEqual([
      "example.com",
      "example.net",
      "ftp.example.org",
      "example.com",
      "example.net",
      "ftp.example.org",
    ]);
  });

  it("removes www. and strips *. to find alternatives", () => {
    expect(alternativeOf("www.example.com")).toBe("example.com");
    expect(alternativeOf("*.example.com")).toBe("example.com");
    expect(alternativeOf("example.com")).toBe("www.example.com");
    expect(alternativeOf("www.co.uk")).toBeUndefined();
    const plan = planDomains(cls("ssl123dv"), ["www.example.com"], true);
    expect(plan.map(p => p.name)).toEqual(["www.example.com", "example.com"]);
    expect(plan.map(dcvDomainOf)).toEqual(["example.com", "example.com"]);
  });

  it("counts explicitly given alternatives as free, wherever they stand", () => {
    const plan = planDomains(cls("ssl123dv"), ["example.com", "*.example.com"], true);
    expect(plan.map(p => [p.name, p.free])).toEqual([
      ["example.com", true],
      ["*.example.com", false],
    ]);
  });

  it("adds nothing with autofill off and nothing for Sectigo multi-domain classes", () => {
    expect(planDomains(cls("ssl123dv"), ["example.com"], false)).toHaveLength(1);
    expect(planDomains(cls("multidomainov"), ["example.com", "example.net"], true)).toHaveLength(2);
    const given = planDomains(cls("multidomainov"), ["example.com", "www.example.com"], true);
    expect(given.every(p => !p.free)).toBe(true);
  });

  it("allows one domain and its alternative on single-domain classes", () => {
    expect(planDomains(cls("rapidssldv"), ["*.example.com"], true).map(p => p.name)).toEqual([
      "*.example.com",
      "example.com",
    ]);
    expect(planDomains(cls("premiumov"), ["www.example.com", "example.com"], false)).toHaveLength(
      2,
    );
    expect(
      errorOf(() => planDomains(cls("premiumov"), ["a.example.com", "b.example.com"], true)).code,
    ).toBe(541);
    expect(
      errorOf(() =>
        planDomains(cls("premiumov"), ["a.example.com", "b.example.com", "c.example.com"], true),
      ).code,
    ).toBe(541);
  });

  it("refuses duplicates and unsupported wildcards with 541", () => {
    expect(
      errorOf(() => planDomains(cls("ssl123dv"), ["example.com", "example.com"], true)).message,
    ).toBe("Parameter value policy error; domain example.com: given more than once");
    expect(errorOf(() => planDomains(cls("premiumov"), ["*.example.com"], true)).message).toMatch(
      /class premiumov does not support wildcard domains/,
    );
  });

  it("stops adding alternatives at 250 domains", () => {
    const given = Array.from({ length: 249 }, (_, i) => `h${i}.example.com`);
    const plan = planDomains(cls("geotrustflexdv"), given, true);
    expect(plan).toHaveLength(250);
    expect(plan[249]).toMatchObject({ name: "www.h0.example.com", free: true });
  });
});

describe("quote", () => {
  const priced = (name: string, domains: string[], autofill = true) => {
    const c = cls(name);
    const q = quote(c, planDomains(c, domains, autofill));
    return {
      lines: q.lines.map(l => `${l.type}x${l.count}`),
      price: formatMoney(q.priceMinor),
      vat: formatMoney(q.vatMinor),
    };
  };

  it("reproduces the manual's prices (9.1.13-9.1.15)", () => {
    expect(priced("ssl123dv", ["example.com"])).toEqual({
      lines: ["ssl123dv-basex1"],
      price: "42",
      vat: "6.72",
    });
    expect(priced("ssl123dv", ["example.com", "example.net", "ftp.example.org"])).toEqual({
      lines: ["ssl123dv-sanx2", "ssl123dv-basex1"],
      price: "98",
      vat: "15.68",
    });
    expect(priced("ssl123dv", ["example.com", "example.net", "ftp.example.com"], false)).toEqual({
      lines: ["ssl123dv-sanx2", "ssl123dv-basex1"],
      price: "98",
      vat: "15.68",
    });
  });

  it("uses the wildcard base when any domain is a wildcard and covers a wildcard with it", () => {
    expect(priced("ssl123dv", ["*.example.com", "*.example.net"]).lines).toEqual([
      "ssl123dv-wildcardsanx1",
      "ssl123dv-wildcardbasex1",
    ]);
    expect(priced("ssl123dv", ["example.org", "*.example.com"]).lines).toEqual([
      "ssl123dv-sanx1",
      "ssl123dv-wildcardbasex1",
    ]);
  });

  it("includes three domains in the base of Sectigo multi-domain classes", () => {
    expect(
      priced("multidomaindv", ["a.example.com", "b.example.com", "c.example.com"]).lines,
    ).toEqual(["multidomaindv-basex1"]);
    // The wildcard base covers both wildcards first, then one plain domain; one plain SAN remains.
    expect(
      priced("multidomaindv", ["a.example.com", "b.example.com", "*.example.com", "*.example.net"])
        .lines,
    ).toEqual(["multidomaindv-sanx1", "multidomaindv-wildcardbasex1"]);
  });
});

describe("formatMoney and key sizes", () => {
  it("writes amounts without trailing zeros", () => {
    expect([0, 4200, 672, 650, 1568, 5, 123456].map(formatMoney)).toEqual([
      "0",
      "42",
      "6.72",
      "6.5",
      "15.68",
      "0.05",
      "1234.56",
    ]);
  });

  it("needs RSA 2048 and EC 256 bits", () => {
    expect(() => checkKeySize({ keyAlgorithm: "rsaEncryption", keySize: 2048 })).not.toThrow();
    expect(() => checkKeySize({ keyAlgorithm: "id-ecPublicKey", keySize: 256 })).not.toThrow();
    expect(errorOf(() => checkKeySize({ keyAlgorithm: "rsaEncryption", keySize: 1024 })).code).toBe(
      541,
    );
    expect(errorOf(() => checkKeySize({ keyAlgorithm: "id-ecPublicKey", keySize: 192 })).code).toBe(
      541,
    );
  });
});
