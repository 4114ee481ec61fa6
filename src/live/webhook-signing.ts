/**
 * Signing of webhook deliveries, and the verification partners run on their side (exported so the
 * README's example and the tests use the very same rules). Pure: no I/O.
 *
 * Scheme (version `v1`):
 * - `Webhook-Id`: the delivery's id (the same on every retry of it: deduplicate on it).
 * - `Webhook-Timestamp`: when this attempt was signed, unix seconds.
 * - `Webhook-Signature`: `v1=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`. The key is the
 *   whole secret string, `whsec_` prefix included, as UTF-8. A receiver accepts the request when
 *   one of the space- or comma-separated `v1=` values matches and the timestamp is recent.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/** The signature scheme's version, the prefix of each value of `Webhook-Signature`. */
export const WEBHOOK_SIGNATURE_VERSION = "v1";
/** Header names, as sent (HTTP header names are case-insensitive). */
export const WEBHOOK_ID_HEADER = "Webhook-Id";
export const WEBHOOK_TIMESTAMP_HEADER = "Webhook-Timestamp";
export const WEBHOOK_SIGNATURE_HEADER = "Webhook-Signature";
/** The `User-Agent` of every delivery. */
export const WEBHOOK_USER_AGENT = "rrpproxy-ssl-gateway-webhooks/1";
/** How far a timestamp may be from the receiver's clock by default, in seconds. */
export const DEFAULT_WEBHOOK_TOLERANCE_SECONDS = 300;

const SECRET_PREFIX = "whsec_";
const SECRET_BYTES = 32;

/** A new signing secret: `whsec_` and 32 random bytes, base64url (43 characters). */
export function createWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(SECRET_BYTES).toString("base64url");
}

/** The hex HMAC-SHA256 of `<timestampSeconds>.<body>` under `secret` (without the `v1=`). */
export function signWebhook(
  secret: string,
  timestampSeconds: number,
  body: string | Uint8Array,
): string {
  return createHmac("sha256", secret).update(`${timestampSeconds}.`).update(body).digest("hex");
}

/**
 * The headers of one attempt: id, timestamp, signature, `Content-Type: application/json` and the
 * `User-Agent`. `timestampSeconds` is the attempt's time (each retry is signed anew).
 */
export function webhookHeaders(
  secret: string,
  deliveryId: string,
  timestampSeconds: number,
  body: string,
): Record<string, string> {
  return {
    "content-type": "application/json",
    "user-agent": WEBHOOK_USER_AGENT,
    [WEBHOOK_ID_HEADER.toLowerCase()]: deliveryId,
    [WEBHOOK_TIMESTAMP_HEADER.toLowerCase()]: String(timestampSeconds),
    [WEBHOOK_SIGNATURE_HEADER.toLowerCase()]: `${WEBHOOK_SIGNATURE_VERSION}=${signWebhook(secret, timestampSeconds, body)}`,
  };
}

/** Request headers as Node's `IncomingMessage.headers` has them, or a fetch `Headers`. */
export type WebhookRequestHeaders =
  | Readonly<Record<string, string | readonly string[] | undefined>>
  | { get(name: string): string | null };

/** What `verifyWebhookSignature` checks. */
export interface WebhookVerification {
  /** The webhook's secret, as `createWebhook` returned it. */
  readonly secret: string;
  /** The raw request body, exactly as received (not re-serialised JSON). */
  readonly body: string | Uint8Array;
  readonly headers: WebhookRequestHeaders;
  /** Largest accepted distance between the timestamp and `now`, in seconds (default 300). */
  readonly toleranceSeconds?: number;
  /** The receiver's clock, epoch ms (default `Date.now()`). */
  readonly now?: number;
}

/**
 * True when the request carries a valid `v1` signature of `body` under `secret` and its timestamp
 * is within `toleranceSeconds` of `now`. Compares in constant time; never throws for malformed
 * or missing headers (false).
 */
export function verifyWebhookSignature(verification: WebhookVerification): boolean {
  const { secret, body, headers } = verification;
  const toleranceSeconds = verification.toleranceSeconds ?? DEFAULT_WEBHOOK_TOLERANCE_SECONDS;
  const nowSeconds = (verification.now ?? Date.now()) / 1000;
  const timestampText = headerValue(headers, WEBHOOK_TIMESTAMP_HEADER);
  const signatures = headerValue(headers, WEBHOOK_SIGNATURE_HEADER);
  if (
    timestampText === undefined ||
    signatures === undefined ||
    !/^\d{1,12}$/.test(timestampText)
  ) {
    return false;
  }
  const timestampSeconds = Number(timestampText);
  if (Math.abs(nowSeconds - timestampSeconds) > toleranceSeconds) {
    return false;
  }
  const expected = Buffer.from(signWebhook(secret, timestampSeconds, body), "hex");
  let matched = false;
  for (const entry of signatures.split(/[\s,]+/)) {
    const separator = entry.indexOf("=");
    if (entry.slice(0, separator) !== WEBHOOK_SIGNATURE_VERSION) {
      continue;
    }
    const hex = entry.slice(separator + 1);
    if (!/^[0-9a-f]{64}$/i.test(hex)) {
      continue;
    }
    // No early exit: every candidate is compared, each in constant time.
    matched = timingSafeEqual(expected, Buffer.from(hex, "hex")) || matched;
  }
  return matched;
}

function headerValue(headers: WebhookRequestHeaders, name: string): string | undefined {
  if (typeof headers.get === "function") {
    return (headers as { get(name: string): string | null }).get(name) ?? undefined;
  }
  const record = headers as Readonly<Record<string, string | readonly string[] | undefined>>;
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(record)) {
    if (key.toLowerCase() === wanted && value !== undefined) {
      return typeof value === "string" ? value : value.join(", ");
    }
  }
  return undefined;
}
