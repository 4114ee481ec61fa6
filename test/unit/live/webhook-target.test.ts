import { type LookupAddress } from "node:dns";
import {
  checkWebhookUrl,
  isPrivateAddress,
  MAX_WEBHOOK_URL_LENGTH,
  resolveWebhookTarget,
  WebhookUrlError,
  type WebhookUrlProblem,
} from "../../../src/live/webhook-target";

const strict = { allowPrivate: false };
const lenient = { allowPrivate: true };

function problemOf(run: () => unknown): WebhookUrlProblem | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof WebhookUrlError) {
      return error.reason;
    }
    throw error;
  }
  return undefined;
}

describe("isPrivateAddress", () => {
  it.each([
    ["127.0.0.1", true],
    ["127.255.255.254", true],
    ["0.0.0.0", true],
    ["0.1.2.3", true],
    ["10.0.0.1", true],
    ["10.255.255.255", true],
    ["172.16.0.1", true],
    ["172.31.255.255", true],
    ["172.15.255.255", false],
    ["172.32.0.0", false],
    ["192.168.1.1", true],
    ["192.169.0.1", false],
    ["169.254.169.254", true],
    ["100.64.0.1", true],
    ["100.127.255.255", true],
    ["100.128.0.0", false],
    ["198.18.0.1", true],
    ["192.0.2.10", true],
    ["224.0.0.1", true],
    ["239.255.255.255", true],
    ["240.0.0.1", true],
    ["255.255.255.255", true],
    ["8.8.8.8", false],
    ["93.184.216.34", false],
    ["1.1.1.1", false],
    ["223.255.255.255", false],
    ["::1", true],
    ["::", true],
    ["0:0:0:0:0:0:0:1", true],
    ["fc00::1", true],
    ["fd12:3456:789a::1", true],
    ["fe80::1", true],
    ["fe80::1%eth0", true],
    ["febf::1", true],
    ["ff02::1", true],
    ["2001:db8::1", true],
    ["::ffff:127.0.0.1", true],
    ["::ffff:7f00:1", true],
    ["::ffff:10.1.2.3", true],
    ["::ffff:8.8.8.8", false],
    ["::ffff:808:808", false],
    ["64:ff9b::192.168.0.1", true],
    ["64:ff9b::8.8.8.8", false],
    ["2002:c0a8:0101::1", true],
    ["2002:0808:0808::1", false],
    ["::127.0.0.1", true],
    ["2606:4700:4700::1111", false],
    ["2a00:1450:4001:80b::200e", false],
    ["fec0::1", true],
    ["not-an-ip", true],
    ["", true],
  ])("%s -> %s", (ip, expected) => {
    expect(isPrivateAddress(ip)).toBe(expected);
  });
});

describe("checkWebhookUrl", () => {
  it("accepts https and http URLs with a path, query and port", () => {
    expect(checkWebhookUrl("https://hooks.example.com/ssl?x=1", strict).href).toBe(
      "https://hooks.example.com/ssl?x=1",
    );
    expect(checkWebhookUrl("http://hooks.example.com:8080/", strict).port).toBe("8080");
  });

  it.each([
    ["not a url", "malformed"],
    ["/relative/path", "malformed"],
    ["ftp://hooks.example.com/", "scheme"],
    ["file:///etc/passwd", "scheme"],
    ["javascript:alert(1)", "scheme"],
    ["https://user:pass@hooks.example.com/", "credentials"],
    ["https://user@hooks.example.com/", "credentials"],
    ["https://hooks.example.com/#frag", "fragment"],
    ["https://hooks.example.com/#", "fragment"],
    [`https://hooks.example.com/${"a".repeat(MAX_WEBHOOK_URL_LENGTH)}`, "too-long"],
    ["http://127.0.0.1:8080/", "private-address"],
    ["http://[::1]/", "private-address"],
    ["http://[::ffff:127.0.0.1]/", "private-address"],
    ["http://10.0.0.5/", "private-address"],
    ["http://169.254.169.254/latest/meta-data", "private-address"],
    // The URL parser normalises these spellings of 127.0.0.1 before the check.
    ["http://2130706433/", "private-address"],
    ["http://0x7f.1/", "private-address"],
  ])("refuses %s (%s)", (url, reason) => {
    expect(problemOf(() => checkWebhookUrl(url, strict))).toBe(reason);
  });

  it("says what to fix in the message", () => {
    expect(() => checkWebhookUrl("ftp://x.example/", strict)).toThrow(/use https:/);
    expect(() => checkWebhookUrl("https://a:b@x.example/", strict)).toThrow(/remove them/);
    expect(() => checkWebhookUrl("http://127.0.0.1/", strict)).toThrow(
      /GATEWAY_WEBHOOK_ALLOW_PRIVATE/,
    );
  });

  it("allows private IP literals only when configured to", () => {
    expect(checkWebhookUrl("http://127.0.0.1:9/", lenient).hostname).toBe("127.0.0.1");
    expect(problemOf(() => checkWebhookUrl("https://a:b@127.0.0.1/", lenient))).toBe("credentials");
  });
});

describe("resolveWebhookTarget", () => {
  const resolving = (addresses: readonly string[]) => (): Promise<readonly LookupAddress[]> =>
    Promise.resolve(addresses.map(address => ({ address, family: address.includes(":") ? 6 : 4 })));

  it("refuses a name whose every address is private, naming them", async () => {
    const error = await resolveWebhookTarget("https://intranet.example/", {
      ...strict,
      resolve: resolving(["10.0.0.7", "fd00::7"]),
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(WebhookUrlError);
    expect((error as WebhookUrlError).reason).toBe("private-address");
    expect((error as Error).message).toContain("10.0.0.7, fd00::7");
  });

  it("accepts a name with at least one public address", async () => {
    const url = await resolveWebhookTarget("https://mixed.example/", {
      ...strict,
      resolve: resolving(["10.0.0.7", "93.184.216.34"]),
    });
    expect(url.hostname).toBe("mixed.example");
  });

  it("accepts private addresses when configured to", async () => {
    await expect(
      resolveWebhookTarget("http://intranet.example/", {
        ...lenient,
        resolve: resolving(["10.0.0.7"]),
      }),
    ).resolves.toBeInstanceOf(URL);
  });

  it("refuses a name that does not resolve", async () => {
    const notFound = Object.assign(new Error("getaddrinfo ENOTFOUND"), { code: "ENOTFOUND" });
    const error = await resolveWebhookTarget("https://nowhere.example/", {
      ...lenient,
      resolve: () => Promise.reject(notFound),
    }).catch((caught: unknown) => caught);
    expect((error as WebhookUrlError).reason).toBe("unresolvable");
    expect((error as Error).message).toMatch(/nowhere\.example does not resolve \(ENOTFOUND\)/);
  });

  it("does not resolve IP literals", async () => {
    const resolve = jest.fn(resolving(["10.0.0.1"]));
    await resolveWebhookTarget("https://93.184.216.34/", { ...strict, resolve });
    expect(resolve).not.toHaveBeenCalled();
  });
});
