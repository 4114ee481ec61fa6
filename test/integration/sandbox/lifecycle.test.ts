import { parseCertificate } from "../../../src/pki/x509";
import { type SandboxHandle, startSandbox } from "../../../src/sandbox/server";
import { decodeReply, type WireReply } from "../../../src/upstream/codec";
import { makeCsr, OPENSSL, runOpenssl } from "../../helpers/pki";
import { all, createSandboxClient, first, type SandboxClient } from "../../helpers/sandbox-client";
import { readFixture } from "../../helpers/wire";

const DAY = 86_400_000;
const START = new Date("2026-06-01T10:00:00Z");
const DELAY = 3000;

function names(reply: WireReply): string[] {
  return [...reply.properties.keys()].sort();
}

function fixtureNames(name: string): string[] {
  return names(decodeReply(readFixture(name)));
}

function pem(reply: WireReply, name: string): string {
  return `${all(reply, name).join("\n")}\n`;
}

describe("sandbox life cycle", () => {
  let sandbox: SandboxHandle;
  let client: SandboxClient;
  let now = START;
  const advance = (ms: number) => {
    now = new Date(now.getTime() + ms);
  };
  const { csrPem } = makeCsr({ commonName: "example.com" });
  const rekeyed = makeCsr({ commonName: "example.com", keySlot: "second" });

  const call = (command: string, args: Record<string, unknown> = {}) =>
    client.call({ command, ...args });
  const order = (extra: Record<string, unknown> = {}) =>
    call("AddCertificate", {
      class: "ssl123dv",
      domain: ["example.com"],
      csr: csrPem,
      techcontact0: "P-ABC123",
      ...extra,
    });
  const status = (certificate: string) => call("StatusCertificate", { certificate });
  const orderStatus = (certificateorder: string) =>
    call("StatusCertificateOrder", { certificateorder });
  const issued = async (extra: Record<string, unknown> = {}) => {
    const reply = await order(extra);
    expect(reply.code).toBe(200);
    advance(DELAY);
    return { certificate: first(reply, "certificate"), order: first(reply, "order") };
  };
  const eventsOf = async (objectId: string) => {
    const list = await call("QueryEventList");
    const ids = all(list, "event");
    const objects = all(list, "object_id");
    return ids
      .map((id, i) => ({
        id,
        object: objects[i],
        subclass: all(list, "eventsubclass")[i],
        date: all(list, "event_date")[i],
      }))
      .filter(e => e.object === objectId);
  };

  beforeAll(async () => {
    sandbox = await startSandbox({ port: 0, now: () => now, issuanceDelayMs: DELAY });
    client = createSandboxClient(sandbox.url, { login: "demo", password: "demo" });
  }, 30_000);

  afterAll(async () => {
    await sandbox.stop();
  });

  describe("issuance", () => {
    it("keeps an order processing until issuanceDelayMs, then issues it for real", async () => {
      now = START;
      const reply = await order({ dcvmethod: "dns-cname" });
      const certificate = first(reply, "certificate");
      const pending = await status(certificate);
      expect(names(pending)).toEqual(fixtureNames("9.1.21-StatusCertificate.reply.txt"));
      expect(first(pending, "status")).toBe("processing");
      expect(first(pending, "expiration date")).toBe("");
      expect(all(pending, "cert")).toEqual([]);

      advance(DELAY - 1);
      expect(first(await status(certificate), "status")).toBe("processing");
      advance(1);
      const active = await status(certificate);
      expect(first(active, "status")).toBe("active");
      expect(names(active)).toEqual(
        [
          ...fixtureNames("9.1.22-StatusCertificate.reply.txt").filter(n => n !== "dcvemail"),
          "dnsrr",
        ].sort(),
      );
      expect(first(active, "updated date")).toBe("2026-06-01 10:00:03.0");
      // 199 days since March 2026 (CA/B Forum), within the order's paid until.
      expect(first(active, "expiration date")).toBe("2026-12-17 10:00:03");

      const cert = parseCertificate(pem(active, "cert"));
      expect(cert.subjectAltNames).toEqual(["example.com", "www.example.com"]);
      expect(cert.notBefore.toISOString()).toBe("2026-06-01T10:00:03.000Z");
      expect(cert.notAfter.toISOString()).toBe("2026-12-17T10:00:03.000Z");
      expect(parseCertificate(pem(active, "intermediate")).subject).toContain("DigiCert");

      const orderReply = await orderStatus(first(reply, "order"));
      expect(names(orderReply)).toEqual(fixtureNames("9.1.30-StatusCertificateOrder.reply.txt"));
      expect(first(orderReply, "status")).toBe("active");
      expect(all(orderReply, "certificate status")).toEqual(["active"]);
      expect(all(orderReply, "certificate expiration date")).toEqual(["2026-12-17 10:00:03.0"]);
      expect(first(orderReply, "paid until")).toBe("2027-06-01 10:00:00.0");

      const events = await eventsOf(certificate);
      expect(events.map(e => [e.subclass, e.date])).toEqual([
        ["REQUEST_SUCCESSFUL", "2026-06-01 10:00:03"],
      ]);
    });

    (OPENSSL ? it : it.skip)(
      `issues a chain that openssl verify accepts${OPENSSL ? "" : " (skipped: openssl is not installed)"}`,
      async () => {
        const { certificate } = await issued();
        const reply = await status(certificate);
        const result = runOpenssl(
          [
            "verify",
            "-attime",
            String(Math.floor(now.getTime() / 1000)),
            "-CAfile",
            "root.pem",
            "-untrusted",
            "intermediate.pem",
            "cert.pem",
          ],
          {
            "root.pem": pem(reply, "root"),
            "intermediate.pem": pem(reply, "intermediate"),
            "cert.pem": pem(reply, "cert"),
          },
        );
        expect(result.stdout.trim()).toBe("cert.pem: OK");
        expect(result.status).toBe(0);
      },
    );

    it("validates at once on ResendNotification", async () => {
      const reply = await order({ dcvmethod: "http" });
      const certificate = first(reply, "certificate");
      const resend = await call("ResendNotification", { type: "CERTIFICATE", object: certificate });
      expect(resend.code).toBe(200);
      expect(first(await status(certificate), "status")).toBe("active");
      expect(
        (await call("ResendNotification", { type: "certificate", object: certificate })).code,
      ).toBe(547);
      expect(
        (await call("ResendNotification", { type: "domaintransfer", object: certificate })).code,
      ).toBe(541);
      expect(
        (await call("ResendNotification", { type: "certificate", object: "DK99999999" })).code,
      ).toBe(545);
      expect((await call("ResendNotification", { type: "certificate" })).code).toBe(504);
    });

    it("fails domains under .invalid: certificate and order failed, REQUEST_FAILED", async () => {
      const reply = await order({ domain: ["shop.example.invalid"] });
      const certificate = first(reply, "certificate");
      advance(DELAY);
      expect(first(await status(certificate), "status")).toBe("failed");
      expect(first(await orderStatus(first(reply, "order")), "status")).toBe("failed");
      expect((await eventsOf(certificate)).map(e => e.subclass)).toEqual(["REQUEST_FAILED"]);
      expect(
        (await call("CancelCertificateOrder", { certificateorder: first(reply, "order") })).code,
      ).toBe(547);

      const now2 = await order({ domain: ["example.invalid"] });
      await call("ResendNotification", { type: "certificate", object: first(now2, "certificate") });
      expect(first(await status(first(now2, "certificate")), "status")).toBe("failed");
    });
  });

  describe("immediate issuance", () => {
    it("issues within AddCertificate with a token of CheckCertificate generatedcvtoken=1", async () => {
      const check = await call("CheckCertificate", {
        generatedcvtoken: 1,
        class: "ssl123dv",
        csr: csrPem,
        domain0: "example.com",
      });
      expect(check.code).toBe(200);
      const token = first(check, "dcv token");
      expect(token).toMatch(/^[0-9a-z]{32}$/);
      expect(all(check, "dcv email")).toHaveLength(5);

      const reply = await order({ dcvmethod: "dns-txt", dcvtoken: token });
      expect(reply.code).toBe(200);
      expect(first(reply, "status")).toBe("active");
      expect(all(reply, "dns rr")).toEqual([`@ 3600 IN TXT ${token}`, `@ 3600 IN TXT ${token}`]);
      expect(parseCertificate(pem(reply, "cert")).subjectAltNames).toEqual([
        "example.com",
        "www.example.com",
      ]);
      expect(all(reply, "intermediate").length).toBeGreaterThan(2);
      expect(all(reply, "root").length).toBeGreaterThan(2);
      expect(first(reply, "expiration date")).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    });

    it("fails at once with 549 for a wrong token, creating and charging nothing", async () => {
      const before = (await call("QueryCertificateList")).paging?.total;
      const wrong = await order({ dcvmethod: "http", dcvtoken: "0".repeat(32) });
      expect(wrong.code).toBe(549);
      expect(wrong.description).toMatch(/^Command failed; dcvtoken: unknown token/);
      expect(first(wrong, "id")).toMatch(/^FAIL\d{7}$/);

      const token = first(
        await call("CheckCertificate", { generatedcvtoken: 1, class: "rapidssldv", csr: csrPem }),
        "dcv token",
      );
      const otherClass = await order({ dcvmethod: "http", dcvtoken: token });
      expect([otherClass.code, otherClass.description]).toEqual([
        549,
        "Command failed; dcvtoken: the token was generated for class rapidssldv, not ssl123dv",
      ]);
      const otherKey = await order({
        class: "rapidssldv",
        dcvmethod: "http",
        dcvtoken: token,
        csr: rekeyed.csrPem,
      });
      expect([otherKey.code, otherKey.description]).toEqual([
        549,
        "Command failed; dcvtoken: the token was generated for another CSR key",
      ]);
      expect((await call("QueryCertificateList")).paging?.total).toBe(before);

      advance(31 * DAY);
      const expired = await order({ class: "rapidssldv", dcvmethod: "http", dcvtoken: token });
      expect([expired.code, expired.description]).toEqual([
        549,
        "Command failed; dcvtoken: the token has expired (tokens are valid 30 days)",
      ]);
    });

    it("answers 541/504 where immediate issuance is not possible", async () => {
      const token = first(
        await call("CheckCertificate", { generatedcvtoken: 1, class: "ssl123dv", csr: csrPem }),
        "dcv token",
      );
      expect((await order({ dcvmethod: "email", dcvtoken: token })).code).toBe(541);
      expect(
        (
          await call("CheckCertificate", {
            generatedcvtoken: 1,
            class: "securesiteproov",
            csr: csrPem,
          })
        ).code,
      ).toBe(541);
      expect((await call("CheckCertificate", { generatedcvtoken: 1, csr: csrPem })).code).toBe(504);
      expect(
        (await call("CheckCertificate", { generatedcvtoken: 1, class: "ssl123dv" })).code,
      ).toBe(504);
    });
  });

  describe("reissue", () => {
    it("adds a new certificate to the same order; the original stays active", async () => {
      const original = await issued({ dcvmethod: "dns-txt" });
      const reply = await call("ReissueCertificate", {
        certificate: original.certificate,
        csr: rekeyed.csrPem,
      });
      expect(reply.code).toBe(200);
      expect(names(reply)).toEqual([
        "ca",
        "cacertificateid",
        "caorderid",
        "certificate",
        "class",
        "createdby",
        "createddate",
        "csr",
        "dcvdomain",
        "dcvmethod",
        "dnsrr",
        "domain",
        "order",
        "orderpaiduntil",
        "servertype",
        "status",
        "techcontact",
        "updatedby",
        "updateddate",
      ]);
      const reissue = first(reply, "certificate");
      expect(reissue).not.toBe(original.certificate);
      expect(first(reply, "order")).toBe(original.order);
      expect(first(reply, "status")).toBe("processing");
      expect(pem(reply, "csr")).toBe(rekeyed.csrPem);
      expect(first(await orderStatus(original.order), "status")).toBe("processing");
      expect((await call("ReissueCertificate", { certificate: original.certificate })).code).toBe(
        547,
      );
      expect((await call("ReissueCertificate", { certificate: reissue })).code).toBe(547);

      advance(DELAY);
      expect(first(await status(reissue), "status")).toBe("active");
      expect(first(await status(original.certificate), "status")).toBe("active");
      const orderReply = await orderStatus(original.order);
      expect(all(orderReply, "certificate")).toEqual([original.certificate, reissue]);
      expect(all(orderReply, "certificate status")).toEqual(["active", "active"]);
      expect(first(orderReply, "status")).toBe("active");
      expect((await eventsOf(reissue)).map(e => e.subclass)).toEqual(["REISSUE_SUCCESSFUL"]);
    });

    it("refuses Sectigo classes (541) and certificates that are not active (547)", async () => {
      const sectigo = await issued({ class: "positivessldv" });
      expect((await call("ReissueCertificate", { certificate: sectigo.certificate })).code).toBe(
        541,
      );
      const pending = await order();
      expect(
        (await call("ReissueCertificate", { certificate: first(pending, "certificate") })).code,
      ).toBe(547);
      expect((await call("ReissueCertificate", { certificate: "DK12345678" })).code).toBe(545);
    });

    it("reissues at once with a token for the new key", async () => {
      const original = await issued({ dcvmethod: "http" });
      const token = first(
        await call("CheckCertificate", {
          generatedcvtoken: 1,
          class: "ssl123dv",
          csr: rekeyed.csrPem,
        }),
        "dcv token",
      );
      const reply = await call("ReissueCertificate", {
        certificate: original.certificate,
        csr: rekeyed.csrPem,
        dcvtoken: token,
      });
      expect(first(reply, "status")).toBe("active");
      expect(all(reply, "file contents")[0]).toBe(token);
    });
  });

  describe("renewal", () => {
    it("orders a new certificate in a new order linked to the renewed one", async () => {
      const old = await issued({ dcvmethod: "dns-txt" });
      const oldPaidUntil = first(await orderStatus(old.order), "paid until");
      const quote = await call("RenewCertificate", { certificate: old.certificate, checkonly: 1 });
      expect(all(quote, "billingtype")).toEqual(["ssl123dv-base"]);
      expect(all(quote, "domain")).toEqual(["example.com", "www.example.com"]);

      const reply = await call("RenewCertificate", { certificate: old.certificate });
      expect(reply.code).toBe(200);
      const expected = [
        "billingcount",
        "billingtype",
        "ca",
        "cacertificateid",
        "caorderid",
        "certificate",
        "certificateorder",
        "class",
        "createdby",
        "createddate",
        "csr",
        "dcvdomain",
        "dcvmethod",
        "dnsrr",
        "domain",
        "orderpaiduntil",
        "servertype",
        "status",
        "techcontact",
        "updatedby",
        "updateddate",
      ];
      expect(names(reply)).toEqual([...expected, "price", "renewalof", "vat"].sort());
      const renewal = first(reply, "certificate");
      const renewalOrder = first(reply, "certificateorder");
      expect(renewalOrder).not.toBe(old.order);
      expect(first(reply, "renewal of")).toBe(old.certificate);
      expect(first(reply, "order paid until")).toBe(
        oldPaidUntil.replace(/^(\d{4})/, y => String(Number(y) + 1)),
      );
      expect(all(reply, "dcv method")).toEqual(["dns-txt", "dns-txt"]);

      expect(first(await status(old.certificate), "renewed by")).toBe(renewal);
      expect(first(await orderStatus(renewalOrder), "renewal of")).toBe(old.order);
      expect(first(await orderStatus(old.order), "renewed by")).toBe(renewalOrder);
      const again = await call("RenewCertificate", { certificate: old.certificate });
      expect(again.code).toBe(547);
      expect(again.description).toBe(
        `Invalid command sequence; certificate ${old.certificate} was already renewed by ${renewal}`,
      );
      expect((await call("RenewCertificate", { certificate: renewal })).code).toBe(547);
      advance(DELAY);
      expect(first(await status(renewal), "status")).toBe("active");
    });
  });

  describe("revoke and cancel", () => {
    it("revokes an active certificate once (547 the second time)", async () => {
      const { certificate } = await issued();
      expect((await call("RevokeCertificate", { certificate })).code).toBe(200);
      expect(first(await status(certificate), "status")).toBe("revoked");
      const twice = await call("RevokeCertificate", { certificate });
      expect([twice.code, twice.description]).toEqual([
        547,
        `Invalid command sequence; certificate ${certificate} is already revoked`,
      ]);
      expect((await call("DeleteCertificate", { certificate, action: "revoke" })).code).toBe(547);
      expect((await eventsOf(certificate)).map(e => e.subclass)).toEqual([
        "REQUEST_SUCCESSFUL",
        "CLOSE_SUCCESSFUL",
      ]);
      const pending = await order();
      expect(
        (await call("RevokeCertificate", { certificate: first(pending, "certificate") })).code,
      ).toBe(547);
    });

    it("revokes an order with all its active certificates", async () => {
      const first1 = await issued();
      await call("ReissueCertificate", { certificate: first1.certificate });
      advance(DELAY);
      expect(
        (
          await call("DeleteCertificate", {
            certificate: first1.certificate,
            action: "RevokeOrder",
          })
        ).code,
      ).toBe(200);
      const reply = await orderStatus(first1.order);
      expect(first(reply, "status")).toBe("revoked");
      expect(all(reply, "certificate status")).toEqual(["revoked", "revoked"]);
      expect((await call("RevokeCertificateOrder", { certificateorder: first1.order })).code).toBe(
        547,
      );
      const other = await issued();
      expect((await call("RevokeCertificateOrder", { certificateorder: other.order })).code).toBe(
        200,
      );
    });

    it("cancels an order before issuance with a refund, and refuses after", async () => {
      const pending = await order();
      const orderId = first(pending, "order");
      expect((await call("CancelCertificateOrder", { certificateorder: orderId })).code).toBe(200);
      const reply = await orderStatus(orderId);
      expect([first(reply, "status"), first(reply, "refund")]).toEqual(["canceled", "42"]);
      expect(all(reply, "certificate status")).toEqual(["canceled"]);
      expect((await call("CancelCertificateOrder", { certificateorder: orderId })).code).toBe(547);
      advance(DELAY);
      expect(first(await status(first(pending, "certificate")), "status")).toBe("canceled");

      const sectigo = await order({ class: "positivessldv" });
      expect(
        (
          await call("DeleteCertificate", {
            certificate: first(sectigo, "certificate"),
            action: "CANCELORDER",
          })
        ).code,
      ).toBe(200);
      expect(first(await orderStatus(first(sectigo, "order")), "refund")).toBe("0");

      const implicit = await order();
      expect(
        (await call("DeleteCertificate", { certificate: first(implicit, "certificate") })).code,
      ).toBe(200);
      expect(first(await status(first(implicit, "certificate")), "status")).toBe("canceled");

      const done = await issued();
      const refused = await call("CancelCertificateOrder", { certificateorder: done.order });
      expect(refused.code).toBe(547);
      expect(refused.description).toMatch(
        /has an issued certificate and can no longer be canceled/,
      );
      expect(
        (await call("DeleteCertificate", { certificate: done.certificate, action: "cancelorder" }))
          .code,
      ).toBe(547);
      expect(
        (await call("DeleteCertificate", { certificate: done.certificate, action: "destroy" }))
          .code,
      ).toBe(505);
    });
  });

  describe("expiry", () => {
    it("reads expired after notAfter, the order expired after paid until", async () => {
      const { certificate, order: orderId } = await issued();
      const expiration = new Date(
        `${first(await status(certificate), "expiration date").replace(" ", "T")}Z`,
      );
      now = new Date(expiration.getTime() + 1000);
      expect(first(await status(certificate), "status")).toBe("expired");
      expect(first(await orderStatus(orderId), "status")).toBe("active");
      expect(
        all(await call("QueryCertificateList", { status: "expired" }), "certificate"),
      ).toContain(certificate);
      expect((await call("RevokeCertificate", { certificate })).code).toBe(547);

      const renewal = await call("RenewCertificate", { certificate });
      expect(renewal.code).toBe(200);
      advance(400 * DAY);
      expect(first(await orderStatus(orderId), "status")).toBe("expired");
    });

    it("shortens lifetimes on the CA/B schedule and caps them at the order's paid until", async () => {
      now = new Date("2027-01-01T00:00:00Z");
      const { certificate, order: orderId } = await issued();
      expect(first(await status(certificate), "expiration date")).toBe("2027-07-19 00:00:03");
      // From 15 March 2027 certificates live 99 days (one short of the 100-day limit).
      now = new Date("2027-07-10T00:00:00Z");
      const second = first(await call("ReissueCertificate", { certificate }), "certificate");
      advance(DELAY);
      expect(first(await status(second), "expiration date")).toBe("2027-10-17 00:00:03");
      now = new Date("2027-10-10T00:00:00Z");
      const third = first(await call("ReissueCertificate", { certificate: second }), "certificate");
      advance(DELAY);
      expect(first(await status(third), "expiration date")).toBe("2028-01-01 00:00:00");
      expect(first(await orderStatus(orderId), "paid until")).toBe("2028-01-01 00:00:00.0");
    });
  });

  describe("sessions", () => {
    it("expires a session after an hour without use", async () => {
      const sessionId = first(await client.login(), "sessionid");
      const session = { login: "demo", sessionId };
      advance(59 * 60_000);
      expect((await client.callAs(session, { command: "QueryEventList" })).code).toBe(200);
      advance(59 * 60_000);
      expect((await client.callAs(session, { command: "QueryEventList" })).code).toBe(200);
      advance(60 * 60_000 + 1000);
      const expired = await client.callAs(session, { command: "QueryEventList" });
      expect([expired.code, expired.description]).toEqual([
        530,
        "Authentication failed; session expired or unknown",
      ]);
    });
  });

  describe("events", () => {
    it("lists, reads and deletes events with increasing numeric ids", async () => {
      const list = await call("QueryEventList", {
        class: "certificate_re*",
        orderby: "EVENT",
        order: "DESC",
        limit: 3,
      });
      expect(all(list, "column")).toEqual([
        "event",
        "eventclass",
        "eventsubclass",
        "event_date",
        "object_id",
      ]);
      const ids = all(list, "event").map(Number);
      expect(ids).toHaveLength(3);
      expect(ids).toEqual([...ids].sort((a, b) => b - a));
      expect(all(list, "eventclass").every(c => c.startsWith("CERTIFICATE_RE"))).toBe(true);

      const id = String(ids[0]);
      const event = await call("StatusEvent", { event: id });
      expect(names(event)).toEqual(["class", "data", "date", "info", "object_id", "subclass"]);
      expect(all(event, "data")).toContain(`certificate=${first(event, "object_id")}`);
      expect(first(event, "date")).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.0$/);

      expect((await call("DeleteEvent", { event: id })).code).toBe(200);
      expect((await call("StatusEvent", { event: id })).code).toBe(545);
      expect((await call("DeleteEvent", { event: id })).code).toBe(545);
      expect(all(await call("QueryEventList"), "event")).not.toContain(id);

      const late = await call("QueryEventList", { mindate: "2027-12-20" });
      expect(all(late, "event_date").every(d => d >= "2027-12-20")).toBe(true);
      const day = (await call("QueryEventList", { mindate: "2026-06-01", maxdate: "2026-06-01" }))
        .paging?.total;
      const early = (await call("QueryEventList", { maxdate: "2026-06-01 23:59:59" })).paging
        ?.total;
      expect(day).toBe(early);
      expect(day).toBeGreaterThan(0);
      expect((await call("QueryEventList", { mindate: "yesterday" })).code).toBe(505);
    });
  });
});
