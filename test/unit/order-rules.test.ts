import { createPublicKey } from "node:crypto";
import {
  approverAddresses,
  checkOrder,
  expandApproverEmails,
  MAX_CHECKED_DOMAINS,
  type OrderRuleInput,
  registrableDomain,
  type RuleViolation,
} from "../../src/order-rules";
import { type ClassRecord, type DcvMethodValue } from "../../src/upstream/types";
import { makeCsr, makeSelfSignedCertificate, withBrokenSignature } from "../helpers/pki";

// Class records as GetCertificateInfo describes them, from the product matrix (manual 9.3) and
// the figures of 9.1.2 (SAN classes: 250 domains; single-domain classes: 1 plus its alternative).
const DIGICERT_DCV: DcvMethodValue[] = ["email", "dns-txt", "dns-cname", "http", "https"];
const SECTIGO_DCV: DcvMethodValue[] = ["email", "dns-cname", "http", "https"]; // 7.3: no TXT

const ssl123dv: Readonly<ClassRecord> = Object.freeze({
  name: "ssl123dv",
  displayName: "SSL123DV",
  brand: "DigiCert",
  supplier: "DIGICERT",
  validationType: "DV",
  wildcard: true,
  san: true,
  includedDomains: 1,
  maxDomains: 250,
  maxDomainsIncludingAlternatives: 250,
  maxFreeAlternatives: 3,
  maxWildcardDomains: 250,
  maxNonWildcardDomains: 250,
  dcvMethods: DIGICERT_DCV,
  techContact: "MANDATORY",
  organizationContact: "NO",
  evApproverContact: "NO",
  periods: ["1y"],
  immediateIssuance: true,
  refundOnCancel: true,
  serverTypes: ["apache", "nginx"],
  prefix: "DK",
});

const rapidssldv: Readonly<ClassRecord> = Object.freeze({
  ...ssl123dv,
  name: "rapidssldv",
  displayName: "RapidSSL",
  san: false,
  maxDomains: 1,
  maxDomainsIncludingAlternatives: 2,
  maxFreeAlternatives: 250,
  maxWildcardDomains: 1,
  maxNonWildcardDomains: 1,
  prefix: "DD",
});

const positivessldv: Readonly<ClassRecord> = Object.freeze({
  ...rapidssldv,
  name: "positivessldv",
  displayName: "PositiveSSL Certificate",
  brand: "Sectigo",
  supplier: "SECTIGO",
  maxFreeAlternatives: 1,
  dcvMethods: SECTIGO_DCV,
  immediateIssuance: false,
  refundOnCancel: false,
  serverTypes: ["apache", "nginx"],
  prefix: "SP",
});

const multidomaindv: Readonly<ClassRecord> = Object.freeze({
  ...positivessldv,
  name: "multidomaindv",
  displayName: "DV Multi-Domain SSL Certificate",
  san: true,
  includedDomains: 3,
  maxDomains: 250,
  maxDomainsIncludingAlternatives: 250,
  maxFreeAlternatives: 0,
  maxWildcardDomains: 250,
  maxNonWildcardDomains: 250,
  prefix: "SD",
});

const geotrusttruebizidev: Readonly<ClassRecord> = Object.freeze({
  ...ssl123dv,
  name: "geotrusttruebizidev",
  displayName: "GeoTrust TrueBusiness ID EV",
  validationType: "EV",
  wildcard: false,
  maxFreeAlternatives: 250,
  maxWildcardDomains: 0,
  techContact: "NO",
  organizationContact: "MANDATORY",
  evApproverContact: "MANDATORY",
  immediateIssuance: false,
  prefix: "DB",
});

// Made with `openssl req -new -newkey ed25519` and `-newkey ec -pkeyopt
// ec_paramgen_curve:prime192v1`: keys makeCsr cannot make.
const ED25519_CSR = `-----BEGIN CERTIFICATE REQUEST-----
MIGVMEkCAQAwFjEUMBIGA1UEAwwLZXhhbXBsZS5jb20wKjAFBgMrZXADIQAmtPts
SEK/u9p7rVIguMYTo7mvPCQQpx3rmhrnG93DA6AAMAUGAytlcANBAMi4HJmi2Q8j
AjHBq+kTKr+kNlG4Yd0CVgRPZ/doO6Fa16fyLtzAd47kOgYCNbTjEhNj7MPfKPEp
Fa2oXL4Y8gw=
-----END CERTIFICATE REQUEST-----
`;
const EC_P192_CSR = `-----BEGIN CERTIFICATE REQUEST-----
MIGwMGgCAQAwFjEUMBIGA1UEAwwLZXhhbXBsZS5jb20wSTATBgcqhkjOPQIBBggq
hkjOPQMBAQMyAAQSk0Vadn14jq5wN+3rBSdSDz2R5M3J1qQTJs/DcfdC1dNQCHDP
kERvP3dLaeN5nRCgADAKBggqhkjOPQQDAgM4ADA1AhgAocyEJO0bZ50RIC866uz2
z01hAT0HbUoCGQDWTjMY7Hkqr0AMl0UopRVDL0c7chFll7g=
-----END CERTIFICATE REQUEST-----
`;

/** A valid order for `klass` (DNS-CNAME, the method every class offers), changed by `changes`. */
function order(
  klass: Readonly<ClassRecord>,
  changes: Partial<OrderRuleInput> = {},
): OrderRuleInput {
  const domains = changes.domains ?? ["example.com"];
  const commonName = domains[0] ?? "example.com";
  return {
    klass: { ...klass },
    domains,
    dcvMethod: "dns-cname",
    csrPem: makeCsr({ commonName }).csrPem,
    periodYears: 1,
    contacts: {
      tech: klass.techContact === "MANDATORY",
      organization: klass.organizationContact === "MANDATORY",
      evApprover: klass.evApproverContact === "MANDATORY",
    },
    ...changes,
  };
}

/** "field RULE" of every violation, for compact assertions. */
function found(violations: RuleViolation[]): string[] {
  return violations.map(v => `${v.field} ${v.rule}`);
}

function only(violations: RuleViolation[], rule: string): RuleViolation[] {
  return violations.filter(v => v.rule === rule);
}

describe("checkOrder", () => {
  it.each([ssl123dv, rapidssldv, positivessldv, multidomaindv, geotrusttruebizidev])(
    "accepts a valid order for class $name",
    klass => {
      expect(checkOrder(order(klass))).toEqual([]);
    },
  );

  it("returns every violation at once, each with field, rule and a message naming the field", () => {
    const violations = checkOrder({
      klass: { ...positivessldv },
      domains: ["*.example.com", "bücher.de", "example.net", "example.net"],
      dcvMethod: "dns-txt",
      approverEmails: ["admin@example.com"],
      csrPem: "junk",
      periodYears: 2,
      contacts: { tech: false, organization: true, evApprover: false },
      dcvToken: "abc",
    });

    expect(found(violations)).toEqual([
      "domains[1] DOMAIN_NOT_ASCII",
      "domains[3] DOMAIN_DUPLICATE",
      "domains[1] SAN_NOT_SUPPORTED",
      "domains[2] SAN_NOT_SUPPORTED",
      "dcvMethod DCV_METHOD_NOT_SUPPORTED",
      "approverEmails APPROVER_EMAILS_NOT_EXPECTED",
      "techContact CONTACT_REQUIRED",
      "organizationContact CONTACT_NOT_ACCEPTED",
      "periodYears PERIOD_NOT_SUPPORTED",
      "csr CSR_MALFORMED",
      "dcvToken DCV_TOKEN_NOT_SUPPORTED",
    ]);
    for (const violation of violations) {
      expect(violation.message.startsWith(violation.field)).toBe(true);
    }
  });

  describe("domains", () => {
    it("requires at least one domain", () => {
      expect(found(checkOrder(order(ssl123dv, { domains: [] })))).toContain(
        "domains DOMAINS_REQUIRED",
      );
    });

    it("asks for punycode when a domain is not ASCII", () => {
      const [violation] = checkOrder(order(ssl123dv, { domains: ["example.com", "bücher.de"] }));

      expect(violation).toEqual({
        field: "domains[1]",
        rule: "DOMAIN_NOT_ASCII",
        message: expect.stringContaining('"xn--bcher-kva.de"'),
      });
      expect(checkOrder(order(ssl123dv, { domains: ["example.com", "xn--bcher-kva.de"] }))).toEqual(
        [],
      );
    });

    it.each([
      ["-example.com", "starts or ends with a hyphen"],
      ["example-.com", "starts or ends with a hyphen"],
      ["exa_mple.com", "letters a-z, digits and hyphens"],
      [" example.com", "letters a-z, digits and hyphens"],
      ["example..com", "empty label"],
      [".example.com", "empty label"],
      ["example.com.", "trailing dot"],
      [`${"a".repeat(64)}.example.com`, "at most 63"],
      ["", "is empty"],
    ])("rejects the label syntax of %j", (domain, hint) => {
      const violations = checkOrder(order(ssl123dv, { domains: ["example.com", domain] }));

      expect(violations).toEqual([
        {
          field: "domains[1]",
          rule: "DOMAIN_LABEL_INVALID",
          message: expect.stringContaining(hint),
        },
      ]);
    });

    it("accepts hyphens inside labels, 63-character labels, digits and upper case", () => {
      const domains = [
        "example.com",
        "a-b.example.com",
        `${"a".repeat(63)}.example.com`,
        "1.EXAMPLE.org",
      ];

      expect(checkOrder(order(ssl123dv, { domains }))).toEqual([]);
    });

    it("limits a domain to 253 characters", () => {
      const label = "a".repeat(62);
      const at253 = `${label}.${label}.${label}.${label}.c`; // 4*63 + 1
      const at254 = `${label}.${label}.${label}.${label}.co`;

      expect(checkOrder(order(ssl123dv, { domains: ["example.com", at253] }))).toEqual([]);
      expect(found(checkOrder(order(ssl123dv, { domains: ["example.com", at254] })))).toEqual([
        "domains[1] DOMAIN_TOO_LONG",
      ]);
    });

    it("requires at least two labels", () => {
      expect(found(checkOrder(order(ssl123dv, { domains: ["example.com", "localhost"] })))).toEqual(
        ["domains[1] DOMAIN_NOT_FQDN"],
      );
    });

    it.each(["www.*.example.com", "*example.com", "a*.example.com", "*.*.example.com", "*"])(
      "allows a wildcard only as the whole leftmost label: rejects %j",
      domain => {
        expect(found(checkOrder(order(ssl123dv, { domains: ["example.com", domain] })))).toEqual([
          "domains[1] DOMAIN_WILDCARD_INVALID",
        ]);
      },
    );

    it("accepts a leftmost wildcard label", () => {
      expect(
        checkOrder(order(ssl123dv, { domains: ["*.example.com", "*.a.example.com"] })),
      ).toEqual([]);
    });

    it("rejects IP addresses and numeric top-level domains", () => {
      const violations = checkOrder(
        order(ssl123dv, { domains: ["example.com", "192.168.0.1", "example.123"] }),
      );

      expect(found(violations)).toEqual([
        "domains[1] DOMAIN_TLD_INVALID",
        "domains[2] DOMAIN_TLD_INVALID",
      ]);
      expect(violations[0]?.message).toContain("IP address");
    });

    it("rejects public suffixes and wildcards over them, not domains registered under them", () => {
      const bad = checkOrder(
        order(ssl123dv, { domains: ["example.com", "co.uk", "*.co.uk", "*.com"] }),
      );
      const good = checkOrder(
        order(ssl123dv, { domains: ["example.co.uk", "*.example.co.uk", "shop.example.com.au"] }),
      );

      expect(found(bad)).toEqual([
        "domains[1] DOMAIN_PUBLIC_SUFFIX",
        "domains[2] DOMAIN_PUBLIC_SUFFIX",
        "domains[3] DOMAIN_PUBLIC_SUFFIX",
      ]);
      expect(good).toEqual([]);
    });

    it("reports a repeated domain, compared without regard to case", () => {
      const violations = checkOrder(
        order(ssl123dv, { domains: ["example.com", "www.example.com", "Example.COM"] }),
      );

      expect(violations).toEqual([
        {
          field: "domains[2]",
          rule: "DOMAIN_DUPLICATE",
          message: expect.stringContaining("repeats domains[0]"),
        },
      ]);
    });

    it("keeps the first domain, the common name, within 64 characters", () => {
      const long = `${"a".repeat(53)}.example.com`; // 65 characters
      const first = checkOrder(
        order(ssl123dv, { domains: [long], csrPem: makeCsr({ commonName: "" }).csrPem }),
      );
      const second = checkOrder(order(ssl123dv, { domains: ["example.com", long] }));

      expect(found(first)).toEqual(["domains[0] COMMON_NAME_TOO_LONG"]);
      expect(second).toEqual([]);
    });
  });

  describe("domains against the class", () => {
    it("rejects wildcard domains for a class without wildcard support", () => {
      const domains = ["example.com", "*.example.com"];

      expect(found(checkOrder(order(geotrusttruebizidev, { domains })))).toEqual([
        "domains[1] WILDCARD_NOT_ALLOWED",
      ]);
      expect(checkOrder(order(ssl123dv, { domains }))).toEqual([]);
    });

    it.each([rapidssldv, positivessldv])(
      "allows one domain plus its free alternative for the single-domain class $name",
      klass => {
        expect(checkOrder(order(klass, { domains: ["example.com", "www.example.com"] }))).toEqual(
          [],
        );
        expect(checkOrder(order(klass, { domains: ["www.example.com", "example.com"] }))).toEqual(
          [],
        );
        expect(checkOrder(order(klass, { domains: ["*.example.com", "example.com"] }))).toEqual([]);

        const violations = checkOrder(
          order(klass, { domains: ["example.com", "www.example.com", "example.net"] }),
        );
        expect(violations).toEqual([
          {
            field: "domains[2]",
            rule: "SAN_NOT_SUPPORTED",
            message: expect.stringContaining('plus its free alternative "www.example.com"'),
          },
        ]);
      },
    );

    it("rejects more domains than maxDomains, free alternatives not counted", () => {
      const domains = Array.from({ length: 250 }, (_, i) => `host${i}.example.com`);

      expect(checkOrder(order(ssl123dv, { domains }))).toEqual([]);
      expect(
        found(checkOrder(order(ssl123dv, { domains: [...domains, "one-more.example.com"] }))),
      ).toEqual(["domains TOO_MANY_DOMAINS"]);
      expect(
        found(checkOrder(order(multidomaindv, { domains: [...domains, "one-more.example.com"] }))),
      ).toEqual(["domains TOO_MANY_DOMAINS"]);
    });

    it(`looks at the first ${MAX_CHECKED_DOMAINS} domains of an absurd list only, at once`, () => {
      const domains = Array.from({ length: 50_000 }, (_, i) => `host${i}.example.com`);

      const started = performance.now();
      const single = checkOrder(order(positivessldv, { domains }));
      const multi = checkOrder(
        order(multidomaindv, {
          domains,
          dcvMethod: "email",
          approverEmails: domains.map(d => `admin@${d}`),
        }),
      );
      const elapsedMs = performance.now() - started;

      expect(single[0]).toMatchObject({
        field: "domains",
        rule: "TOO_MANY_DOMAINS",
        message: expect.stringContaining("50000 given"),
      });
      expect(single.length).toBeLessThanOrEqual(MAX_CHECKED_DOMAINS + 1);
      expect(found(multi)).toEqual(["domains TOO_MANY_DOMAINS", "domains TOO_MANY_DOMAINS"]);
      // Generous: it took seconds before the cap (a quadratic pairing of free alternatives).
      expect(elapsedMs).toBeLessThan(2000);
    });

    it("rejects more domains than maxDomainsIncludingAlternatives when alternatives are listed", () => {
      const domains = Array.from({ length: 248 }, (_, i) => `host${i}.example.com`);
      const withAlternatives = [
        ...domains,
        "www.host0.example.com",
        "www.host1.example.com",
        "www.host2.example.com",
      ];

      expect(
        checkOrder(order(ssl123dv, { domains: [...domains, "www.host0.example.com"] })),
      ).toEqual([]);
      expect(checkOrder(order(ssl123dv, { domains: withAlternatives }))).toEqual([
        {
          field: "domains",
          rule: "TOO_MANY_DOMAINS",
          message: expect.stringContaining("at most 250 domains including free alternatives"),
        },
      ]);
    });

    it("counts the www alternative as a domain of its own for a class without free alternatives", () => {
      const domains = ["example.com", "www.example.com"];

      expect(checkOrder(order({ ...ssl123dv, maxDomains: 1 }, { domains }))).toEqual([]);
      expect(found(checkOrder(order({ ...multidomaindv, maxDomains: 1 }, { domains })))).toEqual([
        "domains TOO_MANY_DOMAINS",
      ]);
    });

    it("limits wildcard and non-wildcard domains separately", () => {
      const klass = { ...ssl123dv, maxWildcardDomains: 1, maxNonWildcardDomains: 2 };

      expect(
        checkOrder(
          order(klass, {
            domains: ["*.example.com", "example.com", "a.example.net", "b.example.net"],
          }),
        ),
      ).toEqual([
        // example.com rides free as the alternative of *.example.com
      ]);
      expect(
        found(checkOrder(order(klass, { domains: ["*.example.com", "*.example.net"] }))),
      ).toEqual(["domains TOO_MANY_WILDCARD_DOMAINS"]);
      expect(
        found(
          checkOrder(
            order(klass, { domains: ["a.example.com", "b.example.com", "c.example.com"] }),
          ),
        ),
      ).toEqual(["domains TOO_MANY_NON_WILDCARD_DOMAINS"]);

      const many = Array.from({ length: 250 }, (_, i) => `*.host${i}.example.com`);
      // Reported beside the total only when stricter than it.
      expect(
        found(checkOrder(order(klass, { domains: [...many, "*.one-more.example.com"] }))),
      ).toEqual(["domains TOO_MANY_DOMAINS", "domains TOO_MANY_WILDCARD_DOMAINS"]);
    });
  });

  describe("dcvMethod", () => {
    it("accepts only the methods of the class (Sectigo has no DNS-TXT)", () => {
      const violations = checkOrder(order(positivessldv, { dcvMethod: "dns-txt" }));

      expect(violations).toEqual([
        {
          field: "dcvMethod",
          rule: "DCV_METHOD_NOT_SUPPORTED",
          message:
            "dcvMethod: class positivessldv does not offer DNS_TXT validation; use EMAIL, DNS_CNAME, HTTP or HTTPS",
        },
      ]);
      expect(found(checkOrder(order(multidomaindv, { dcvMethod: "dns-txt" })))).toEqual([
        "dcvMethod DCV_METHOD_NOT_SUPPORTED",
      ]);
      expect(checkOrder(order(ssl123dv, { dcvMethod: "dns-txt" }))).toEqual([]);
    });

    it.each<DcvMethodValue>(["http", "https"])(
      "does not validate wildcard domains by %s",
      method => {
        const violations = checkOrder(
          order(ssl123dv, { domains: ["example.com", "*.example.com"], dcvMethod: method }),
        );

        expect(violations).toEqual([
          {
            field: "domains[1]",
            rule: "DCV_METHOD_NOT_FOR_WILDCARD",
            message:
              `domains[1] "*.example.com": ${method.toUpperCase()} validation is not available for ` +
              "wildcard domains (class ssl123dv); use EMAIL, DNS_TXT or DNS_CNAME",
          },
        ]);
        expect(
          checkOrder(order(ssl123dv, { domains: ["example.com"], dcvMethod: method })),
        ).toEqual([]);
        expect(
          checkOrder(order(ssl123dv, { domains: ["*.example.com"], dcvMethod: "dns-txt" })),
        ).toEqual([]);
      },
    );
  });

  describe("approverEmails", () => {
    const email = (changes: Partial<OrderRuleInput>): OrderRuleInput =>
      order(ssl123dv, { dcvMethod: "email", ...changes });

    it("requires approver addresses for EMAIL validation", () => {
      expect(found(checkOrder(email({})))).toEqual(["approverEmails APPROVER_EMAILS_REQUIRED"]);
      expect(checkOrder(email({ approverEmails: ["hostmaster@example.com"] }))).toEqual([]);
    });

    it("takes one address per domain in domain order, or one address valid for all", () => {
      const domains = ["example.com", "www.example.com", "api.example.com"];

      expect(checkOrder(email({ domains, approverEmails: ["admin@example.com"] }))).toEqual([]);
      expect(
        checkOrder(
          email({
            domains,
            approverEmails: [
              "admin@example.com",
              "webmaster@www.example.com",
              "postmaster@api.example.com",
            ],
          }),
        ),
      ).toEqual([]);
      expect(
        found(
          checkOrder(
            email({ domains, approverEmails: ["admin@example.com", "admin@example.com"] }),
          ),
        ),
      ).toEqual(["approverEmails APPROVER_EMAILS_COUNT"]);
    });

    it("accepts the five mailboxes at the domain or a parent up to the registrable domain", () => {
      const domains = ["api.example.com", "*.a.example.co.uk"];

      expect(
        checkOrder(
          email({ domains, approverEmails: ["Admin@example.com", "webmaster@a.example.co.uk"] }),
        ),
      ).toEqual([]);
      expect(
        checkOrder(
          email({
            domains,
            approverEmails: ["administrator@api.example.com", "hostmaster@example.co.uk"],
          }),
        ),
      ).toEqual([]);
    });

    it.each([
      ["info@example.com", "api.example.com"],
      ["admin@other.com", "api.example.com"],
      ["admin@sub.api.example.com", "api.example.com"],
      ["admin@co.uk", "shop.example.co.uk"],
      ["admin@b.a.example.com", "*.a.example.com"],
    ])("rejects %s for %s", (address, domain) => {
      const violations = checkOrder(email({ domains: [domain], approverEmails: [address] }));

      expect(only(violations, "APPROVER_EMAIL_NOT_ALLOWED")).toEqual([
        {
          field: "approverEmails[0]",
          rule: "APPROVER_EMAIL_NOT_ALLOWED",
          message: expect.stringContaining(
            "admin@, administrator@, hostmaster@, webmaster@ or postmaster@",
          ),
        },
      ]);
    });

    it("checks a single shared address against every domain", () => {
      const violations = checkOrder(
        email({ domains: ["example.com", "example.net"], approverEmails: ["admin@example.com"] }),
      );

      expect(violations).toEqual([
        {
          field: "approverEmails[0]",
          rule: "APPROVER_EMAIL_NOT_ALLOWED",
          message: expect.stringContaining('domains[1] "example.net"'),
        },
      ]);
    });

    it("rejects text that is not an email address", () => {
      expect(found(checkOrder(email({ approverEmails: ["example.com"] })))).toEqual([
        "approverEmails[0] APPROVER_EMAIL_INVALID",
      ]);
    });

    it("rejects approver addresses with a method other than EMAIL", () => {
      expect(found(checkOrder(order(ssl123dv, { approverEmails: ["admin@example.com"] })))).toEqual(
        ["approverEmails APPROVER_EMAILS_NOT_EXPECTED"],
      );
      expect(checkOrder(order(ssl123dv, { approverEmails: [] }))).toEqual([]);
    });

    it("needs an address valid for the free alternative the class adds to a www domain", () => {
      const domains = ["www.example.com"];

      expect(
        found(checkOrder(email({ domains, approverEmails: ["admin@www.example.com"] }))),
      ).toEqual(["approverEmails[0] APPROVER_EMAIL_NOT_VALID_FOR_ALTERNATIVE"]);
      expect(checkOrder(email({ domains, approverEmails: ["admin@example.com"] }))).toEqual([]);
      expect(
        checkOrder(
          email({ domains, approverEmails: ["admin@www.example.com"], autofillDomains: false }),
        ),
      ).toEqual([]);
      expect(
        checkOrder(
          email({
            domains: ["www.example.com", "example.com"],
            approverEmails: ["admin@www.example.com", "admin@example.com"],
          }),
        ),
      ).toEqual([]);
      // Sectigo multi-domain classes add no alternatives.
      expect(
        checkOrder(
          order(multidomaindv, {
            dcvMethod: "email",
            domains,
            approverEmails: ["admin@www.example.com"],
          }),
        ),
      ).toEqual([]);
    });
  });

  describe("contacts", () => {
    it("requires the contacts the class makes mandatory", () => {
      const none = { tech: false, organization: false, evApprover: false };

      expect(found(checkOrder(order(geotrusttruebizidev, { contacts: none })))).toEqual([
        "organizationContact CONTACT_REQUIRED",
        "evApproverContact CONTACT_REQUIRED",
      ]);
      expect(found(checkOrder(order(ssl123dv, { contacts: none })))).toEqual([
        "techContact CONTACT_REQUIRED",
      ]);
    });

    it("rejects contacts the class does not take", () => {
      const all = { tech: true, organization: true, evApprover: true };

      expect(found(checkOrder(order(geotrusttruebizidev, { contacts: all })))).toEqual([
        "techContact CONTACT_NOT_ACCEPTED",
      ]);
      expect(found(checkOrder(order(ssl123dv, { contacts: all })))).toEqual([
        "organizationContact CONTACT_NOT_ACCEPTED",
        "evApproverContact CONTACT_NOT_ACCEPTED",
      ]);
    });
  });

  describe("periodYears", () => {
    it("accepts only the periods of the class", () => {
      expect(checkOrder(order(ssl123dv, { periodYears: 1 }))).toEqual([]);
      expect(checkOrder(order(ssl123dv, { periodYears: undefined }))).toEqual([]);
      expect(found(checkOrder(order(ssl123dv, { periodYears: 2 })))).toEqual([
        "periodYears PERIOD_NOT_SUPPORTED",
      ]);
      expect(found(checkOrder(order(ssl123dv, { periodYears: 0.5 })))).toEqual([
        "periodYears PERIOD_NOT_SUPPORTED",
      ]);
    });
  });

  describe("csr", () => {
    it("requires a CSR unless told otherwise", () => {
      expect(found(checkOrder(order(ssl123dv, { csrPem: undefined })))).toEqual([
        "csr CSR_REQUIRED",
      ]);
      expect(found(checkOrder(order(ssl123dv, { csrPem: "  " })))).toEqual(["csr CSR_REQUIRED"]);
      expect(checkOrder(order(ssl123dv, { csrPem: undefined, requireCsr: false }))).toEqual([]);
    });

    it("rejects junk", () => {
      expect(found(checkOrder(order(ssl123dv, { csrPem: "hello, this is not a CSR" })))).toEqual([
        "csr CSR_MALFORMED",
      ]);
    });

    it("rejects a certificate given instead of a CSR", () => {
      const { certPem } = makeSelfSignedCertificate({ commonName: "example.com" });

      expect(found(checkOrder(order(ssl123dv, { csrPem: certPem })))).toEqual([
        "csr CSR_IS_CERTIFICATE",
      ]);
    });

    it("rejects a private key, without quoting it", () => {
      const { keyPem } = makeCsr({ commonName: "example.com" });
      const violations = checkOrder(order(ssl123dv, { csrPem: keyPem }));

      expect(found(violations)).toEqual(["csr CSR_IS_PRIVATE_KEY"]);
      expect(violations[0]?.message).not.toContain("MII");
    });

    it("rejects other PEM objects", () => {
      const { keyPem } = makeCsr({ commonName: "example.com", keyType: "ec" });
      const publicKey = createPublicKey(keyPem).export({ type: "spki", format: "pem" }).toString();

      expect(found(checkOrder(order(ssl123dv, { csrPem: publicKey })))).toEqual([
        "csr CSR_WRONG_TYPE",
      ]);
    });

    it("rejects a CSR whose signature does not verify", () => {
      const { csrPem } = makeCsr({ commonName: "example.com" });

      expect(found(checkOrder(order(ssl123dv, { csrPem: withBrokenSignature(csrPem) })))).toEqual([
        "csr CSR_BAD_SIGNATURE",
      ]);
    });

    it("rejects RSA keys below 2048 bits and accepts 2048", () => {
      const weak = makeCsr({ commonName: "example.com", rsaBits: 1024 }).csrPem;

      expect(checkOrder(order(ssl123dv, { csrPem: weak }))).toEqual([
        {
          field: "csr",
          rule: "CSR_KEY_TOO_SMALL",
          message: expect.stringContaining("rsaEncryption key has 1024 bits"),
        },
      ]);
      expect(
        checkOrder(order(ssl123dv, { csrPem: makeCsr({ commonName: "example.com" }).csrPem })),
      ).toEqual([]);
    });

    it("accepts EC P-256 and P-384 keys and rejects a 192-bit curve", () => {
      const p256 = makeCsr({ commonName: "example.com", keyType: "ec" }).csrPem;
      const p384 = makeCsr({ commonName: "example.com", keyType: "ec", ecCurve: "P-384" }).csrPem;

      expect(checkOrder(order(ssl123dv, { csrPem: p256 }))).toEqual([]);
      expect(checkOrder(order(ssl123dv, { csrPem: p384 }))).toEqual([]);
      expect(found(checkOrder(order(ssl123dv, { csrPem: EC_P192_CSR })))).toEqual([
        "csr CSR_KEY_TOO_SMALL",
      ]);
    });

    it("rejects key algorithms the CAs do not certify", () => {
      expect(found(checkOrder(order(ssl123dv, { csrPem: ED25519_CSR })))).toEqual([
        "csr CSR_KEY_ALGORITHM_NOT_SUPPORTED",
      ]);
    });

    it("requires the CSR's common name, if any, to be the first domain", () => {
      const other = makeCsr({ commonName: "other.example.com" }).csrPem;
      const upper = makeCsr({ commonName: "EXAMPLE.com" }).csrPem;
      const noCn = makeCsr({ commonName: "", altNames: ["example.com"] }).csrPem;

      expect(found(checkOrder(order(ssl123dv, { csrPem: other })))).toEqual([
        "csr CSR_COMMON_NAME_MISMATCH",
      ]);
      expect(checkOrder(order(ssl123dv, { csrPem: upper }))).toEqual([]);
      expect(checkOrder(order(ssl123dv, { csrPem: noCn }))).toEqual([]);
    });
  });

  describe("dcvToken", () => {
    it("takes a token only for classes with immediate issuance", () => {
      expect(checkOrder(order(ssl123dv, { dcvToken: "token", dcvMethod: "dns-txt" }))).toEqual([]);
      expect(found(checkOrder(order(positivessldv, { dcvToken: "token" })))).toEqual([
        "dcvToken DCV_TOKEN_NOT_SUPPORTED",
      ]);
    });

    it("takes a token only with a DNS or HTTP method", () => {
      const violations = checkOrder(
        order(ssl123dv, {
          dcvToken: "token",
          dcvMethod: "email",
          approverEmails: ["admin@example.com"],
        }),
      );

      expect(found(violations)).toEqual(["dcvToken DCV_TOKEN_METHOD"]);
      expect(checkOrder(order(ssl123dv, { dcvToken: "token", dcvMethod: "http" }))).toEqual([]);
    });
  });
});

describe("registrableDomain", () => {
  it.each([
    ["example.com", "example.com"],
    ["www.Example.COM", "example.com"],
    ["*.a.b.example.org", "example.org"],
    ["a.b.example.co.uk", "example.co.uk"],
    ["shop.example.com.au", "example.com.au"],
    ["example.co.jp", "example.co.jp"],
  ])("gives %s -> %s", (domain, expected) => {
    expect(registrableDomain(domain)).toBe(expected);
  });

  it.each(["com", "co.uk", "*.com.au", "example..com", ""])("has none for %j", domain => {
    expect(registrableDomain(domain)).toBeUndefined();
  });
});

describe("approverAddresses", () => {
  it("lists the five mailboxes from the domain up to its registrable domain, wildcard stripped", () => {
    expect(approverAddresses("*.a.Example.com")).toEqual([
      "admin@a.example.com",
      "administrator@a.example.com",
      "hostmaster@a.example.com",
      "webmaster@a.example.com",
      "postmaster@a.example.com",
      "admin@example.com",
      "administrator@example.com",
      "hostmaster@example.com",
      "webmaster@example.com",
      "postmaster@example.com",
    ]);
  });

  it("stops at a two-level public suffix", () => {
    expect(approverAddresses("shop.example.co.uk").filter(a => a.startsWith("admin@"))).toEqual([
      "admin@shop.example.co.uk",
      "admin@example.co.uk",
    ]);
    expect(approverAddresses("co.uk")).toEqual([]);
  });
});

describe("expandApproverEmails", () => {
  it("repeats a single address for every domain and keeps one per domain as is", () => {
    expect(expandApproverEmails(3, ["admin@example.com"])).toEqual([
      "admin@example.com",
      "admin@example.com",
      "admin@example.com",
    ]);
    expect(expandApproverEmails(2, ["a@example.com", "b@example.com"])).toEqual([
      "a@example.com",
      "b@example.com",
    ]);
    expect(expandApproverEmails(3, ["a@example.com", "b@example.com"])).toBeUndefined();
  });
});
