import { createHmac } from "node:crypto";
import {
  createWebhookSecret,
  signWebhook,
  verifyWebhookSignature,
  WEBHOOK_USER_AGENT,
  webhookHeaders,
} from "../../../src/live/webhook-signing";

const NOW_MS = Date.UTC(2025, 4, 1, 12, 0, 0);
const NOW_S = NOW_MS / 1000;
const BODY = JSON.stringify({ id: "whd_1", type: "REQUEST_SUCCESSFUL" });

describe("createWebhookSecret", () => {
  it("is whsec_ and 32 random bytes in base64url, different every time", () => {
    const a = createWebhookSecret();
    const b = createWebhookSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(a.slice(6), "base64url")).toHaveLength(32);
    expect(a).not.toBe(b);
  });
});

describe("signWebhook", () => {
  it("is the hex HMAC-SHA256 of `<timestamp>.<body>` keyed with the whole secret", () => {
    const secret = "whsec_test";
    const expected = createHmac("sha256", secret).update(`${NOW_S}.${BODY}`).digest("hex");
    expect(signWebhook(secret, NOW_S, BODY)).toBe(expected);
    expect(signWebhook(secret, NOW_S, Buffer.from(BODY))).toBe(expected);
  });
});

describe("webhookHeaders", () => {
  it("carries id, timestamp, v1 signature, JSON content type and the user agent", () => {
    const headers = webhookHeaders("whsec_k", "whd_42", NOW_S, BODY);
    expect(headers).toEqual({
      "content-type": "application/json",
      "user-agent": WEBHOOK_USER_AGENT,
      "webhook-id": "whd_42",
      "webhook-timestamp": String(NOW_S),
      "webhook-signature": `v1=${signWebhook("whsec_k", NOW_S, BODY)}`,
    });
    expect(WEBHOOK_USER_AGENT).toBe("rrpproxy-ssl-gateway-webhooks/1");
  });
});

describe("verifyWebhookSignature", () => {
  const secret = createWebhookSecret();
  const headers = webhookHeaders(secret, "whd_1", NOW_S, BODY);

  it("accepts the signed body with the right secret within the tolerance", () => {
    expect(verifyWebhookSignature({ secret, body: BODY, headers, now: NOW_MS })).toBe(true);
    expect(
      verifyWebhookSignature({ secret, body: Buffer.from(BODY), headers, now: NOW_MS + 299_000 }),
    ).toBe(true);
  });

  it("reads header names case-insensitively, from a record or a fetch Headers", () => {
    const upper = Object.fromEntries(
      Object.entries(headers).map(([name, value]) => [name.toUpperCase(), value]),
    );
    expect(verifyWebhookSignature({ secret, body: BODY, headers: upper, now: NOW_MS })).toBe(true);
    expect(
      verifyWebhookSignature({ secret, body: BODY, headers: new Headers(headers), now: NOW_MS }),
    ).toBe(true);
  });

  it("rejects a tampered body", () => {
    const tampered = BODY.replace("SUCCESSFUL", "FAILED");
    expect(verifyWebhookSignature({ secret, body: tampered, headers, now: NOW_MS })).toBe(false);
  });

  it("rejects a tampered timestamp (the signature covers it)", () => {
    const moved = { ...headers, "webhook-timestamp": String(NOW_S + 1) };
    expect(verifyWebhookSignature({ secret, body: BODY, headers: moved, now: NOW_MS })).toBe(false);
  });

  it("rejects a stale or future timestamp beyond the tolerance", () => {
    expect(verifyWebhookSignature({ secret, body: BODY, headers, now: NOW_MS + 301_000 })).toBe(
      false,
    );
    expect(verifyWebhookSignature({ secret, body: BODY, headers, now: NOW_MS - 301_000 })).toBe(
      false,
    );
    expect(
      verifyWebhookSignature({
        secret,
        body: BODY,
        headers,
        now: NOW_MS + 20_000,
        toleranceSeconds: 10,
      }),
    ).toBe(false);
  });

  it("rejects the wrong secret", () => {
    const other = createWebhookSecret();
    expect(verifyWebhookSignature({ secret: other, body: BODY, headers, now: NOW_MS })).toBe(false);
  });

  it("accepts any matching v1 value of several (secret rotation) and ignores other versions", () => {
    const signature = headers["webhook-signature"]!;
    const several = {
      ...headers,
      "webhook-signature": `v0=abc v1=${"0".repeat(64)}, ${signature}`,
    };
    expect(verifyWebhookSignature({ secret, body: BODY, headers: several, now: NOW_MS })).toBe(
      true,
    );
    const otherVersion = { ...headers, "webhook-signature": signature.replace("v1=", "v2=") };
    expect(verifyWebhookSignature({ secret, body: BODY, headers: otherVersion, now: NOW_MS })).toBe(
      false,
    );
  });

  it("rejects missing or malformed headers without throwing", () => {
    const { "webhook-signature": _s, ...unsigned } = headers;
    const { "webhook-timestamp": _t, ...undated } = headers;
    for (const bad of [
      unsigned,
      undated,
      { ...headers, "webhook-timestamp": "soon" },
      { ...headers, "webhook-signature": "v1=zz" },
      { ...headers, "webhook-signature": "" },
    ]) {
      expect(verifyWebhookSignature({ secret, body: BODY, headers: bad, now: NOW_MS })).toBe(false);
    }
  });
});
