import { readFileSync } from "node:fs";
import path from "node:path";
import {
  decodeReply,
  encodeReply,
  type ReplyProperty,
  type WireReply,
} from "../../src/upstream/codec";
import {
  decodeCertificate,
  decodeCertificateRows,
  decodeCheck,
  decodeClass,
  decodeClassName,
  decodeClassNames,
  decodeContact,
  decodeContactRows,
  decodeCreatedContact,
  decodeDate,
  decodeDcvMethod,
  decodeOrder,
  decodeOrderRows,
  decodeQuote,
  decodeStatus,
  fromStoredReply,
  RecordDecodeError,
  toCertificateRow,
  toStoredReply,
} from "../../src/upstream/records";

const WIRE = path.join(__dirname, "../fixtures/wire");

function fixture(name: string): WireReply {
  return decodeReply(readFileSync(path.join(WIRE, name), "utf8"));
}

function reply(properties: readonly ReplyProperty[]): WireReply {
  return decodeReply(
    encodeReply({ code: 200, description: "Command completed successfully", properties }),
  );
}

describe("decodeDate", () => {
  it("reads dates with and without the trailing .0 as UTC", () => {
    expect(decodeDate("2022-06-27 13:05:54.0")?.toISOString()).toBe("2022-06-27T13:05:54.000Z");
    expect(decodeDate("2022-06-27 13:05:54")?.toISOString()).toBe("2022-06-27T13:05:54.000Z");
    expect(decodeDate("2022-06-27")?.toISOString()).toBe("2022-06-27T00:00:00.000Z");
  });

  it("reads empty, zero and unreadable dates as null", () => {
    expect(decodeDate("")).toBeNull();
    expect(decodeDate(undefined)).toBeNull();
    expect(decodeDate("0000-00-00 00:00:00")).toBeNull();
    expect(decodeDate("yesterday")).toBeNull();
  });
});

describe("decodeClassName", () => {
  it("lower-cases class names and maps the provider's older names", () => {
    expect(decodeClassName("SSL123DV")).toBe("ssl123dv");
    expect(decodeClassName("RAPIDSSLDV")).toBe("rapidssldv");
    expect(decodeClassName("RapidSSL")).toBe("rapidssldv");
  });
});

describe("decodeStatus", () => {
  it("keeps the statuses of manual 9.4 and maps version 1 spellings", () => {
    expect(decodeStatus("cancel_processing")).toBe("cancel_processing");
    expect(decodeStatus("ACTIVE")).toBe("active");
    expect(decodeStatus("CANCELLED")).toBe("canceled");
    expect(decodeStatus("REQUESTED")).toBe("processing");
  });

  it("refuses a status with no meaning", () => {
    expect(() => decodeStatus("exploded")).toThrow(RecordDecodeError);
  });
});

describe("decodeDcvMethod", () => {
  it("reads every spelling of the methods", () => {
    expect(decodeDcvMethod("DNS-TXT")).toBe("dns-txt");
    expect(decodeDcvMethod("dns_cname")).toBe("dns-cname");
    expect(decodeDcvMethod("FILE")).toBe("http");
    expect(decodeDcvMethod("")).toBeNull();
  });
});

describe("decodeClass", () => {
  it("decodes GetCertificateInfo CLASS=SSL123DV (9.1.2)", () => {
    const klass = decodeClass(fixture("9.1.2-GetCertificateInfo.reply.txt"));

    expect(klass).toMatchObject({
      name: "ssl123dv",
      displayName: "SSL123DV",
      brand: "DigiCert",
      supplier: "DIGICERT",
      validationType: "DV",
      wildcard: true,
      san: true,
      includedDomains: 1,
      maxDomains: 250,
      maxFreeAlternatives: 3,
      dcvMethods: ["email", "dns-txt", "dns-cname", "http", "https"],
      techContact: "MANDATORY",
      organizationContact: "NO",
      evApproverContact: "NO",
      periods: ["1y"],
      immediateIssuance: true,
      prefix: "DK",
    });
    expect(klass.serverTypes).toContain("nginx");
  });

  it("reads missing flags as not supported and names the class asked for", () => {
    const klass = decodeClass(reply([["type", ["EV"]]]), "webserverev");

    expect(klass).toMatchObject({
      name: "webserverev",
      validationType: "EV",
      wildcard: false,
      dcvMethods: ["email"],
      techContact: "NO",
      periods: ["1y"],
    });
  });

  it("lists the class names of GetCertificateInfo without CLASS (9.1.1)", () => {
    const names = decodeClassNames(
      reply([
        ["class", ["GEOTRUSTFLEXDV", "ssl123dv"]],
        ["column", ["class"]],
      ]),
    );

    expect(names).toEqual(["geotrustflexdv", "ssl123dv"]);
  });
});

describe("decodeCertificate", () => {
  it("decodes a pending DNS certificate (9.1.21) with parallel DCV arrays", () => {
    const cert = decodeCertificate(fixture("9.1.21-StatusCertificate.reply.txt"));

    expect(cert).toMatchObject({
      id: "DD12345678",
      status: "processing",
      className: "ssl123dv",
      orderId: "DD012345678",
      domains: ["example.com", "www.example.com"],
      serverType: "apache",
      techContactId: "CC-12345678",
      crt: null,
      expiresAt: null,
    });
    expect(cert.validations[1]).toMatchObject({
      domain: "www.example.com",
      dcvDomain: "example.com",
      method: "dns-cname",
    });
    expect(cert.validations[1]?.dnsRecord).toContain("IN CNAME");
    expect(cert.createdAt?.toISOString()).toBe("2022-01-18T14:20:09.000Z");
    expect(cert.csr).toMatch(
      /^-----BEGIN CERTIFICATE REQUEST-----\n[\s\S]+-----END CERTIFICATE REQUEST-----\n$/,
    );
  });

  it("decodes an issued certificate (9.1.22) with its PEM material joined by lines", () => {
    const cert = decodeCertificate(fixture("9.1.22-StatusCertificate.reply.txt"));

    expect(cert.status).toBe("active");
    expect(cert.crt).toMatch(/^-----BEGIN CERTIFICATE-----\nMIIElTCCA32g/);
    expect(cert.crt?.endsWith("-----END CERTIFICATE-----\n")).toBe(true);
    expect(cert.intermediate).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(cert.root).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(cert.expiresAt?.toISOString()).toBe("2022-03-10T23:59:59.000Z");
    expect(cert.validations.map(v => [v.dcvDomain, v.method, v.email])).toEqual([
      ["example.com", "email", "admin@example.com"],
      ["www.example.com", "email", "admin@example.com"],
    ]);
  });

  it("decodes the reply of an order with HTTP validation (9.1.18)", () => {
    const cert = decodeCertificate(fixture("9.1.18-AddCertificate.reply.txt"));

    expect(cert.validations[0]).toMatchObject({
      method: "http",
      fileName: "https://example.com/.well-known/pki-validation/fileauth.txt",
      fileContents: "5d00kd5l6w9yvvt8k2srgj1kjy643fz",
    });
    expect(cert.orderPaidUntil?.toISOString()).toBe("2023-07-04T12:35:40.000Z");
  });

  it("reads the order id of a renewal reply from certificateorder (9.1.24)", () => {
    const cert = decodeCertificate(
      reply([
        ["certificate", ["DK87654321"]],
        ["certificateorder", ["DK012345678"]],
        ["status", ["processing"]],
      ]),
    );

    expect(cert.orderId).toBe("DK012345678");
  });

  it("tolerates a reply with nothing but an id", () => {
    const cert = decodeCertificate(reply([["certificate", ["DK1"]]]));

    expect(cert).toMatchObject({
      id: "DK1",
      status: "processing",
      domains: [],
      validations: [],
      orderId: null,
      csr: null,
      techContactId: null,
      createdAt: null,
    });
  });

  it("refuses a reply without a certificate id", () => {
    expect(() => decodeCertificate(reply([["status", ["active"]]]))).toThrow(RecordDecodeError);
  });

  it("projects a full record onto the list row", () => {
    const cert = decodeCertificate(fixture("9.1.22-StatusCertificate.reply.txt"));

    expect(toCertificateRow(cert)).toEqual({
      id: "DK12345678",
      status: "active",
      className: "ssl123dv",
      orderId: "DK012345678",
      serverType: "apache",
      createdAt: cert.createdAt,
      updatedAt: cert.updatedAt,
      expiresAt: cert.expiresAt,
    });
  });
});

describe("decodeCertificateRows", () => {
  it("decodes the wide list (9.1.23) and its paging figures", () => {
    const page = decodeCertificateRows(fixture("9.1.23-QueryCertificateList.reply.txt"));

    expect(page.total).toBe(3);
    expect(page.first).toBe(0);
    expect(page.items.map(row => [row.id, row.status, row.className, row.orderId])).toEqual([
      ["DD12345675", "processing", "rapidssldv", "DD012345675"],
      ["DD12345676", "canceled", "rapidsslvd", "DD12345676"],
      ["DK12345677", "processing", "ssl123dv", "DK012345677"],
    ]);
    expect(page.items[0]?.expiresAt).toBeNull();
    expect(page.items[2]?.createdAt?.toISOString()).toBe("2022-06-27T13:05:54.000Z");
  });
});

describe("decodeOrder", () => {
  it("decodes StatusCertificateOrder (9.1.30), its certificates in order", () => {
    const order = decodeOrder(fixture("9.1.30-StatusCertificateOrder.reply.txt"));

    expect(order).toMatchObject({
      id: "DD012345678",
      status: "active",
      className: "rapidssldv",
      ca: "DigiCert",
    });
    expect(order.certificates).toEqual([
      { id: "DD12345678", status: "expired", expiresAt: new Date("2022-01-18T13:33:32.000Z") },
      { id: "DD23456789", status: "processing", expiresAt: null },
    ]);
    expect(order.paidUntil?.toISOString()).toBe("2023-01-18T13:33:32.000Z");
  });

  it("decodes the order list (9.1.31)", () => {
    const page = decodeOrderRows(fixture("9.1.31-QueryCertificateOrderList.reply.txt"));

    expect(page.total).toBe(7);
    expect(page.items).toHaveLength(2);
    expect(page.items[1]).toMatchObject({ id: "DD023456789", className: "rapidssldv" });
    expect(page.items[1]?.paidUntil?.toISOString()).toBe("2023-01-18T14:20:09.000Z");
  });
});

describe("decodeContact", () => {
  it("decodes StatusCertificateContact (9.1.12), which does not repeat the id", () => {
    const contact = decodeContact(
      fixture("9.1.12-StatusCertificateContact.reply.txt"),
      "CC-23456789",
    );

    expect(contact).toMatchObject({
      id: "CC-23456789",
      type: "tech",
      firstName: "Max",
      lastName: "Mustermann",
      jobTitle: null,
      email: "max@example.org",
      phone: "+1.5552345678",
      organization: null,
    });
    expect(contact.createdAt?.toISOString()).toBe("2022-07-05T12:35:43.000Z");
  });

  it("decodes the wide contact list (9.1.11) with organization data", () => {
    const page = decodeContactRows(fixture("9.1.11-QueryCertificateContactList.reply.txt"));

    expect(page.total).toBe(8);
    expect(page.items[0]).toMatchObject({
      id: "CC-12345678",
      type: "organization",
      organization: { name: "Example Corp.", dba: "Domain company Inc.", country: "US" },
    });
    expect(page.items[0]?.status).toBeUndefined();
    expect(page.items[1]).toMatchObject({ id: "CC-23456789", type: "tech", organization: null });
  });

  it("decodes the reply of AddCertificateContact (9.1.7)", () => {
    expect(decodeCreatedContact(fixture("9.1.7-AddCertificateContact.reply.txt"))).toEqual({
      id: "CC-12345678",
      status: "unverified",
    });
  });
});

describe("decodeCheck", () => {
  it("pairs approver addresses with their domains (9.1.5)", () => {
    const check = decodeCheck(fixture("9.1.5-CheckCertificate.reply.txt"));

    expect(check.approverEmails).toHaveLength(10);
    expect(check.approverEmails[0]).toEqual({
      domain: "example.com",
      email: "postmaster@example.com",
    });
    expect(check.approverEmails[9]).toEqual({
      domain: "example.org",
      email: "postmaster@example.org",
    });
    expect(check.csr).toBeNull();
    expect(check.crt).toBeNull();
    expect(check.dcvToken).toBeNull();
  });

  it("reads CSR and CRT details and the DCV token (9.1.6, 9.1.20)", () => {
    const check = decodeCheck(
      reply([
        ["csr commonname", ["example.com"]],
        ["csr public key algorithm", ["rsaEncryption"]],
        ["csr public key size", [4096]],
        ["csr subject country", ["US"]],
        ["crt serial", ["00:aa:bb"]],
        ["crt validity not after", ["2023-07-08 23:59:59"]],
        ["crt validity not before", ["2022-07-08 00:00:00"]],
        ["crt san", ["example.com", "www.example.com"]],
        ["dcv token", ["tok123"]],
      ]),
    );

    expect(check.csr).toMatchObject({
      commonName: "example.com",
      keyAlgorithm: "rsaEncryption",
      keySize: 4096,
      country: "US",
    });
    expect(check.crt).toMatchObject({
      serialNumber: "00:aa:bb",
      subjectAltNames: ["example.com", "www.example.com"],
    });
    expect(check.crt?.notAfter?.toISOString()).toBe("2023-07-08T23:59:59.000Z");
    expect(check.dcvToken).toBe("tok123");
  });
});

describe("decodeQuote", () => {
  it("decodes a multi-domain quote (9.1.14) with amounts as decimal strings", () => {
    const quote = decodeQuote(fixture("9.1.14-AddCertificate.reply.txt"));

    expect(quote.lines).toEqual([
      { billingType: "ssl123dv-san", count: 2 },
      { billingType: "ssl123dv-base", count: 1 },
    ]);
    expect(quote.domains).toHaveLength(6);
    expect(quote.price).toBe("98");
    expect(quote.vat).toBe("15.68");
  });
});

describe("toStoredReply", () => {
  it("round-trips a reply through JSON", () => {
    const original = fixture("9.1.16-AddCertificate.reply.txt");

    const stored = JSON.parse(JSON.stringify(toStoredReply(original))) as ReturnType<
      typeof toStoredReply
    >;

    expect(decodeCertificate(fromStoredReply(stored))).toEqual(decodeCertificate(original));
  });
});
