import {
  CLASSES,
  classOfId,
  DIGICERT_SERVER_TYPES,
  findClass,
  maxDomains,
  maxDomainsWithAlternatives,
  SECTIGO_SERVER_TYPES,
  serverTypes,
} from "../../../src/sandbox/catalog";

describe("catalog", () => {
  it("holds the 20 classes of 9.3.1 with unique two-letter prefixes", () => {
    expect(CLASSES).toHaveLength(20);
    const prefixes = CLASSES.map(c => c.prefix);
    expect(new Set(prefixes).size).toBe(20);
    for (const c of CLASSES) {
      expect(c.prefix).toMatch(c.ca === "DigiCert" ? /^D[A-Z]$/ : /^S[A-Z]$/);
      expect(c.id).toBe(c.name.toLowerCase());
    }
    expect(findClass("ssl123dv")?.prefix).toBe("DK");
    expect(findClass("RAPIDSSLDV")?.prefix).toBe("DD");
    expect(classOfId("DK67473099")?.id).toBe("ssl123dv");
  });

  it("reads the product matrix literally (9.3.2-9.3.5)", () => {
    const row = (name: string) => {
      const c = findClass(name);
      if (!c) {
        throw new Error(name);
      }
      return [
        c.type,
        c.wildcard ? 1 : 0,
        c.san ? 1 : 0,
        c.includedDomains,
        c.freeAlternatives,
        ...(["email", "dns-cname", "dns-txt", "http", "https"] as const).map(m =>
          c.dcv[m] ? 1 : 0,
        ),
        c.contacts.tech ? 1 : 0,
        c.contacts.organization ? 1 : 0,
        c.contacts.evapprover ? 1 : 0,
        c.periods.join(","),
        c.refundOnCancel ? 1 : 0,
        c.immediateIssuance ? 1 : 0,
      ].join(" ");
    };
    expect(row("geotrustflexdv")).toBe("DV 1 1 1 250 1 1 1 1 1 1 0 0 1y 1 1");
    expect(row("geotrusttruebizidev")).toBe("EV 0 1 1 250 1 1 1 1 1 0 1 1 1y 1 0");
    expect(row("securesiteproev")).toBe("DV 0 1 1 250 1 1 1 1 1 1 0 0 1y 1 1");
    expect(row("ssl123dv")).toBe("DV 1 1 1 3 1 1 1 1 1 1 0 0 1y 1 1");
    expect(row("webserverev")).toBe("EV 0 1 1 250 1 1 1 1 1 1 0 0 1y 1 1");
    expect(row("webserverov")).toBe("OV 1 1 1 250 1 1 1 1 1 0 1 1 1y 1 0");
    expect(row("instantsslov")).toBe("OV 1 0 1 1 1 1 0 1 1 1 0 0 1y 0 0");
    expect(row("multidomainev")).toBe("EV 0 1 3 0 1 1 0 1 1 1 0 0 1y 0 0");
    expect(row("premiumov")).toBe("OV 0 0 1 1 1 1 0 1 1 1 0 0 1y 0 0");
    expect(row("unifiedcommunicationsov")).toBe("OV 1 1 3 0 1 1 0 1 1 1 0 0 1y 0 0");
  });

  it("limits domains: 250 for SAN classes, one plus its alternative otherwise", () => {
    expect([
      maxDomains(findClass("ssl123dv")!),
      maxDomainsWithAlternatives(findClass("ssl123dv")!),
    ]).toEqual([250, 250]);
    expect([
      maxDomains(findClass("rapidssldv")!),
      maxDomainsWithAlternatives(findClass("rapidssldv")!),
    ]).toEqual([1, 2]);
  });

  it("gives each CA its server types (9.2)", () => {
    expect(DIGICERT_SERVER_TYPES).toHaveLength(33);
    expect(SECTIGO_SERVER_TYPES).toEqual([
      "apache",
      "cpanel",
      "java",
      "iis56",
      "iis7",
      "nginx",
      "oracle",
      "other",
    ]);
    expect(serverTypes(findClass("positivessldv")!)).toBe(SECTIGO_SERVER_TYPES);
    expect(serverTypes(findClass("ssl123dv")!)).toBe(DIGICERT_SERVER_TYPES);
  });

  it("accepts the manual's misspellings as aliases", () => {
    expect(findClass("securesiteproof")?.id).toBe("securesiteproov");
    expect(findClass("POSITIVSSLDV")?.id).toBe("positivessldv");
    expect(findClass("platinum")).toBeUndefined();
  });
});
