import { type SandboxHandle, startSandbox } from "../../../src/sandbox/server";
import { decodeReply, WireFormatError } from "../../../src/upstream/codec";
import { makeCsr } from "../../helpers/pki";
import { all, createSandboxClient, first, type SandboxClient } from "../../helpers/sandbox-client";

const DEMO = { login: "demo", password: "demo" };
const OTHER = { login: "other", password: "secret" };

describe("sandbox protocol", () => {
  let sandbox: SandboxHandle;
  let client: SandboxClient;
  const { csrPem } = makeCsr({ commonName: "example.com" });

  beforeAll(async () => {
    sandbox = await startSandbox({ port: 0, accounts: [DEMO, OTHER], issuanceDelayMs: 60_000 });
    client = createSandboxClient(sandbox.url, DEMO);
  }, 30_000);

  afterAll(async () => {
    await sandbox.stop();
  });

  describe("HTTP", () => {
    it("serves call.cgi on loopback with a text/plain body", async () => {
      expect(sandbox.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/call\.cgi$/);
      const answer = await client.raw(
        new URLSearchParams({
          s_login: "demo",
          s_pw: "demo",
          s_command: "COMMAND=GetCertificateInfo",
        }).toString(),
      );
      expect(answer.status).toBe(200);
      expect(answer.headers["content-type"]).toBe("text/plain; charset=utf-8");
      expect(answer.text).toMatch(
        /^\[RESPONSE\]\ncode = 200\ndescription = Command completed successfully\nruntime = \d+\.\d{3}\nqueuetime = \d+\.\d{3}\n/,
      );
      expect(answer.text).toMatch(/\nEOF\n$/);
    });

    it("answers 405 to a GET and 404 to another path", async () => {
      expect((await client.raw("", { method: "GET" })).status).toBe(405);
      expect((await client.raw("s_login=demo", { path: "/api/other.cgi" })).status).toBe(404);
      expect((await client.raw("s_login=demo", { path: "/" })).status).toBe(404);
    });
  });

  describe("request forms", () => {
    it("accepts s_command with keys in any case and blanks around =", async () => {
      const body = new URLSearchParams({
        s_login: "demo",
        s_pw: "demo",
        s_command: "command = getcertificateinfo\nAPIVERSION = 2\nClass = SSL123DV",
      });
      const reply = await client.rawCall(body.toString());
      expect(reply.code).toBe(200);
      expect(first(reply, "class")).toBe("ssl123dv");
      expect(first(reply, "prefix")).toBe("DK");
    });

    it("accepts one form field per parameter, and query fields", async () => {
      const reply = await client.rawCall(
        "s_login=demo&s_pw=demo&command=GetCertificateInfo&class=rapidssldv",
      );
      expect(first(reply, "prefix")).toBe("DD");
      const answer = await client.raw("s_pw=demo&class=ssl123dv", {
        query: "s_login=demo&command=GetCertificateInfo",
      });
      expect(first(decodeReply(answer.text), "prefix")).toBe("DK");
    });

    it("takes a CSR whole in one field as well as one line per index", async () => {
      const whole = await client.rawCall(
        new URLSearchParams({
          s_login: "demo",
          s_pw: "demo",
          command: "CheckCertificate",
          csr: csrPem,
        }).toString(),
      );
      const lines = await client.call({ command: "CheckCertificate", csr: csrPem });
      expect(first(whole, "csr commonname")).toBe("example.com");
      expect(whole.properties).toEqual(lines.properties);
    });

    it("answers 500 to an unknown command and 504 without a command", async () => {
      const unknown = await client.call({ command: "FlyToTheMoon" });
      expect(unknown.code).toBe(500);
      expect(unknown.description).toBe("Invalid command name; unknown command FlyToTheMoon");
      const none = await client.rawCall("s_login=demo&s_pw=demo");
      expect(none.code).toBe(504);
    });

    it("emits properties in alphabetical order of name", async () => {
      const answer = await client.raw(
        "s_login=demo&s_pw=demo&command=GetCertificateInfo&class=ssl123dv",
      );
      const names = [...answer.text.matchAll(/^property\[([^\]]+)\]\[0\]/gm)].map(m => m[1] ?? "");
      expect(names.length).toBeGreaterThan(20);
      expect(names).toEqual([...names].sort());
    });

    it("rejects API version 1 and answers 505 to another version", async () => {
      expect((await client.call({ command: "GetCertificateInfo", apiversion: 1 })).code).toBe(541);
      expect((await client.call({ command: "GetCertificateInfo", apiversion: 3 })).code).toBe(505);
    });
  });

  describe("authentication and sessions", () => {
    it("answers 530 to a wrong password, an unknown login or no login", async () => {
      for (const credentials of [
        { login: "demo", password: "wrong" },
        { login: "nobody", password: "demo" },
        { login: "", password: "demo" },
      ]) {
        const reply = await client.callAs(credentials, { command: "GetCertificateInfo" });
        expect(reply.code).toBe(530);
        expect(reply.description).toMatch(/^Authentication failed/);
      }
    });

    it("opens a session with persistent=1, uses it with s_sessionid and ends it with StopSession", async () => {
      const login = await client.login();
      expect(login.code).toBe(200);
      const sessionId = first(login, "sessionid");
      expect(sessionId).toMatch(/^[0-9a-f]{32}$/);
      expect(first(login, "expiration date")).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.0$/);
      const session = { login: "demo", sessionId };

      expect((await client.callAs(session, { command: "GetCertificateInfo" })).code).toBe(200);
      expect(
        (await client.callAs({ login: "other", sessionId }, { command: "GetCertificateInfo" }))
          .code,
      ).toBe(530);
      expect((await client.callAs(session, { command: "StopSession" })).code).toBe(200);
      const after = await client.callAs(session, { command: "GetCertificateInfo" });
      expect(after.code).toBe(530);
      expect(
        (
          await client.callAs(
            { login: "demo", sessionId: "0".repeat(32) },
            { command: "GetCertificateInfo" },
          )
        ).code,
      ).toBe(530);
    });

    it("refuses a session for wrong credentials", async () => {
      expect((await client.login("demo", "nope")).code).toBe(530);
    });
  });

  describe("account isolation", () => {
    it("answers 545 for another account's objects and leaves them out of lists", async () => {
      const added = await client.call({
        command: "AddCertificate",
        class: "ssl123dv",
        domain: ["isolated.example.com"],
        csr: csrPem,
        techcontact0: "P-ABC123",
      });
      expect(added.code).toBe(200);
      const certificate = first(added, "certificate");
      const order = first(added, "order");
      const contact = first(added, "techcontact");
      const other = createSandboxClient(sandbox.url, OTHER);

      const status = await other.call({ command: "StatusCertificate", certificate });
      expect(status.code).toBe(545);
      expect(status.description).toBe(
        `Entity reference not found; certificate ${certificate} not found`,
      );
      expect(
        (await other.call({ command: "StatusCertificateOrder", certificateorder: order })).code,
      ).toBe(545);
      expect(
        (await other.call({ command: "StatusCertificateContact", certificatecontact: contact }))
          .code,
      ).toBe(545);
      expect((await other.call({ command: "RevokeCertificate", certificate })).code).toBe(545);
      expect((await other.call({ command: "QueryCertificateList" })).paging?.total).toBe(0);
      expect((await other.call({ command: "QueryCertificateOrderList" })).paging?.total).toBe(0);
      expect((await other.call({ command: "QueryCertificateContactList" })).paging?.total).toBe(0);
      expect(all(await client.call({ command: "QueryCertificateList" }), "certificate")).toContain(
        certificate,
      );
    });
  });

  describe("call log", () => {
    it("records every command with its canonical name, lower-case params, joined CSR and code", async () => {
      sandbox.resetCalls();
      await client.call({ command: "statuscertificate", certificate: "DK00000000" });
      await client.call({ command: "CheckCertificate", csr: csrPem, CLASS: "ssl123dv" });
      await client.login();
      const [status, check, login] = sandbox.calls;
      expect(status).toEqual({
        account: "demo",
        command: "StatusCertificate",
        params: { certificate: "DK00000000" },
        code: 545,
        at: expect.any(Date),
      });
      expect(check?.params).toEqual({ csr: csrPem.trimEnd(), class: "ssl123dv" });
      expect(check?.code).toBe(200);
      expect(login?.command).toBe("StartSession");
      expect(sandbox.callsTo("STATUSCERTIFICATE")).toHaveLength(1);
      sandbox.resetCalls();
      expect(sandbox.calls).toHaveLength(0);
    });
  });

  describe("fault injection", () => {
    it("answers an injected code once, without running the command", async () => {
      sandbox.failNext("GetCertificateInfo", {
        code: 421,
        description: "Command failed due to server error",
      });
      const failed = await client.call({ command: "GetCertificateInfo" });
      expect([failed.code, failed.description]).toEqual([
        421,
        "Command failed due to server error",
      ]);
      expect(sandbox.callsTo("GetCertificateInfo").at(-1)?.code).toBe(421);
      expect((await client.call({ command: "GetCertificateInfo" })).code).toBe(200);
    });

    it("sends an empty body, garbage, an HTTP status, or resets the connection", async () => {
      const body = new URLSearchParams({
        s_login: "demo",
        s_pw: "demo",
        s_command: "COMMAND=QueryEventList",
      }).toString();
      sandbox.failNext("QueryEventList", "empty");
      sandbox.failNext("queryeventlist", "garbage");
      sandbox.failNext("QueryEventList", { httpStatus: 503 });
      sandbox.failNext("QueryEventList", "reset");

      const empty = await client.raw(body);
      expect([empty.status, empty.text]).toEqual([200, ""]);
      const garbage = await client.raw(body);
      expect(garbage.status).toBe(200);
      expect(() => decodeReply(garbage.text)).toThrow(WireFormatError);
      expect((await client.raw(body)).status).toBe(503);
      await expect(client.raw(body)).rejects.toThrow();
      expect((await client.raw(body)).status).toBe(200);
    });

    it("hangs without an answer", async () => {
      sandbox.failNext("GetCertificateInfo", "hang");
      const pending = client.call({ command: "GetCertificateInfo" });
      pending.catch(() => undefined); // rejected when afterAll stops the sandbox
      const outcome = await Promise.race([
        pending.then(
          () => "answered",
          () => "failed",
        ),
        new Promise(resolve => setTimeout(() => resolve("hanging"), 200)),
      ]);
      expect(outcome).toBe("hanging");
      expect((await client.call({ command: "GetCertificateInfo" })).code).toBe(200);
    });

    it("delays the next call of a command", async () => {
      sandbox.delayNext("QueryCertificateList", 150);
      const started = Date.now();
      expect((await client.call({ command: "QueryCertificateList" })).code).toBe(200);
      expect(Date.now() - started).toBeGreaterThanOrEqual(140);
      const again = Date.now();
      await client.call({ command: "QueryCertificateList" });
      expect(Date.now() - again).toBeLessThan(140);
    });
  });
});

describe("sandbox options and stop", () => {
  it("adds latencyMs to every reply, and stop() closes sockets and hanging requests", async () => {
    const sandbox = await startSandbox({ port: 0, latencyMs: 120 });
    const client = createSandboxClient(sandbox.url, DEMO);
    const started = Date.now();
    expect((await client.call({ command: "GetCertificateInfo" })).code).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(110);

    sandbox.failNext("GetCertificateInfo", "hang");
    const pending = client.call({ command: "GetCertificateInfo" });
    await new Promise(resolve => setTimeout(resolve, 200));
    await sandbox.stop();
    await expect(pending).rejects.toThrow();
    await sandbox.stop();
    await expect(client.call({ command: "GetCertificateInfo" })).rejects.toThrow();
  }, 30_000);
});
