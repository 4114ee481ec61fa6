import { type SandboxHandle, startSandbox } from "../../../src/sandbox/server";
import { decodeReply, rows, type WireReply } from "../../../src/upstream/codec";
import { makeCsr } from "../../helpers/pki";
import { all, createSandboxClient, first, type SandboxClient } from "../../helpers/sandbox-client";
import { readFixture } from "../../helpers/wire";

const NOW = new Date("2026-11-20T08:30:00Z");
const SEED = 200;

function names(reply: WireReply): string[] {
  return [...reply.properties.keys()].sort();
}

function fixture(name: string): WireReply {
  return decodeReply(readFixture(name));
}

describe("sandbox information, contacts and lists", () => {
  let sandbox: SandboxHandle;
  let client: SandboxClient;
  let startupMs = 0;
  const call = (command: string, args: Record<string, unknown> = {}) =>
    client.call({ command, ...args });

  beforeAll(async () => {
    const started = Date.now();
    sandbox = await startSandbox({ port: 0, seed: SEED, now: () => NOW });
    startupMs = Date.now() - started;
    client = createSandboxClient(sandbox.url, { login: "demo", password: "demo" });
  }, 60_000);

  afterAll(async () => {
    await sandbox.stop();
  });

  describe("GetCertificateInfo", () => {
    it("lists the 20 classes without a class (9.1.1)", async () => {
      const reply = await call("GetCertificateInfo", { apiversion: 2 });
      const classes = all(reply, "class");
      expect(classes).toHaveLength(20);
      expect(classes.slice(0, 2)).toEqual(["geotrustflexdv", "geotrusttruebizidev"]);
      expect(classes).toContain("securesiteproov");
      expect(classes).toContain("positivessldv");
      expect(all(reply, "column")).toEqual(["class"]);
    });

    it("answers 9.1.2 for SSL123DV, plus dcv https, san, refund on cancel, reissue and revoke", async () => {
      const reply = await call("GetCertificateInfo", { apiversion: 2, class: "SSL123DV" });
      const manual = fixture("9.1.2-GetCertificateInfo.reply.txt");
      expect(names(reply)).toEqual(
        [...names(manual), "dcvhttps", "refundoncancel", "reissue", "revoke", "san"].sort(),
      );
      for (const [name, values] of manual.properties) {
        if (name === "servertype") {
          expect([...all(reply, name)].sort()).toEqual([...values].sort());
        } else {
          expect([name, all(reply, name)]).toEqual([name, values]);
        }
      }
    });

    it("takes the product matrix literally", async () => {
      const info = async (cls: string) => {
        const reply = await call("GetCertificateInfo", { class: cls });
        return Object.fromEntries(
          [...reply.properties].map(([k, v]) => [k, v.length > 1 ? v.join(",") : (v[0] ?? "")]),
        );
      };
      expect(await info("securesiteproev")).toMatchObject({
        type: "DV",
        techcontact: "MANDATORY",
        organizationcontact: "NO",
        supportsimmediateissuance: "1",
      });
      expect(await info("webserverov")).toMatchObject({
        type: "OV",
        techcontact: "NO",
        organizationcontact: "MANDATORY",
        evapprovercontact: "MANDATORY",
      });
      expect(await info("rapidssldv")).toMatchObject({
        prefix: "DD",
        san: "0",
        maxdomains: "1",
        maxdomainsincludingalternatives: "2",
        maxfreealternatives: "250",
        wildcard: "1",
      });
      expect(await info("multidomaindv")).toMatchObject({
        brand: "Sectigo",
        supplier: "SECTIGO",
        includeddomainswithbase: "3",
        maxfreealternatives: "0",
        dcvdnstxt: "0",
        dcvdnscname: "1",
        refundoncancel: "0",
        reissue: "0",
        servertype: "apache,cpanel,java,iis56,iis7,nginx,oracle,other",
      });
      expect(await info("positivssldv")).toMatchObject({
        class: "positivessldv",
        prefix: "SP",
        maxfreealternatives: "1",
      });
      expect(await info("securesiteproof")).toMatchObject({
        class: "securesiteproov",
        name: "SECURESITEPROOV",
      });
      const prefixes = await Promise.all(
        all(await call("GetCertificateInfo"), "class").map(async c => (await info(c)).prefix),
      );
      expect(new Set(prefixes).size).toBe(20);
      expect((await call("GetCertificateInfo", { class: "nonsense" })).code).toBe(541);
    });
  });

  describe("CheckCertificate", () => {
    const { csrPem } = makeCsr({
      commonName: "example.com",
      country: "US",
      state: "CA",
      locality: "San Francisco",
      organization: "Example Corp",
    });

    it("parses a CSR as 9.1.3 shows", async () => {
      const reply = await call("CheckCertificate", { apiversion: 2, csr: csrPem });
      // 9.1.3's properties, plus the signature algorithm of 8.1.1.
      expect(names(reply)).toEqual([
        "csrcommonname",
        "csrpublickeyalgorithm",
        "csrpublickeysize",
        "csrsignaturealgorithm",
        "csrsubject",
        "csrsubjectcommonname",
        "csrsubjectcountry",
        "csrsubjectlocation",
        "csrsubjectorganization",
        "csrsubjectstate",
      ]);
      expect(first(reply, "csr subject")).toBe(
        "C = US, ST = CA, L = San Francisco, O = Example Corp, CN = example.com",
      );
      expect(first(reply, "csr public key algorithm")).toBe("rsaEncryption");
      expect(first(reply, "csr public key size")).toBe("2048");
      expect(first(reply, "csr subject location")).toBe("San Francisco");
      expect(first(reply, "csr signature algorithm")).toBe("sha256WithRSAEncryption");
    });

    it("parses an issued certificate as 9.1.4 shows", async () => {
      const certificate =
        all(await call("QueryCertificateList", { status: "active", limit: 1 }), "certificate")[0] ??
        "";
      const crt = `${all(await call("StatusCertificate", { certificate }), "cert").join("\n")}\n`;
      const reply = await call("CheckCertificate", { crt });
      // 9.1.4's properties, plus the issuer's and subject's other fields and the version of 8.1.1.
      expect(names(reply)).toEqual(
        expect.arrayContaining([
          "crtauthoritykeyidentifier",
          "crtcommonname",
          "crtextendedkeyusage",
          "crtissuer",
          "crtissuercommonname",
          "crtissuercountry",
          "crtissuerorganization",
          "crtkeyusage",
          "crtkeyusagetype",
          "crtpublickeyalgorithm",
          "crtpublickeysize",
          "crtsan",
          "crtserial",
          "crtsignaturealgorithm",
          "crtsubject",
          "crtsubjectcommonname",
          "crtvaliditynotafter",
          "crtvaliditynotbefore",
          "crtversion",
        ]),
      );
      expect(all(reply, "crt extended key usage")).toEqual([
        "TLS Web Server Authentication",
        "TLS Web Client Authentication",
      ]);
      expect(all(reply, "crt key usage")[0]).toBe("Digital Signature");
      expect(first(reply, "crt key usage type")).toBe("critical");
      expect(first(reply, "crt serial")).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2})+$/);
      expect(first(reply, "crt validity not before")).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
      expect(first(reply, "crt issuer organization")).toBe("RRPproxy Sandbox");
      expect(
        (
          await call("CheckCertificate", {
            crt: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
          })
        ).code,
      ).toBe(505);
    });

    it("lists the five approver addresses per domain and base domain (9.1.5)", async () => {
      const reply = await call("CheckCertificate", {
        apiversion: 2,
        class: "ssl123dv",
        domain0: "example.com",
        domain1: "example.org",
      });
      const manual = fixture("9.1.5-CheckCertificate.reply.txt");
      expect(names(reply)).toEqual(names(manual));
      expect(all(reply, "domain")).toEqual(all(manual, "domain"));
      const byDomain = (r: WireReply) =>
        rows(r).reduce<Record<string, string[]>>((acc, row) => {
          (acc[row.domain ?? ""] ??= []).push(row.dcvemail ?? "");
          acc[row.domain ?? ""]?.sort();
          return acc;
        }, {});
      expect(byDomain(reply)).toEqual(byDomain(manual));

      const sub = await call("CheckCertificate", { domain0: "ftp.shop.example.co.uk" });
      expect(all(sub, "dcv email")).toEqual([
        "admin@ftp.shop.example.co.uk",
        "administrator@ftp.shop.example.co.uk",
        "hostmaster@ftp.shop.example.co.uk",
        "webmaster@ftp.shop.example.co.uk",
        "postmaster@ftp.shop.example.co.uk",
        "admin@example.co.uk",
        "administrator@example.co.uk",
        "hostmaster@example.co.uk",
        "webmaster@example.co.uk",
        "postmaster@example.co.uk",
      ]);
      expect(new Set(all(sub, "domain"))).toEqual(new Set(["ftp.shop.example.co.uk"]));
    });

    it("checks CSR, CRT and addresses at once (9.1.6) and refuses an empty check", async () => {
      const certificate =
        all(await call("QueryCertificateList", { status: "active", limit: 1 }), "certificate")[0] ??
        "";
      const crt = `${all(await call("StatusCertificate", { certificate }), "cert").join("\n")}\n`;
      const reply = await call("CheckCertificate", {
        class: "ssl123dv",
        domain: ["example.com", "example.org"],
        csr: csrPem,
        crt,
      });
      const present = names(reply);
      for (const group of ["csrsubject", "crtsubject", "dcvemail", "domain"]) {
        expect(present).toContain(group);
      }
      expect((await call("CheckCertificate", {})).code).toBe(504);
      expect((await call("CheckCertificate", { domain0: "bad domain" })).code).toBe(505);
      expect((await call("CheckCertificate", { csr: csrPem, class: "unknown" })).code).toBe(541);
    });
  });

  describe("CertificateContacts", () => {
    it("creates contacts from data (9.1.7, 9.1.8) and from handles (9.1.9)", async () => {
      const tech = await call("AddCertificateContact", {
        apiversion: 2,
        type: "tech",
        firstname: "Max",
        lastname: "Mustermann",
        email: "max@example.org",
        phone: "+1.5552345678",
      });
      expect(names(tech)).toEqual(names(fixture("9.1.7-AddCertificateContact.reply.txt")));
      expect(first(tech, "certificatecontact")).toMatch(/^CC-\d{8}$/);
      expect(first(tech, "status")).toBe("unverified");

      const org = await call("AddCertificateContact", {
        type: "organization",
        firstname: "Max",
        lastname: "Mustermann",
        email: "max@example.org",
        phone: "+1.2345678",
        organizationname: "Example Corp",
        organizationdba: "Example DBA",
        organizationstreet: "Example Street 1",
        organizationcity: "Exampletown",
        organizationstate: "EX",
        organizationcountry: "de",
        organizationzip: "12345",
        organizationphone: "+1.55512345678",
      });
      expect(org.code).toBe(200);
      const status = await call("StatusCertificateContact", {
        certificatecontact: first(org, "certificatecontact"),
      });
      expect(first(status, "organization country")).toBe("DE");
      expect(first(status, "organization dba")).toBe("Example DBA");

      const handles = await call("AddCertificateContact", {
        type: "organization",
        ohandle: "O-ABC456",
        phandle: "P-ABC123",
      });
      expect(handles.code).toBe(200);
      const fromHandles = await call("StatusCertificateContact", {
        certificatecontact: first(handles, "certificatecontact"),
      });
      expect(first(fromHandles, "organization name")).not.toBe("");
      expect(first(fromHandles, "first name")).not.toBe("");
    });

    it("answers 504/505 for incomplete or malformed contacts", async () => {
      expect(
        (
          await call("AddCertificateContact", {
            type: "tech",
            firstname: "Max",
            lastname: "M",
            phone: "+1.5552345678",
          })
        ).code,
      ).toBe(504);
      expect((await call("AddCertificateContact", { firstname: "Max" })).code).toBe(504);
      expect((await call("AddCertificateContact", { type: "owner", firstname: "Max" })).code).toBe(
        505,
      );
      expect((await call("AddCertificateContact", { type: "tech", phandle: "X-1" })).code).toBe(
        505,
      );
      expect(
        (
          await call("AddCertificateContact", {
            type: "tech",
            firstname: "Max",
            lastname: "M",
            phone: "+1.5552345678",
            email: "max",
          })
        ).code,
      ).toBe(505);
      expect(
        (
          await call("AddCertificateContact", {
            type: "organization",
            organizationname: "X",
            email: "a@example.com",
            phone: "+1.5552345678",
          })
        ).code,
      ).toBe(504);
    });

    it("answers every field of a contact, whatever its type (9.1.12)", async () => {
      const id = first(
        await call("AddCertificateContact", {
          type: "tech",
          firstname: "Max",
          lastname: "Mustermann",
          email: "max@example.org",
          phone: "+1.5552345678",
        }),
        "certificatecontact",
      );
      const reply = await call("StatusCertificateContact", {
        apiversion: 2,
        certificatecontact: id,
      });
      expect(names(reply)).toEqual(
        [
          ...names(fixture("9.1.12-StatusCertificateContact.reply.txt")),
          "certificatecontact",
          "organizationemail",
          "status",
        ].sort(),
      );
      expect(first(reply, "created date")).toBe("2026-11-20 08:30:00.0");
      expect(first(reply, "created by")).toBe("demo");
      expect(first(reply, "organization name")).toBe("");
      expect(
        (await call("StatusCertificateContact", { certificatecontact: "CC-00000000" })).code,
      ).toBe(545);
    });

    it("lists contacts plain (9.1.10) and wide (9.1.11)", async () => {
      const plain = await call("QueryCertificateContactList", { apiversion: 2 });
      expect(names(plain)).toEqual(names(fixture("9.1.10-QueryCertificateContactList.reply.txt")));
      expect(plain.paging?.limit).toBe(1000);
      const wide = await call("QueryCertificateContactList", { apiversion: 2, wide: 1, limit: 2 });
      const manual = fixture("9.1.11-QueryCertificateContactList.reply.txt");
      expect(all(wide, "column")).toEqual(all(manual, "column"));
      expect(names(wide)).toEqual(names(manual));
      expect(wide.paging).toEqual({
        count: 2,
        first: 0,
        last: 1,
        limit: 2,
        total: plain.paging?.total,
      });

      const techs = await call("QueryCertificateContactList", { type: "TECH", wide: 1 });
      expect(new Set(all(techs, "type"))).toEqual(new Set(["tech"]));
      const maxes = await call("QueryCertificateContactList", {
        firstname: "ma?",
        wide: 1,
        orderby: "EMAIL",
        order: "DESC",
      });
      expect(all(maxes, "first name").every(n => n.toLowerCase() === "max")).toBe(true);
      const emails = all(maxes, "email");
      expect(emails).toEqual([...emails].sort().reverse());
      expect((await call("QueryCertificateContactList", { orderby: "SHOESIZE" })).code).toBe(505);
    });
  });

  describe("seeded lists", () => {
    it("seeds every class and state, fast", async () => {
      expect(startupMs).toBeLessThan(20_000);
      const list = await call("QueryCertificateList", { wide: 1 });
      const statuses = new Set(all(list, "status"));
      expect([...statuses].sort()).toEqual([
        "active",
        "canceled",
        "expired",
        "failed",
        "processing",
        "revoked",
      ]);
      expect(new Set(all(list, "class")).size).toBe(20);
      expect(list.paging?.total).toBeGreaterThan(SEED);
      const orders = await call("QueryCertificateOrderList", { wide: 1 });
      expect(orders.paging?.total).toBe(new Set(all(list, "certificateorder")).size);
      expect([...new Set(all(orders, "status"))].sort()).toEqual([
        "active",
        "canceled",
        "expired",
        "failed",
        "processing",
      ]);
      const contacts = await call("QueryCertificateContactList", { wide: 1 });
      expect(new Set(all(contacts, "type"))).toEqual(
        new Set(["tech", "organization", "evapprover"]),
      );
    });

    it("answers the wide columns of 9.1.23 and 9.1.31 exactly", async () => {
      const certs = await call("QueryCertificateList", { apiversion: 2, wide: 1, limit: 3 });
      const manualCerts = fixture("9.1.23-QueryCertificateList.reply.txt");
      expect(all(certs, "column")).toEqual(all(manualCerts, "column"));
      expect(names(certs)).toEqual(names(manualCerts));
      expect(all(certs, "created date")[0]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);

      const orders = await call("QueryCertificateOrderList", { apiversion: 2, wide: 1, limit: 2 });
      const manualOrders = fixture("9.1.31-QueryCertificateOrderList.reply.txt");
      expect(all(orders, "column")).toEqual(all(manualOrders, "column"));
      expect(names(orders)).toEqual(names(manualOrders));

      const plain = await call("QueryCertificateList");
      expect(names(plain)).toEqual([
        "certificate",
        "column",
        "count",
        "first",
        "last",
        "limit",
        "total",
      ]);
      expect(plain.paging?.limit).toBe(1000);
    });

    it("pages with first and limit", async () => {
      const everything = all(await call("QueryCertificateList"), "certificate");
      expect(everything).toEqual([...everything].sort());
      const page = await call("QueryCertificateList", { first: 10, limit: 5 });
      expect(page.paging).toEqual({
        count: 5,
        first: 10,
        last: 14,
        limit: 5,
        total: everything.length,
      });
      expect(all(page, "certificate")).toEqual(everything.slice(10, 15));
      const beyond = await call("QueryCertificateList", { first: everything.length + 5 });
      expect(beyond.paging).toMatchObject({ count: 0, total: everything.length });
      expect((await call("QueryCertificateList", { limit: "ten" })).code).toBe(505);
    });

    it("filters with case-insensitive * and ? patterns", async () => {
      const active = await call("QueryCertificateList", { status: "ACTIVE", wide: 1 });
      expect(new Set(all(active, "status"))).toEqual(new Set(["active"]));
      const ssl = await call("QueryCertificateList", { class: "ssl*", wide: 1 });
      expect(all(ssl, "class").length).toBeGreaterThan(0);
      expect(new Set(all(ssl, "class"))).toEqual(new Set(["SSL123DV"]));
      const digicertK = await call("QueryCertificateList", { certificate: "?k*" });
      expect(all(digicertK, "certificate").every(id => id.startsWith("DK"))).toBe(true);
      const year = await call("QueryCertificateList", { createddate: "2026-*", wide: 1 });
      expect(all(year, "created date").every(d => d.startsWith("2026-"))).toBe(true);
      const net = await call("QueryCertificateList", { domain: "*.EXAMPLE.NET" });
      expect(all(net, "certificate").length).toBeGreaterThan(0);
      const none = await call("QueryCertificateList", { certificate: "NOPE*" });
      expect(none.paging).toMatchObject({ count: 0, total: 0 });
      const orders = await call("QueryCertificateOrderList", { status: "cancel*", wide: 1 });
      expect(new Set(all(orders, "status"))).toEqual(new Set(["canceled"]));
      const byOrder = await call("QueryCertificateList", {
        certificateorder: all(orders, "certificateorder")[0],
      });
      expect(byOrder.paging?.total).toBe(1);
    });

    it("sorts with orderby and order", async () => {
      const desc = await call("QueryCertificateList", {
        orderby: "CREATEDDATE",
        order: "DESC",
        wide: 1,
      });
      const dates = all(desc, "created date");
      expect(dates).toEqual([...dates].sort().reverse());
      const orders = await call("QueryCertificateOrderList", { orderby: "paid_until", wide: 1 });
      const paid = all(orders, "paid until");
      expect(paid).toEqual([...paid].sort());
      expect((await call("QueryCertificateList", { order: "UP" })).code).toBe(505);
    });

    it("shows seeded reissues and renewals", async () => {
      const orders = rows(await call("QueryCertificateOrderList", { wide: 1 }));
      const details = await Promise.all(
        orders.map(o => call("StatusCertificateOrder", { certificateorder: o.certificateorder })),
      );
      expect(details.some(d => all(d, "certificate").length === 2)).toBe(true);
      expect(details.some(d => first(d, "renewal of") !== "")).toBe(true);
      expect(details.some(d => first(d, "renewed by") !== "")).toBe(true);
      const events = await call("QueryEventList", { subclass: "REISSUE_SUCCESSFUL" });
      expect(events.paging?.total).toBeGreaterThan(0);
    });
  });

  describe("QueryCommandSyntax", () => {
    it("lists the commands and the parameters of one, narrowed to a class", async () => {
      const commands = await call("QueryCommandSyntax");
      expect(all(commands, "commandname")).toContain("AddCertificate");
      const add = rows(await call("QueryCommandSyntax", { commandname: "addcertificate" }));
      expect(add.find(r => r.parameter === "CLASS")).toMatchObject({
        optional: "0",
        commandname: "AddCertificate",
      });
      expect(add.find(r => r.parameter === "DOMAIN")).toMatchObject({ quantity: "0..250" });

      const sectigo = rows(
        await call("QueryCommandSyntax", { commandname: "AddCertificate", class: "positivessldv" }),
      );
      expect(sectigo.find(r => r.parameter === "DCVMETHOD")?.type).toBe(
        "EMAIL|DNS-CNAME|HTTP|HTTPS",
      );
      expect(sectigo.find(r => r.parameter === "SERVERTYPE")?.type).toBe(
        "apache|cpanel|java|iis56|iis7|nginx|oracle|other",
      );
      expect(sectigo.find(r => r.parameter === "TECHCONTACT")?.optional).toBe("0");
      expect(sectigo.find(r => r.parameter === "DCVTOKEN")).toBeUndefined();
      expect(sectigo.find(r => r.parameter === "ORGANIZATIONCONTACT")).toBeUndefined();
      expect(sectigo.find(r => r.parameter === "DOMAIN")?.quantity).toBe("0..1");

      expect((await call("QueryCommandSyntax", { commandname: "Teleport" })).code).toBe(545);
    });
  });
});
