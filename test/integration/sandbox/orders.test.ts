import { type SandboxHandle, startSandbox } from "../../../src/sandbox/server";
import { decodeReply, type WireReply } from "../../../src/upstream/codec";
import { makeCsr, withBrokenSignature } from "../../helpers/pki";
import { all, createSandboxClient, first, type SandboxClient } from "../../helpers/sandbox-client";
import { readFixture } from "../../helpers/wire";

const CREATED = new Date("2026-06-27T13:05:54Z");

function propertyNames(reply: WireReply): string[] {
  return [...reply.properties.keys()].sort();
}

function fixtureNames(name: string): string[] {
  return propertyNames(decodeReply(readFixture(name)));
}

function entries(reply: WireReply): [string, readonly string[]][] {
  return [...reply.properties.entries()];
}

describe("sandbox orders (AddCertificate)", () => {
  let sandbox: SandboxHandle;
  let client: SandboxClient;
  const { csrPem } = makeCsr({ commonName: "example.com" });

  const order = (extra: Record<string, unknown>): Promise<WireReply> =>
    client.call({
      command: "AddCertificate",
      apiversion: 2,
      techcontact0: "P-ABC123",
      class: "ssl123dv",
      domain: ["example.com"],
      csr: csrPem,
      ...extra,
    });

  const expectError = async (
    extra: Record<string, unknown>,
    code: number,
    description?: string | RegExp,
  ) => {
    const reply = await order(extra);
    expect(reply.code).toBe(code);
    if (description !== undefined) {
      expect(reply.description).toEqual(
        typeof description === "string" ? description : expect.stringMatching(description),
      );
    }
    expect(first(reply, "id")).toMatch(/^FAIL\d{7}$/);
    return reply;
  };

  beforeAll(async () => {
    sandbox = await startSandbox({ port: 0, now: () => CREATED });
    client = createSandboxClient(sandbox.url, { login: "demo", password: "demo" });
  }, 30_000);

  afterAll(async () => {
    await sandbox.stop();
  });

  describe("quotes (checkonly=1)", () => {
    it("reproduces 9.1.13: a single domain gets its www alternative for the base price", async () => {
      const reply = await order({ class: "SSL123DV", checkonly: 1 });
      expect(reply.code).toBe(200);
      expect(entries(reply)).toEqual(
        entries(decodeReply(readFixture("9.1.13-AddCertificate.reply.txt"))),
      );
    });

    it("reproduces 9.1.14: three domains, three free alternatives, two paid SANs", async () => {
      const reply = await order({
        class: "SSL123DV",
        domain: ["example.com", "example.net", "ftp.example.org"],
        checkonly: 1,
      });
      expect(entries(reply)).toEqual(
        entries(decodeReply(readFixture("9.1.14-AddCertificate.reply.txt"))),
      );
    });

    it("reproduces 9.1.15: noautofilldomains=1 adds no alternative", async () => {
      const reply = await order({
        domain: ["example.com", "example.net", "ftp.example.com"],
        checkonly: 1,
        noautofilldomains: 1,
      });
      expect(entries(reply)).toEqual([
        ["billingcount", ["2", "1"]],
        ["billingtype", ["ssl123dv-san", "ssl123dv-base"]],
        ["domain", ["example.com", "example.net", "ftp.example.com"]],
        ["price", ["98"]],
        ["vat", ["15.68"]],
      ]);
    });

    it("creates nothing: no certificate, order, contact or event", async () => {
      const before = await Promise.all(
        [
          "QueryCertificateList",
          "QueryCertificateOrderList",
          "QueryCertificateContactList",
          "QueryEventList",
        ].map(command => client.call({ command })),
      );
      await order({ checkonly: 1, techcontact0: "P-NEW999" });
      const after = await Promise.all(
        [
          "QueryCertificateList",
          "QueryCertificateOrderList",
          "QueryCertificateContactList",
          "QueryEventList",
        ].map(command => client.call({ command })),
      );
      expect(after.map(r => r.paging?.total)).toEqual(before.map(r => r.paging?.total));
    });

    it("bills wildcards with the wildcard base and wildcard SANs, alternatives free", async () => {
      const single = await order({ domain: ["*.example.com"], checkonly: 1 });
      expect(all(single, "domain")).toEqual(["*.example.com", "example.com"]);
      expect(all(single, "billingtype")).toEqual(["ssl123dv-wildcardbase"]);
      expect(first(single, "price")).toBe("149");

      const given = await order({ domain: ["example.com", "*.example.com"], checkonly: 1 });
      expect(all(given, "domain")).toEqual(["example.com", "*.example.com"]);
      expect(all(given, "billingtype")).toEqual(["ssl123dv-wildcardbase"]);

      const mixed = await order({
        domain: ["*.example.com", "example.net", "*.example.org"],
        checkonly: 1,
      });
      expect(all(mixed, "domain")).toEqual([
        "*.example.com",
        "example.net",
        "*.example.org",
        "example.com",
        "www.example.net",
        "example.org",
      ]);
      expect(
        entries(mixed).filter(
          ([name]) => name.startsWith("billing") || name === "price" || name === "vat",
        ),
      ).toEqual([
        ["billingcount", ["1", "1", "1"]],
        ["billingtype", ["ssl123dv-san", "ssl123dv-wildcardsan", "ssl123dv-wildcardbase"]],
        ["price", ["306"]],
        ["vat", ["48.96"]],
      ]);
    });

    it("stops adding free alternatives at the class's number (ssl123dv: 3)", async () => {
      const reply = await order({
        domain: ["a.example.com", "b.example.com", "c.example.com", "d.example.com"],
        checkonly: 1,
      });
      expect(all(reply, "domain")).toEqual([
        "a.example.com",
        "b.example.com",
        "c.example.com",
        "d.example.com",
        "www.a.example.com",
        "www.b.example.com",
        "www.c.example.com",
      ]);
      expect(all(reply, "billingcount")).toEqual(["3", "1"]);
    });

    it("includes 3 domains in Sectigo's multi-domain base and adds no alternative", async () => {
      const reply = await order({
        class: "multidomaindv",
        domain: ["example.com", "example.net", "example.org", "example.de"],
        dcvmethod: "dns-cname",
        checkonly: 1,
      });
      expect(all(reply, "domain")).toEqual([
        "example.com",
        "example.net",
        "example.org",
        "example.de",
      ]);
      expect(all(reply, "billingtype")).toEqual(["multidomaindv-san", "multidomaindv-base"]);
      expect(all(reply, "billingcount")).toEqual(["1", "1"]);
    });

    it("gives a Sectigo single-domain class one free alternative", async () => {
      const reply = await order({ class: "positivessldv", checkonly: 1 });
      expect(all(reply, "domain")).toEqual(["example.com", "www.example.com"]);
      expect(all(reply, "billingtype")).toEqual(["positivessldv-base"]);
    });
  });

  describe("placed orders", () => {
    it("answers 9.1.16 (email validation) with the manual's properties and formats", async () => {
      const reply = await order({
        class: "ssl123dv",
        dcvmethod: "email",
        dcvemail0: "hostmaster@example.com",
      });
      expect(reply.code).toBe(200);
      expect(propertyNames(reply)).toEqual(fixtureNames("9.1.16-AddCertificate.reply.txt"));
      expect(first(reply, "certificate")).toMatch(/^DK[1-9]\d{7}$/);
      expect(first(reply, "order")).toMatch(/^DK0\d{8}$/);
      expect(first(reply, "ca certificate id")).toMatch(/^\d{9}$/);
      expect(first(reply, "ca order id")).toMatch(/^\d{9}$/);
      expect(first(reply, "techcontact")).toMatch(/^CC-\d{8}$/);
      expect(
        entries(reply).filter(
          ([name]) => !/^(certificate|order|cacertificateid|caorderid|techcontact|csr)$/.test(name),
        ),
      ).toEqual([
        ["billingcount", ["1"]],
        ["billingtype", ["ssl123dv-base"]],
        ["ca", ["DigiCert"]],
        ["class", ["SSL123DV"]],
        ["createdby", ["demo"]],
        ["createddate", ["2026-06-27 13:05:54.0"]],
        ["dcvdomain", ["example.com", "example.com"]],
        ["dcvemail", ["hostmaster@example.com", "hostmaster@example.com"]],
        ["dcvmethod", ["email", "email"]],
        ["domain", ["example.com", "www.example.com"]],
        ["orderpaiduntil", ["2027-06-27 13:05:54.0"]],
        ["price", ["42"]],
        ["servertype", ["apache"]],
        ["status", ["processing"]],
        ["updatedby", ["demo"]],
        ["updateddate", ["2026-06-27 13:05:54.0"]],
        ["vat", ["6.72"]],
      ]);
      expect(all(reply, "csr").join("\n") + "\n").toBe(csrPem);
    });

    it("answers 9.1.17 (DNS-TXT): one TXT record for the whole certificate", async () => {
      const reply = await order({ dcvmethod: "dns-txt" });
      expect(propertyNames(reply)).toEqual(fixtureNames("9.1.17-AddCertificate.reply.txt"));
      const records = all(reply, "dns rr");
      expect(records).toHaveLength(2);
      expect(records[0]).toMatch(/^@ 3600 IN TXT [0-9a-z]{32}$/);
      expect(records[1]).toBe(records[0]);
      expect(all(reply, "dcv method")).toEqual(["dns-txt", "dns-txt"]);
    });

    it("answers 9.1.18 (HTTP): DigiCert's fileauth.txt on https with one token", async () => {
      const reply = await order({ dcvmethod: "HTTP" });
      expect(propertyNames(reply)).toEqual(fixtureNames("9.1.18-AddCertificate.reply.txt"));
      expect(all(reply, "file name")).toEqual([
        "https://example.com/.well-known/pki-validation/fileauth.txt",
        "https://example.com/.well-known/pki-validation/fileauth.txt",
      ]);
      const [token, again] = all(reply, "file contents");
      expect(token).toMatch(/^[0-9a-z]{32}$/);
      expect(again).toBe(token);
    });

    it("answers DigiCert DNS-CNAME records per domain (9.1.21)", async () => {
      const reply = await order({ dcvmethod: "Dns-Cname" });
      const [apex, www] = all(reply, "dns rr");
      const token = /^([0-9a-z]{32})\.example\.com\. IN CNAME dcv\.digicert\.com$/.exec(
        apex ?? "",
      )?.[1];
      expect(token).toBeDefined();
      expect(www).toBe(`${token}.www.example.com. IN CNAME dcv.digicert.com`);
    });

    it("answers Sectigo's CNAME and file validation derived from the CSR", async () => {
      const dns = await order({ class: "positivessldv", dcvmethod: "DNS-CNAME" });
      expect(all(dns, "dns rr")[0]).toMatch(
        /^_[0-9a-f]{32}\.example\.com\. IN CNAME [0-9a-f]{32}\.[0-9a-f]{32}\.sectigo\.com\.$/,
      );
      expect(first(dns, "certificate")).toMatch(/^SP[1-9]\d{7}$/);
      const http = await order({ class: "positivessldv", dcvmethod: "http" });
      expect(all(http, "file name")[0]).toMatch(
        /^http:\/\/example\.com\/\.well-known\/pki-validation\/[0-9A-F]{32}\.txt$/,
      );
      expect(all(http, "file contents")[0]).toMatch(/^[0-9a-f]{64} sectigo\.com$/);
      const https = await order({ class: "positivessldv", dcvmethod: "https" });
      expect(all(https, "file name")[0]).toMatch(/^https:\/\//);
    });

    it("creates contacts from inline data (9.1.19) and from P-handles", async () => {
      const reply = await client.call({
        command: "AddCertificate",
        class: "ssl123dv",
        dcvmethod: "email",
        domain0: "example.com",
        csr: csrPem,
        techfirstname0: "Max",
        techlastname0: "Mustermann",
        techemail0: "max@example.org",
        techphone0: "+1.2345678",
      });
      expect(reply.code).toBe(200);
      expect(propertyNames(reply)).toEqual(fixtureNames("9.1.16-AddCertificate.reply.txt"));
      expect(all(reply, "dcv email")).toEqual(["hostmaster@example.com", "hostmaster@example.com"]);
      const contact = await client.call({
        command: "StatusCertificateContact",
        certificatecontact: first(reply, "techcontact"),
      });
      expect([
        first(contact, "first name"),
        first(contact, "last name"),
        first(contact, "type"),
      ]).toEqual(["Max", "Mustermann", "tech"]);

      const a = await order({});
      const b = await order({});
      expect(first(a, "techcontact")).not.toBe(first(b, "techcontact"));
      const reused = await order({ techcontact0: first(a, "techcontact") });
      expect(first(reused, "techcontact")).toBe(first(a, "techcontact"));
    });

    it("takes OV contacts: organization and EV approver as CC- ids, O-handles or data", async () => {
      const org = await client.call({
        command: "AddCertificateContact",
        type: "organization",
        ohandle: "O-ABC456",
        phandle: "P-ABC123",
      });
      const reply = await order({
        class: "webserverov",
        techcontact0: undefined,
        organizationcontact: first(org, "certificatecontact"),
        evapproverfirstname: "Erika",
        evapproverlastname: "Musterfrau",
        evapproveremail: "erika@example.com",
        evapproverphone: "+49.301234567",
        evapproverjobtitle: "CEO",
      });
      expect(reply.code).toBe(200);
      expect(first(reply, "organizationcontact")).toBe(first(org, "certificatecontact"));
      expect(first(reply, "evapprovercontact")).toMatch(/^CC-\d{8}$/);
      expect(first(reply, "certificate")).toMatch(/^DO/);
    });

    it("takes class, method and address case-insensitively, and the manual's misspelt class names", async () => {
      const reply = await order({
        class: "SsL123dV",
        dcvmethod: "EMAIL",
        dcvemail0: "Admin@Example.COM",
        domain: ["EXAMPLE.com"],
      });
      expect(reply.code).toBe(200);
      expect(all(reply, "domain")).toEqual(["example.com", "www.example.com"]);
      expect(all(reply, "dcv email")).toEqual(["admin@example.com", "admin@example.com"]);
      const alias = await order({
        class: "securesiteproof",
        techcontact0: undefined,
        organizationcontact: "O-ABC456",
        checkonly: 1,
      });
      expect(all(alias, "billingtype")).toEqual(["securesiteproov-base"]);
      expect((await order({ class: "POSITIVSSLDV", checkonly: 1 })).code).toBe(200);
    });

    it("accepts approvers at the base domain and inherits them for alternatives", async () => {
      const reply = await order({
        domain: ["shop.example.co.uk", "example.net"],
        dcvemail0: "webmaster@example.co.uk",
      });
      expect(all(reply, "domain")).toEqual([
        "shop.example.co.uk",
        "example.net",
        "www.shop.example.co.uk",
        "www.example.net",
      ]);
      expect(all(reply, "dcv email")).toEqual([
        "webmaster@example.co.uk",
        "hostmaster@example.net",
        "webmaster@example.co.uk",
        "hostmaster@example.net",
      ]);
      expect(all(reply, "dcv domain")).toEqual([
        "shop.example.co.uk",
        "example.net",
        "shop.example.co.uk",
        "example.net",
      ]);
    });

    it("uses the server type given, from the CA's list", async () => {
      expect(first(await order({ servertype: "NGINX" }), "server type")).toBe("nginx");
      expect(first(await order({ servertype: "exchange.*2016" }), "server type")).toBe(
        "exchange.*2016",
      );
    });
  });

  describe("rules", () => {
    it("answers 504 for a missing class, CSR or mandatory contact", async () => {
      await expectError({ class: undefined }, 504, "Missing required attribute; class");
      await expectError({ csr: undefined }, 504, "Missing required attribute; csr");
      await expectError(
        { techcontact0: undefined },
        504,
        /^Missing required attribute; techcontact0: class ssl123dv requires a tech contact/,
      );
      await expectError(
        { class: "securesiteflexov", techcontact0: undefined },
        504,
        /organizationcontact/,
      );
      await expectError(
        { class: "geotrusttruebizidev", techcontact0: undefined, organizationcontact: "O-ABC456" },
        504,
        /evapprovercontact0/,
      );
      await expectError(
        {
          techcontact0: undefined,
          techfirstname0: "Max",
          techlastname0: "M",
          techphone0: "+1.5551234567",
        },
        504,
        "Missing required attribute; techemail0",
      );
    });

    it("answers 505 for malformed values", async () => {
      await expectError(
        {
          csr: "-----BEGIN CERTIFICATE REQUEST-----\nnot base64!\n-----END CERTIFICATE REQUEST-----",
        },
        505,
        /^Invalid attribute value syntax; csr: /,
      );
      for (const domain of [
        "exa mple.com",
        "ex*ample.com",
        "*.*.example.com",
        "bücher.de",
        "-bad.example.com",
        "localhost",
        "example.123",
      ]) {
        await expectError({ domain: [domain] }, 505, /^Invalid attribute value syntax; domain /);
      }
      await expectError(
        { dcvmethod: "FAX" },
        505,
        /^Invalid attribute value syntax; dcvmethod: "FAX" is not one of/,
      );
      await expectError({ dcvemail0: "not-an-address" }, 505);
      await expectError({ techcontact0: "somebody" }, 505);
      await expectError({ period: "one" }, 505);
      await expectError({ checkonly: "yes" }, 505);
      await expectError(
        {
          techcontact0: undefined,
          techfirstname0: "Max",
          techlastname0: "M",
          techemail0: "max@example.org",
          techphone0: "12",
        },
        505,
      );
    });

    it("answers 541 for values the class or product does not allow", async () => {
      await expectError(
        { class: "platinumdv" },
        541,
        "Parameter value policy error; class platinumdv is not available",
      );
      await expectError(
        {
          class: "securesiteflexev",
          techcontact0: undefined,
          organizationcontact: "O-A1",
          evapprovercontact0: "P-A2",
          domain: ["*.example.com"],
        },
        541,
        /does not support wildcard domains/,
      );
      await expectError(
        { class: "rapidssldv", domain: ["example.com", "example.net"] },
        541,
        /single-domain class/,
      );
      await expectError(
        { domain: ["example.com", "EXAMPLE.com"] },
        541,
        /domain example.com: given more than once/,
      );
      await expectError(
        { domain: ["*.example.com"], dcvmethod: "http" },
        541,
        "Parameter value policy error; domain *.example.com: HTTP validation is not available for wildcard domains",
      );
      await expectError(
        { domain: ["*.example.com"], dcvmethod: "https" },
        541,
        /HTTPS validation is not available for wildcard domains/,
      );
      await expectError(
        { class: "positivessldv", dcvmethod: "DNS-TXT" },
        541,
        "Parameter value policy error; dcvmethod DNS-TXT is not available for class positivessldv",
      );
      await expectError(
        { dcvemail0: "info@example.com" },
        541,
        /dcvemail0: info@example.com cannot approve example.com/,
      );
      await expectError({ dcvemail0: "admin@example.net" }, 541);
      await expectError(
        { domain: ["shop.example.com"], dcvemail0: "admin@other.example.com" },
        541,
      );
      await expectError({ period: "2" }, 541, /period 2 is not available for class ssl123dv/);
      await expectError(
        { class: "positivessldv", servertype: "iis10" },
        541,
        /servertype iis10 is not available for Sectigo classes/,
      );
      await expectError(
        { class: "securesiteproov", organizationcontact: "O-ABC456" },
        541,
        "Parameter value policy error; techcontact: class securesiteproov takes no tech contact",
      );
      const small = makeCsr({ commonName: "example.com", rsaBits: 1024, keySlot: "small" });
      await expectError({ csr: small.csrPem }, 541, /RSA key of 1024 bits, at least 2048/);
      await expectError(
        { csr: withBrokenSignature(csrPem) },
        541,
        /^Parameter value policy error; csr: /,
      );
      const domains = Array.from({ length: 251 }, (_, i) => `host${i}.example.com`);
      await expectError({ domain: domains }, 541, /at most 250 domains/);
    });

    it("answers 545 for an unknown contact and 541 for one of the wrong type", async () => {
      await expectError(
        { techcontact0: "CC-00000001" },
        545,
        "Entity reference not found; certificatecontact CC-00000001 not found",
      );
      const org = await client.call({
        command: "AddCertificateContact",
        type: "organization",
        ohandle: "O-XYZ1",
      });
      await expectError(
        { techcontact0: first(org, "certificatecontact") },
        541,
        /is a organization contact, not a tech contact/,
      );
    });

    it("accepts 250 domains, the domains of the CSR when none are given, and an EC key", async () => {
      const domains = Array.from({ length: 250 }, (_, i) => `host${i}.example.com`);
      const many = await order({ domain: domains, checkonly: 1 });
      expect(many.code).toBe(200);
      expect(all(many, "domain")).toHaveLength(250);
      expect(all(many, "billingcount")[0]).toBe("249");

      const withSans = makeCsr({
        commonName: "csr.example.com",
        altNames: ["csr.example.com", "api.example.com"],
      });
      const fromCsr = await order({ domain: undefined, csr: withSans.csrPem, checkonly: 1 });
      expect(all(fromCsr, "domain").slice(0, 2)).toEqual(["csr.example.com", "api.example.com"]);

      const ec = makeCsr({ commonName: "example.com", keyType: "ec" });
      expect((await order({ csr: ec.csrPem })).code).toBe(200);
    });
  });
});
