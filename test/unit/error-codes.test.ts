import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ApolloServerErrorCode } from "@apollo/server/errors";
import { AuthenticationError, ForbiddenError } from "../../src/auth";
import { GatewayErrorCode, SubscriberTooSlowError } from "../../src/errors";
import {
  IdempotencyConflictError,
  IdempotencyInProgressError,
  IdempotencyOutcomeUnknownError,
  IdempotencyUnavailableError,
} from "../../src/idempotency";
import { WebhookStoreError } from "../../src/live/webhook-store";
import { WebhookUrlError } from "../../src/live/webhook-target";
import { WebhookLimitError } from "../../src/live/webhooks";
import { OPERATION_LIMIT_CODE } from "../../src/operation-guard";
import { QUERY_LIMIT_CODES } from "../../src/query-limits";
import { RateLimitedError, UpstreamAbuseLockError } from "../../src/rate-limit";
import { UPSTREAM_ERROR_CODES } from "../../src/upstream/errors";

const ROOT = join(__dirname, "..", "..");
const ALL = new Set<string>(Object.values(GatewayErrorCode));

/** The codes of the README's error-code table (first column), in its order. */
function readmeCodes(): string[] {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const start = readme.indexOf("### Error codes");
  expect(start).toBeGreaterThan(-1);
  const section = readme.slice(start, readme.indexOf("\n#", start + 1));
  return [...section.matchAll(/^\| `([A-Z][A-Z0-9_]*)`/gm)].map(match => match[1]!);
}

describe("GatewayErrorCode", () => {
  it("lists every code the README's error-code table lists, and no other", () => {
    const documented = readmeCodes();

    expect(new Set(documented).size).toBe(documented.length);
    expect([...documented].sort()).toEqual([...ALL].sort());
  });

  it("holds every code the gateway's own modules set", () => {
    const codes = [
      ...UPSTREAM_ERROR_CODES,
      ...Object.values(QUERY_LIMIT_CODES),
      OPERATION_LIMIT_CODE,
      new AuthenticationError("no key", "Bearer").extensions.code,
      new ForbiddenError("order", "orderCertificate").extensions.code,
      new RateLimitedError({
        allowed: false,
        limit: 1,
        remaining: 0,
        retryAfterSeconds: 1,
        source: "memory",
      }).extensions.code,
      new UpstreamAbuseLockError("AddCertificate", 1000).extensions.code,
      new IdempotencyConflictError("orderCertificate").code,
      new IdempotencyUnavailableError("closed").code,
      new IdempotencyInProgressError("orderCertificate").code,
      new IdempotencyOutcomeUnknownError("orderCertificate", 0).code,
      new WebhookUrlError("scheme", "use https").code,
      new WebhookLimitError(20).code,
      new WebhookStoreError("down").code,
      new SubscriberTooSlowError(1).extensions.code,
    ];

    expect(codes.filter(code => typeof code !== "string" || !ALL.has(code))).toEqual([]);
  });

  it("holds every code the HTTP handler answers with", () => {
    const source = readFileSync(join(ROOT, "src", "http-handler.ts"), "utf8");
    const codes = [
      ...source.matchAll(/graphQLErrorBody\(\s*"([A-Z_]+)"/g),
      ...source.matchAll(/\[\d{3}, "([A-Z_]+)"/g),
    ].map(match => match[1]!);

    expect(codes.length).toBeGreaterThanOrEqual(5);
    expect(codes.filter(code => !ALL.has(code))).toEqual([]);
  });

  it("holds every code the WebSocket endpoint answers with", () => {
    const source = readFileSync(join(ROOT, "src", "subscription-server.ts"), "utf8");
    // Every SCREAMING_SNAKE string literal of the module is a code it sets or compares with.
    const codes = [...source.matchAll(/"([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|[A-Z]{6,})"/g)].map(
      match => match[1]!,
    );

    expect(codes.length).toBeGreaterThanOrEqual(8);
    expect(codes.filter(code => !ALL.has(code))).toEqual([]);
  });

  it("holds every code Apollo Server answers with, as configured (persisted queries on)", () => {
    const apollo = Object.values(ApolloServerErrorCode).filter(
      code => code !== ApolloServerErrorCode.PERSISTED_QUERY_NOT_SUPPORTED,
    );

    expect(apollo.filter(code => !ALL.has(code))).toEqual([]);
  });
});
