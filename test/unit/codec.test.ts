import { readdirSync } from "node:fs";
import {
  decodeCommand,
  decodeReply,
  encodeCommand,
  encodeReply,
  encodeRequest,
  encodeSessionRequest,
  indexedParameter,
  multiline,
  normalizeName,
  rows,
  splitLines,
  value,
  values,
  WireFormatError,
  type WireReply,
} from "../../src/upstream/codec";
import { toWireCommand } from "../../src/upstream/commands";
import { readFixture, readRequestFixture, WIRE_FIXTURES } from "../helpers/wire";

function fixtureReply(name: string): WireReply {
  return decodeReply(readFixture(name));
}

/** A reply as plain data, for equality across spellings and encodings. */
function plain(reply: WireReply) {
  return {
    code: reply.code,
    description: reply.description,
    runtime: reply.runtime,
    queuetime: reply.queuetime,
    properties: Object.fromEntries(reply.properties),
    columns: reply.columns,
    paging: reply.paging,
  };
}

const REPLY_FIXTURES = readdirSync(WIRE_FIXTURES)
  .filter(name => name.endsWith(".reply.txt"))
  .sort();

describe("decodeReply on the manual's worked examples (9.1)", () => {
  it("has the fixtures of the sections the client relies on", () => {
    const sections = REPLY_FIXTURES.map(name => name.split("-")[0]);
    expect(sections).toEqual(
      expect.arrayContaining([
        "9.1.2",
        "9.1.10",
        "9.1.11",
        "9.1.12",
        "9.1.13",
        "9.1.14",
        "9.1.16",
        "9.1.17",
        "9.1.18",
        "9.1.21",
        "9.1.22",
        "9.1.23",
        "9.1.30",
        "9.1.31",
      ]),
    );
  });

  it.each(REPLY_FIXTURES)("decodes %s as a successful reply", name => {
    const reply = fixtureReply(name);

    expect(reply.code).toBe(200);
    expect(reply.description).toBe("Command completed successfully");
    expect(reply.runtime).toBeGreaterThan(0);
  });

  it.each(REPLY_FIXTURES)("gives the same reply for %s after encodeReply", name => {
    const reply = fixtureReply(name);

    const again = decodeReply(
      encodeReply({
        code: reply.code,
        description: reply.description,
        runtime: reply.runtime,
        queuetime: reply.queuetime,
        properties: [...reply.properties],
      }),
    );

    expect(plain(again)).toEqual(plain(reply));
  });

  it("reads a class's details with names as the manual spells them (9.1.2 GetCertificateInfo)", () => {
    const reply = fixtureReply("9.1.2-GetCertificateInfo.reply.txt");

    expect(reply.runtime).toBe(0.052);
    expect(reply.queuetime).toBe(0.007);
    expect(value(reply, "dcv dns cname")).toBe("1");
    expect(value(reply, "DCVDNSCNAME")).toBe("1");
    expect(value(reply, "Max Free Alternatives")).toBe("3");
    expect(values(reply, "server type").slice(0, 3)).toEqual(["barracuda", "lighttpd", "apache"]);
    expect(values(reply, "server type")).toHaveLength(33);
    expect(value(reply, "techcontact")).toBe("MANDATORY");
    expect(reply.columns).toEqual([]);
    expect(reply.paging).toBeUndefined();
  });

  it("reads a list's column, rows and paging (9.1.10 QueryCertificateContactList)", () => {
    const reply = fixtureReply("9.1.10-QueryCertificateContactList.reply.txt");

    expect(reply.columns).toEqual(["certificatecontact"]);
    expect(reply.paging).toEqual({ count: 7, first: 0, last: 6, limit: 1000, total: 8 });
    expect(rows(reply)).toHaveLength(7);
    expect(rows(reply)[6]).toEqual({ certificatecontact: "CC-78912345" });
  });

  it("reads a wide list into rows keyed by normalised column (9.1.11 QueryCertificateContactList)", () => {
    const reply = fixtureReply("9.1.11-QueryCertificateContactList.reply.txt");
    const [organization, tech] = rows(reply);

    expect(reply.columns).toHaveLength(18);
    expect(reply.columns.slice(0, 4)).toEqual([
      "certificatecontact",
      "type",
      "jobtitle",
      "firstname",
    ]);
    expect(reply.paging).toEqual({ count: 2, first: 0, last: 1, limit: 2, total: 8 });
    expect(organization).toMatchObject({
      certificatecontact: "CC-12345678",
      type: "organization",
      jobtitle: "",
      organizationname: "Example Corp.",
      organizationzip: "94102",
      createddate: "2022-01-18 14:20:09",
    });
    expect(tech).toMatchObject({
      certificatecontact: "CC-23456789",
      type: "tech",
      organizationname: "",
      email: "max@example.com",
    });
    expect(Object.keys(tech!)).toEqual(reply.columns);
  });

  it("keeps empty values as empty strings and ignores EOF (9.1.12 StatusCertificateContact)", () => {
    const reply = fixtureReply("9.1.12-StatusCertificateContact.reply.txt");

    expect(value(reply, "job title")).toBe("");
    expect(value(reply, "organization name")).toBe("");
    expect(value(reply, "created by")).toBe("<registrar>");
    expect(value(reply, "created date")).toBe("2022-07-05 12:35:43.0");
    expect(value(reply, "eof")).toBeUndefined();
    expect(reply.queuetime).toBeUndefined();
    expect(reply.properties.size).toBe(19);
  });

  it("reads a single-domain quote (9.1.13 AddCertificate CHECKONLY)", () => {
    const reply = fixtureReply("9.1.13-AddCertificate.reply.txt");

    expect(values(reply, "domain")).toEqual(["example.com", "www.example.com"]);
    expect(value(reply, "price")).toBe("42");
    expect(value(reply, "vat")).toBe("6.72");
    expect(value(reply, "billingtype")).toBe("ssl123dv-base");
  });

  it("keeps billing lines parallel (9.1.14 AddCertificate CHECKONLY, multi domain)", () => {
    const reply = fixtureReply("9.1.14-AddCertificate.reply.txt");

    expect(values(reply, "billingtype")).toEqual(["ssl123dv-san", "ssl123dv-base"]);
    expect(values(reply, "billingcount")).toEqual(["2", "1"]);
    expect(values(reply, "domain")).toEqual([
      "example.com",
      "example.net",
      "ftp.example.org",
      "www.example.com",
      "www.example.net",
      "www.ftp.example.org",
    ]);
    expect(reply.queuetime).toBe(0.2);
  });

  it("joins the CSR lines into a PEM (9.1.16 AddCertificate, email validation)", () => {
    const reply = fixtureReply("9.1.16-AddCertificate.reply.txt");
    const csr = multiline(reply, "csr")!;
    const lines = csr.split("\n");

    expect(lines[0]).toBe("-----BEGIN CERTIFICATE REQUEST-----");
    expect(lines[1]).toBe("MIIErDCCApQCAQAwZzELMAkGA1UEBhMCREUxETAPBgNVBAGMCFNhYXJsYW5kMRQw");
    expect(csr.endsWith("-----END CERTIFICATE REQUEST-----\n")).toBe(true);
    expect(lines).toHaveLength(28);
    expect(values(reply, "dcv email")).toEqual([
      "hostmaster@example.com",
      "hostmaster@example.com",
    ]);
    expect(values(reply, "dcv domain")).toEqual(["example.com", "example.com"]);
    expect(value(reply, "created by")).toBe("[registrar]");
    expect(value(reply, "certificate")).toBe("DK67473099");
    expect(value(reply, "status")).toBe("processing");
  });

  it("reads DNS records with blanks in their values (9.1.17 AddCertificate, dns validation)", () => {
    const reply = fixtureReply("9.1.17-AddCertificate.reply.txt");

    expect(values(reply, "dns rr")).toEqual([
      "@ 3600 IN TXT bk5yp3dh9xrb94byhhny76dhxt0wdkn4",
      "@ 3600 IN TXT bk5yp3dh9xrb94byhhny76dhxt0wdkn4",
    ]);
    expect(values(reply, "DCV Method")).toEqual(["dns-txt", "dns-txt"]);
  });

  it("reads file validation data (9.1.18 AddCertificate, http validation)", () => {
    const reply = fixtureReply("9.1.18-AddCertificate.reply.txt");

    expect(values(reply, "file name")).toEqual([
      "https://example.com/.well-known/pki-validation/fileauth.txt",
      "https://example.com/.well-known/pki-validation/fileauth.txt",
    ]);
    expect(value(reply, "file contents")).toBe("5d00kd5l6w9yvvt8k2srgj1kjy643fz");
    expect(reply.queuetime).toBeUndefined();
  });

  it("reads a pending certificate (9.1.21 StatusCertificate)", () => {
    const reply = fixtureReply("9.1.21-StatusCertificate.reply.txt");

    expect(value(reply, "status")).toBe("processing");
    expect(value(reply, "expiration date")).toBe("");
    expect(multiline(reply, "cert")).toBeUndefined();
    expect(multiline(reply, "csr")!.split("\n")).toHaveLength(18);
    expect(values(reply, "dns rr")[1]).toBe(
      "m278fkyc6xmxyf1x2zwh6st7ch0866f9.www.example.com. IN CNAME dcv.digicert.com",
    );
  });

  it("joins certificate, intermediate and root of an issued certificate (9.1.22 StatusCertificate)", () => {
    const reply = fixtureReply("9.1.22-StatusCertificate.reply.txt");

    for (const [name, count] of [
      ["cert", 27],
      ["intermediate", 27],
      ["root", 22],
    ] as const) {
      const pem = multiline(reply, name)!;
      expect(pem).toMatch(
        /^-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+\n-----END CERTIFICATE-----\n$/,
      );
      expect(pem.trimEnd().split("\n")).toHaveLength(count);
    }
    expect(value(reply, "status")).toBe("active");
    expect(value(reply, "expiration date")).toBe("2022-03-10 23:59:59");
  });

  it("reads a wide certificate list (9.1.23 QueryCertificateList)", () => {
    const reply = fixtureReply("9.1.23-QueryCertificateList.reply.txt");
    const list = rows(reply);

    expect(reply.columns).toEqual([
      "certificate",
      "status",
      "certificateorder",
      "servertype",
      "createddate",
      "updateddate",
      "expirationdate",
      "class",
    ]);
    expect(list.map(row => row.status)).toEqual(["processing", "canceled", "processing"]);
    expect(list[1]).toMatchObject({
      certificate: "DD12345676",
      expirationdate: "",
      servertype: "apache",
    });
    expect(reply.paging).toEqual({ count: 3, first: 0, last: 2, limit: 1000, total: 3 });
  });

  it("appends values in order of appearance, the index being informative (9.1.30 StatusCertificateOrder)", () => {
    const reply = fixtureReply("9.1.30-StatusCertificateOrder.reply.txt");

    // The manual's example writes index 0 twice: the SDKs append, so the second is the second.
    expect(values(reply, "certificate expiration date")).toEqual(["2022-01-18 13:33:32.0", ""]);
    expect(values(reply, "certificate")).toEqual(["DD12345678", "DD23456789"]);
    expect(values(reply, "certificate status")).toEqual(["expired", "processing"]);
    expect(reply.paging).toBeUndefined();
  });

  it("reads an order list (9.1.31 QueryCertificateOrderList)", () => {
    const reply = fixtureReply("9.1.31-QueryCertificateOrderList.reply.txt");

    expect(rows(reply)).toEqual([
      {
        certificateorder: "DD012345678",
        paiduntil: "2023-01-18 13:33:32",
        status: "processing",
        class: "RAPIDSSLDV",
        createddate: "2022-01-18 13:33:32",
        updateddate: "2022-01-18 14:07:47",
      },
      {
        certificateorder: "DD023456789",
        paiduntil: "2023-01-18 14:20:09",
        status: "processing",
        class: "RAPIDSSLDV",
        createddate: "2022-01-18 14:20:09",
        updateddate: "2022-07-01 12:39:00",
      },
    ]);
    expect(reply.paging).toEqual({ count: 2, first: 0, last: 1, limit: 2, total: 7 });
  });

  it("reads a reply without properties (9.1.26 RevokeCertificate)", () => {
    const reply = fixtureReply("9.1.26-RevokeCertificate.reply.txt");

    expect(reply.properties.size).toBe(0);
    expect(reply.columns).toEqual([]);
    expect(reply.paging).toBeUndefined();
    expect(rows(reply)).toEqual([]);
    expect(reply.runtime).toBe(2.121);
  });
});

describe("decodeReply tolerance", () => {
  const reference = readFixture("9.1.21-StatusCertificate.reply.txt");

  it("accepts CRLF line ends", () => {
    expect(plain(decodeReply(reference.replace(/\n/g, "\r\n")))).toEqual(
      plain(decodeReply(reference)),
    );
  });

  it("accepts a Buffer", () => {
    expect(plain(decodeReply(Buffer.from(reference, "utf8")))).toEqual(
      plain(decodeReply(reference)),
    );
  });

  it("accepts a body without [RESPONSE] and EOF", () => {
    const bare = readFixture("9.1.12-StatusCertificateContact.reply.txt")
      .split("\n")
      .filter(line => line !== "[RESPONSE]" && line !== "EOF")
      .join("\n");

    expect(plain(decodeReply(bare))).toEqual(
      plain(fixtureReply("9.1.12-StatusCertificateContact.reply.txt")),
    );
  });

  it("ignores blank lines and lines without '='", () => {
    const reply = decodeReply(
      "\n\n[RESPONSE]\n\ncode = 200\n  \ndescription = OK\nnot a line of the protocol\nproperty[domain][0] = example.com\n\nEOF\n\n",
    );

    expect(reply.code).toBe(200);
    expect(values(reply, "domain")).toEqual(["example.com"]);
    expect(reply.properties.size).toBe(1);
  });

  it("matches top-level keys and property names case-insensitively", () => {
    const reply = decodeReply(
      "[response]\nCODE = 545\nDESCRIPTION = Entity reference not found\nRUNTIME = 0.1\nPROPERTY[Status][0] = active\neof\n",
    );

    expect(reply.code).toBe(545);
    expect(reply.description).toBe("Entity reference not found");
    expect(reply.runtime).toBe(0.1);
    expect(value(reply, "status")).toBe("active");
  });

  it("treats 'dcv method', 'DCVMETHOD' and 'Dcv  Method' as one property, in order", () => {
    const reply = decodeReply(
      [
        "code = 200",
        "description = OK",
        "property[dcv method][0] = email",
        "property[DCVMETHOD][1] = dns-txt",
        "property[Dcv  Method][2] = http",
      ].join("\n"),
    );

    expect(values(reply, "dcv method")).toEqual(["email", "dns-txt", "http"]);
    expect(values(reply, "dcvmethod")).toEqual(["email", "dns-txt", "http"]);
    expect([...reply.properties.keys()]).toEqual(["dcvmethod"]);
  });

  it("splits at the first '=' only", () => {
    const reply = decodeReply(
      [
        "code = 505",
        "description = Invalid attribute value syntax; period=5 is not allowed",
        'property[dns rr][0] = _dnsauth.example.com. IN TXT "a=b=="',
        "property[dcv token][0] = ==token==",
      ].join("\n"),
    );

    expect(reply.description).toBe("Invalid attribute value syntax; period=5 is not allowed");
    expect(value(reply, "dns rr")).toBe('_dnsauth.example.com. IN TXT "a=b=="');
    expect(value(reply, "dcv token")).toBe("==token==");
  });

  it("trims blanks and tabs around keys and values", () => {
    const reply = decodeReply(
      "\tcode\t=\t200\t\ndescription =   Command completed successfully  \n property[domain][0]\t= \texample.com\t\n",
    );

    expect(reply.code).toBe(200);
    expect(reply.description).toBe("Command completed successfully");
    expect(values(reply, "domain")).toEqual(["example.com"]);
  });

  it("keeps empty values, and an empty description is still a description", () => {
    const reply = decodeReply("code = 200\ndescription =\nproperty[expiration date][0] =\n");

    expect(reply.description).toBe("");
    expect(values(reply, "expiration date")).toEqual([""]);
  });

  it("fills the paging figures that are absent (total falls back to count)", () => {
    const reply = decodeReply("code = 200\ndescription = OK\nproperty[count][0] = 4\n");

    expect(reply.paging).toEqual({ count: 4, first: 0, last: 0, limit: 0, total: 4 });
  });

  it("uses every property but the paging figures as columns when the reply names none", () => {
    const reply = decodeReply(
      [
        "code = 200",
        "description = OK",
        "property[event][0] = 11",
        "property[event][1] = 12",
        "property[class][0] = CERTIFICATE_REQUEST",
        "property[total][0] = 2",
      ].join("\n"),
    );

    expect(rows(reply)).toEqual([
      { event: "11", class: "CERTIFICATE_REQUEST" },
      { event: "12", class: "" },
    ]);
  });
});

describe("decodeReply rejects what is not a reply", () => {
  it.each([
    ["an empty body", ""],
    ["a blank body", " \r\n\n\t\n"],
    ["a body without code", "[RESPONSE]\ndescription = Command completed successfully\nEOF\n"],
    ["a body without description", "[RESPONSE]\ncode = 200\nEOF\n"],
    ["a non-numeric code", "code = OK\ndescription = fine\n"],
    ["a fractional code", "code = 200.5\ndescription = fine\n"],
    ["an HTML error page", "<html><body><h1>502 Bad Gateway</h1></body></html>"],
    ["a truncated reply", "[RESPONSE]\ncode = 200\ndescr"],
  ])("throws WireFormatError for %s", (_what, body) => {
    expect(() => decodeReply(body)).toThrow(WireFormatError);
  });

  it("says 'empty' for an empty body", () => {
    expect(() => decodeReply("")).toThrow("empty reply body");
  });
});

describe("value, values, multiline", () => {
  const reply = decodeReply(
    [
      "code = 200",
      "description = OK",
      "property[csr][0] = -----BEGIN CERTIFICATE REQUEST-----",
      "property[csr][1] =",
      "property[csr][2] = MIIB",
      "property[csr][3] = -----END CERTIFICATE REQUEST-----",
      "property[root][0] =",
    ].join("\n"),
  );

  it("answers undefined and [] for an absent property", () => {
    expect(value(reply, "cert")).toBeUndefined();
    expect(values(reply, "cert")).toEqual([]);
    expect(multiline(reply, "cert")).toBeUndefined();
  });

  it("joins with \\n, drops empty lines and ends with a newline", () => {
    expect(multiline(reply, "CSR")).toBe(
      "-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n",
    );
  });

  it("answers undefined for a property whose only value is empty", () => {
    expect(value(reply, "root")).toBe("");
    expect(multiline(reply, "root")).toBeUndefined();
  });
});

describe("encodeCommand", () => {
  it.each([
    ["9.1.21-StatusCertificate", toWireCommand("StatusCertificate", { certificate: "DD12345678" })],
    [
      "9.1.11-QueryCertificateContactList",
      toWireCommand("QueryCertificateContactList", { wide: 1, limit: 2 }),
    ],
    [
      "9.1.7-AddCertificateContact",
      toWireCommand("AddCertificateContact", {
        type: "tech",
        firstname: "Max",
        lastname: "Mustermann",
        email: "max@example.org",
        phone: "+1.5552345678",
      }),
    ],
    [
      "9.1.27-ResendNotification",
      toWireCommand("ResendNotification", { type: "certificate", object: "D12345678" }),
    ],
  ])("writes the golden frame %s", (name, command) => {
    expect(encodeCommand(command)).toBe(readRequestFixture(`${name}.request.txt`));
  });

  it("writes the golden order frame with the CSR one line per index (9.1.16 AddCertificate)", () => {
    const csr = multiline(fixtureReply("9.1.16-AddCertificate.reply.txt"), "csr")!;

    const frame = encodeCommand(
      toWireCommand("AddCertificate", {
        techcontact: ["P-ABC123"],
        class: "ssl123dv",
        dcvmethod: "email",
        domain: ["example.com"],
        dcvemail: ["hostmaster@example.com"],
        csr,
      }),
    );

    expect(frame).toBe(readRequestFixture("9.1.16-AddCertificate.request.txt"));
  });

  it("means what the manual's command block means (9.1.21, 9.1.11)", () => {
    const manual21 =
      "[COMMAND]\ncommand = StatusCertificate\napiversion = 2\ncertificate = DD12345678\nEOF\n";
    const manual11 =
      "[COMMAND]\ncommand = QueryCertificateContactList\napiversion = 2\nwide = 1\nlimit = 2\n";

    expect(decodeCommand(readRequestFixture("9.1.21-StatusCertificate.request.txt"))).toEqual(
      decodeCommand(manual21),
    );
    expect(
      decodeCommand(readRequestFixture("9.1.11-QueryCertificateContactList.request.txt")),
    ).toEqual(decodeCommand(manual11));
  });

  it("upper-cases keys and keeps values as given", () => {
    expect(encodeCommand({ command: "StatusCertificate", Certificate: "dk12345678" })).toBe(
      "COMMAND=StatusCertificate\nCERTIFICATE=dk12345678",
    );
  });

  it("sends lists as KEY0..n and leaves empty lists out", () => {
    expect(
      encodeCommand({
        command: "CheckCertificate",
        domain: ["a.example", "b.example", 3],
        dcvemail: [],
      }),
    ).toBe("COMMAND=CheckCertificate\nDOMAIN0=a.example\nDOMAIN1=b.example\nDOMAIN2=3");
  });

  it("strips CR and LF from values so no line can be injected", () => {
    const frame = encodeCommand({
      command: "StatusCertificate",
      certificate: "DK1\r\nCOMMAND=DeleteCertificate",
      domain: ["a\nb"],
    });

    expect(frame).toBe(
      "COMMAND=StatusCertificate\nCERTIFICATE=DK1COMMAND=DeleteCertificate\nDOMAIN0=ab",
    );
    expect(decodeCommand(frame).get("command")).toBe("StatusCertificate");
  });

  it("splits a PEM csr or crt into CSR0..n / CRT0..n, trimming lines and dropping blank ones", () => {
    const pem =
      "-----BEGIN CERTIFICATE REQUEST-----\r\n  MIIB  \r\n\r\nAAAA\n-----END CERTIFICATE REQUEST-----\n";

    expect(
      encodeCommand({ command: "CheckCertificate", csr: pem, crt: pem.replace(/ REQUEST/g, "") }),
    ).toBe(
      [
        "COMMAND=CheckCertificate",
        "CSR0=-----BEGIN CERTIFICATE REQUEST-----",
        "CSR1=MIIB",
        "CSR2=AAAA",
        "CSR3=-----END CERTIFICATE REQUEST-----",
        "CRT0=-----BEGIN CERTIFICATE-----",
        "CRT1=MIIB",
        "CRT2=AAAA",
        "CRT3=-----END CERTIFICATE-----",
      ].join("\n"),
    );
  });

  it("sends a single-line csr as CSR0, the only form the manual documents", () => {
    expect(encodeCommand({ command: "CheckCertificate", csr: "MIIB" })).toBe(
      "COMMAND=CheckCertificate\nCSR0=MIIB",
    );
  });

  it("writes booleans as 1/0 and numbers as digits", () => {
    expect(
      encodeCommand({
        command: "AddCertificate",
        checkonly: true,
        noautofilldomains: false,
        period: 2,
      }),
    ).toBe("COMMAND=AddCertificate\nCHECKONLY=1\nNOAUTOFILLDOMAINS=0\nPERIOD=2");
  });

  it("leaves undefined and null out and keeps empty strings", () => {
    expect(
      encodeCommand({
        command: "QueryCertificateList",
        status: undefined,
        class: null,
        domain: "",
      }),
    ).toBe("COMMAND=QueryCertificateList\nDOMAIN=");
  });

  it("keeps '=' inside values", () => {
    const frame = encodeCommand({ command: "AddCertificate", dcvtoken: "a=b==" });

    expect(frame).toBe("COMMAND=AddCertificate\nDCVTOKEN=a=b==");
    expect(decodeCommand(frame).get("dcvtoken")).toBe("a=b==");
  });
});

describe("toWireCommand", () => {
  it("adds APIVERSION=2 to SSL commands, right after the command name", () => {
    expect(encodeCommand(toWireCommand("QueryCertificateList", { wide: 1 }))).toBe(
      "COMMAND=QueryCertificateList\nAPIVERSION=2\nWIDE=1",
    );
  });

  it("leaves APIVERSION out of the general commands (events, sessions)", () => {
    expect(encodeCommand(toWireCommand("StatusEvent", { event: "42" }))).toBe(
      "COMMAND=StatusEvent\nEVENT=42",
    );
    expect(encodeCommand(toWireCommand("StopSession", {}))).toBe("COMMAND=StopSession");
  });
});

describe("encodeRequest and encodeSessionRequest", () => {
  const command = toWireCommand("StatusCertificate", { certificate: "DK12345678" });

  it("sends s_login, s_pw and s_command as a form, encoding special characters", () => {
    const form = new URLSearchParams(
      encodeRequest(command, { login: "reseller:role", password: "p&ss=w rd+%" }),
    );

    expect([...form.keys()]).toEqual(["s_login", "s_pw", "s_command"]);
    expect(form.get("s_login")).toBe("reseller:role");
    expect(form.get("s_pw")).toBe("p&ss=w rd+%");
    expect(form.get("s_command")).toBe(
      "COMMAND=StatusCertificate\nAPIVERSION=2\nCERTIFICATE=DK12345678",
    );
  });

  it("sends s_sessionid instead of the password in a session", () => {
    const form = new URLSearchParams(
      encodeRequest(command, { login: "reseller", sessionId: "abc" }),
    );

    expect(form.get("s_sessionid")).toBe("abc");
    expect(form.has("s_pw")).toBe(false);
  });

  it("opens a session with persistent=1 and no command", () => {
    const form = new URLSearchParams(encodeSessionRequest("reseller", "secret"));

    expect(Object.fromEntries(form)).toEqual({
      s_login: "reseller",
      s_pw: "secret",
      persistent: "1",
    });
  });
});

describe("encodeReply", () => {
  it("round-trips through decodeReply, multi-line values one line per index", () => {
    const pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    const text = encodeReply({
      code: 200,
      description: "Command completed successfully",
      runtime: 0.141,
      queuetime: 0.008,
      properties: [
        ["certificate", ["DK12345678"]],
        ["dcv method", ["email", "dns-txt"]],
        ["cert", splitLines(pem)],
        ["expiration date", [""]],
        ["dns rr", ['_x. IN TXT "a=b"']],
        ["count", [1]],
      ],
    });

    const reply = decodeReply(text);

    expect(text.startsWith("[RESPONSE]\ncode = 200\n")).toBe(true);
    expect(text.endsWith("EOF\n")).toBe(true);
    expect(reply.runtime).toBe(0.141);
    expect(values(reply, "DCVMETHOD")).toEqual(["email", "dns-txt"]);
    expect(multiline(reply, "cert")).toBe(pem);
    expect(value(reply, "expiration date")).toBe("");
    expect(value(reply, "dns rr")).toBe('_x. IN TXT "a=b"');
    expect(reply.paging?.count).toBe(1);
  });

  it("strips line breaks from values so no property can be injected", () => {
    const reply = decodeReply(
      encodeReply({
        code: 200,
        description: "OK",
        properties: [["status", ["active\nproperty[price][0] = 0"]]],
      }),
    );

    expect(values(reply, "price")).toEqual([]);
    expect(value(reply, "status")).toBe("activeproperty[price][0] = 0");
  });
});

describe("decodeCommand and indexedParameter", () => {
  const manual = [
    "[COMMAND]",
    "command = AddCertificate",
    "apiversion = 2",
    "Domain2 = ftp.example.org",
    "domain0 = example.com",
    "DOMAIN10 = ten.example",
    "domain1 =",
    "domainfoo = not an index",
    "dcvtoken=<token>",
    "csr0 = -----BEGIN CERTIFICATE REQUEST-----",
    "csr1 = MIIB",
    "EOF",
  ].join("\n");

  it("reads KEY=value lines into lower-case keys, with or without blanks around '='", () => {
    const params = decodeCommand(manual);

    expect(params.get("command")).toBe("AddCertificate");
    expect(params.get("apiversion")).toBe("2");
    expect(params.get("dcvtoken")).toBe("<token>");
    expect(params.has("[command]")).toBe(false);
    expect(params.has("eof")).toBe(false);
  });

  it("collects an indexed parameter in numeric index order, dropping empty values", () => {
    const params = decodeCommand(manual);

    expect(indexedParameter(params, "domain")).toEqual([
      "example.com",
      "ftp.example.org",
      "ten.example",
    ]);
    expect(indexedParameter(params, "CSR")).toEqual([
      "-----BEGIN CERTIFICATE REQUEST-----",
      "MIIB",
    ]);
    expect(indexedParameter(params, "dcvemail")).toEqual([]);
  });

  it("takes a single unindexed parameter first", () => {
    expect(indexedParameter(decodeCommand("domain1 = b\ndomain = a"), "domain")).toEqual([
      "a",
      "b",
    ]);
  });

  it("normalises names like the reply parser", () => {
    expect(normalizeName(" Dcv  Method\t")).toBe("dcvmethod");
  });
});
