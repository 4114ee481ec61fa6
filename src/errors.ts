/**
 * Client-facing errors and the one place where the kinds of error meet: `createFormatError`.
 * Resolvers throw the `GraphQLError` subclasses below on purpose; upstream, idempotency and
 * decoding errors are turned into stable codes at the edge; everything else is a bug and masked.
 */
import { unwrapResolverError } from "@apollo/server/errors";
import { GraphQLError, type GraphQLFormattedError } from "graphql";
import {
  IdempotencyConflictError,
  IdempotencyInProgressError,
  IdempotencyOutcomeUnknownError,
  IdempotencyUnavailableError,
} from "./idempotency";
import { WebhookStoreError } from "./live/webhook-store";
import { WebhookUrlError } from "./live/webhook-target";
import { WebhookLimitError } from "./live/webhooks";
import { UpstreamError, type UpstreamErrorCode } from "./upstream/errors";
import { RecordDecodeError } from "./upstream/records";

/**
 * Every `extensions.code` a client of the gateway can receive, whoever sets it: the resolvers,
 * the idempotency store, the upstream client (`UPSTREAM_*`), authentication, rate limits, query
 * limits, the operation guard, the HTTP handler and Apollo Server itself. Stable: clients switch
 * on them. The README's error-code table lists the same codes with their HTTP status (a unit test
 * keeps the two and the modules that set them in step).
 */
export enum GatewayErrorCode {
  /**
   * A mutation named a target that does not exist (lookups answer `null` instead); also the 404
   * of a path other than /graphql.
   */
  NOT_FOUND = "NOT_FOUND",
  /**
   * The input breaks a rule; `extensions.violations` lists every `{ field, rule, message }`.
   * Also Apollo's code for variables of the wrong type (HTTP 400).
   */
  BAD_USER_INPUT = "BAD_USER_INPUT",
  /** A bug; details only when `exposeErrorDetails` is set. */
  INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR",
  /** The idempotency key was used before for another operation or input; nothing was sent. */
  IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED",
  /** The idempotency key could not be claimed; nothing was sent. */
  IDEMPOTENCY_UNAVAILABLE = "IDEMPOTENCY_UNAVAILABLE",
  /** Another request with the idempotency key is still running; ask again later. */
  IDEMPOTENCY_IN_PROGRESS = "IDEMPOTENCY_IN_PROGRESS",
  UPSTREAM_UNAVAILABLE = "UPSTREAM_UNAVAILABLE",
  UPSTREAM_TIMEOUT = "UPSTREAM_TIMEOUT",
  UPSTREAM_TEMPORARY = "UPSTREAM_TEMPORARY",
  UPSTREAM_REJECTED = "UPSTREAM_REJECTED",
  UPSTREAM_AUTHENTICATION = "UPSTREAM_AUTHENTICATION",
  UPSTREAM_PROTOCOL = "UPSTREAM_PROTOCOL",
  UPSTREAM_OUTCOME_UNKNOWN = "UPSTREAM_OUTCOME_UNKNOWN",
  /** The upstream locked the account (reply 422); nothing is sent for it for a while (HTTP 503). */
  UPSTREAM_ABUSE_LOCK = "UPSTREAM_ABUSE_LOCK",
  /** No, a malformed or a wrong API key or Basic credentials (HTTP 401, `src/auth.ts`). */
  UNAUTHENTICATED = "UNAUTHENTICATED",
  /** The API key lacks the scope the operation needs (HTTP 403, `src/auth.ts`). */
  FORBIDDEN = "FORBIDDEN",
  /** Over the requests per minute of the key or account (HTTP 429, `src/rate-limit.ts`). */
  RATE_LIMITED = "RATE_LIMITED",
  /** Query limits (HTTP 400, `src/query-limits.ts`). */
  QUERY_DEPTH_LIMIT = "QUERY_DEPTH_LIMIT",
  ALIAS_LIMIT = "ALIAS_LIMIT",
  DIRECTIVE_LIMIT = "DIRECTIVE_LIMIT",
  COST_LIMIT = "COST_LIMIT",
  TOKEN_LIMIT = "TOKEN_LIMIT",
  BATCH_LIMIT = "BATCH_LIMIT",
  /** More than one costly (or revoke/cancel) mutation in an operation (`operation-guard.ts`). */
  OPERATION_LIMIT = "OPERATION_LIMIT",
  /** The request body is larger than `GATEWAY_MAX_BODY_BYTES` (HTTP 413, `src/http-handler.ts`). */
  PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE",
  /** The request headers are larger than node's 16 KiB (HTTP 431, `src/http-handler.ts`). */
  HEADERS_TOO_LARGE = "HEADERS_TOO_LARGE",
  /** A method other than GET, POST or HEAD on /graphql (HTTP 405, `src/http-handler.ts`). */
  METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED",
  /**
   * Not a GraphQL request: the body is not JSON, no query, the CSRF guard, a mutation by GET,
   * malformed HTTP (Apollo Server and the HTTP handler; HTTP 400, 405, 406 or 408).
   */
  BAD_REQUEST = "BAD_REQUEST",
  /** Apollo Server: the document does not parse. */
  GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED",
  /** Apollo Server: the document is not valid against the schema. */
  GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED",
  /** Apollo Server: no operation to run (`operationName` names none, or several without a name). */
  OPERATION_RESOLUTION_FAILURE = "OPERATION_RESOLUTION_FAILURE",
  /** Apollo Server: an automatic persisted query's hash is not known yet; send the query. */
  PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND",
  /**
   * `createWebhook`: the URL is not one the gateway sends to (malformed, not http(s), with
   * credentials, a private address...); `field` is `url`, `reason` says which rule.
   */
  WEBHOOK_URL_REFUSED = "WEBHOOK_URL_REFUSED",
  /** `createWebhook`: the API key has the most webhooks allowed (`limit`); delete one first. */
  WEBHOOK_LIMIT = "WEBHOOK_LIMIT",
  /** The webhook store (the shared Redis) could not be reached; try again (repeating is safe). */
  WEBHOOK_STORE_UNAVAILABLE = "WEBHOOK_STORE_UNAVAILABLE",
  /**
   * A subscription whose client read events slower than they came was ended (more than
   * `SUBSCRIPTION_BUFFER_EVENTS` waiting); subscribe again and read `certificateEvents`.
   */
  SUBSCRIBER_TOO_SLOW = "SUBSCRIBER_TOO_SLOW",
  /**
   * A WebSocket upgrade refused because the replica holds `GATEWAY_WS_MAX_CONNECTIONS` or is
   * shutting down (HTTP 503, `src/subscription-server.ts`); connect again (another replica).
   */
  WEBSOCKET_UNAVAILABLE = "WEBSOCKET_UNAVAILABLE",
}

/** The message of each upstream code: fixed texts, so nothing of the request can leak. */
export const UPSTREAM_MESSAGES: Readonly<Record<UpstreamErrorCode, string>> = Object.freeze({
  UPSTREAM_UNAVAILABLE: "The upstream API could not be reached; try again later",
  UPSTREAM_TIMEOUT: "The upstream API did not answer in time; try again later",
  UPSTREAM_TEMPORARY: "The upstream API failed temporarily; try again later",
  UPSTREAM_REJECTED:
    "The upstream API rejected the request; see upstreamCode and upstreamDescription",
  UPSTREAM_AUTHENTICATION: "The upstream API refused the gateway's credentials",
  UPSTREAM_PROTOCOL: "The upstream API answered something the gateway does not understand",
  UPSTREAM_OUTCOME_UNKNOWN:
    "The request may or may not have been carried out by the upstream API; look up its result " +
    "before repeating it",
});

/** One broken rule of an input: where (`field`, relative to the argument), which rule, why. */
export interface InputViolation {
  /** Path inside the mutation's `input` (`domains[2]`, `techContact.email`) or an argument name. */
  readonly field: string;
  /** Stable SCREAMING_SNAKE rule code. */
  readonly rule: string;
  /** For people: names the field and says what to change. */
  readonly message: string;
}

/**
 * The input breaks one or more rules; nothing was sent upstream. `extensions` holds `code`
 * (`BAD_USER_INPUT`), `field` and `rule` of the first violation, and every `violations`.
 */
export class BadUserInputError extends GraphQLError {
  constructor(readonly violations: readonly InputViolation[]) {
    const [first] = violations;
    super(
      violations.length === 1 && first
        ? `Invalid input: ${first.message} [${first.rule}]`
        : `Invalid input (${violations.length} problems): ` +
            violations.map(v => `${v.message} [${v.rule}]`).join("; "),
      {
        extensions: {
          code: GatewayErrorCode.BAD_USER_INPUT,
          field: first?.field,
          rule: first?.rule,
          violations: violations.map(v => ({ field: v.field, rule: v.rule, message: v.message })),
        },
      },
    );
    this.name = "BadUserInputError";
  }
}

/** Throws one `BadUserInputError` listing every violation; returns when there is none. */
export function assertNoViolations(violations: readonly InputViolation[]): void {
  if (violations.length > 0) {
    throw new BadUserInputError(violations);
  }
}

/**
 * A mutation's target does not exist, or a record that must exist is gone (a broken invariant).
 * `extensions`: `code` (`NOT_FOUND`), `type`, `id`.
 */
export class NotFoundError extends GraphQLError {
  constructor(type: string, id: string) {
    super(`${type} ${JSON.stringify(id)} does not exist`, {
      extensions: { code: GatewayErrorCode.NOT_FOUND, type, id },
    });
    this.name = "NotFoundError";
  }
}

/**
 * A subscription's client fell more than `limit` events behind: the subscription ends with this
 * error (`extensions.code` `SUBSCRIBER_TOO_SLOW`, `limit`). What it missed is in the history.
 */
export class SubscriberTooSlowError extends GraphQLError {
  constructor(limit: number) {
    super(
      `More than ${limit} events waited for this subscriber; the subscription ended. Subscribe ` +
        "again and read certificateEvents for what was missed.",
      { extensions: { code: GatewayErrorCode.SUBSCRIBER_TOO_SLOW, limit } },
    );
    this.name = "SubscriberTooSlowError";
  }
}

/** A `switch` met a value its union does not have: a bug. */
export class UnreachableCaseError extends Error {
  constructor(value: never) {
    super(`Unreachable case: ${JSON.stringify(value)}`);
    this.name = "UnreachableCaseError";
  }
}

type Extensions = Record<string, unknown>;

function withCode(
  formatted: GraphQLFormattedError,
  message: string,
  extensions: Extensions,
): GraphQLFormattedError {
  const result: GraphQLFormattedError = { message, extensions };
  return {
    ...result,
    ...(formatted.locations ? { locations: formatted.locations } : {}),
    ...(formatted.path ? { path: formatted.path } : {}),
  };
}

function upstreamExtensions(error: UpstreamError, exposeDetails: boolean): Extensions {
  const extensions: Extensions = { code: error.code, command: error.command };
  if (error.upstreamCode !== undefined) {
    extensions.upstreamCode = error.upstreamCode;
  }
  if (error.upstreamDescription !== undefined) {
    extensions.upstreamDescription = error.upstreamDescription;
  }
  extensions.retryable = error.retryable;
  if (exposeDetails) {
    // Redacted when the error was built: no password, session id or request body.
    extensions.detail = error.message;
  }
  return extensions;
}

/**
 * Apollo gives every validation error the code `GRAPHQL_VALIDATION_FAILED`, overwriting the code
 * a rule of ours set (the operation guard's `OPERATION_LIMIT`); the rule's error is kept as
 * `originalError`, so its code is put back. Other errors are returned as they are.
 */
function withRuleCode(
  formatted: GraphQLFormattedError,
  error: GraphQLError,
): GraphQLFormattedError {
  const rule = error.originalError;
  const code = rule instanceof GraphQLError ? rule.extensions.code : undefined;
  if (
    formatted.extensions?.code !== "GRAPHQL_VALIDATION_FAILED" ||
    typeof code !== "string" ||
    code === formatted.extensions.code
  ) {
    return formatted;
  }
  return { ...formatted, extensions: { ...formatted.extensions, code } };
}

/**
 * Apollo answers a few client mistakes with a 4xx status but no code of its own (an unsupported
 * persisted query version), which it then reports as `INTERNAL_SERVER_ERROR`: such an error is
 * the request's fault, not a bug, so it gets `BAD_REQUEST`. Other errors are returned as they are.
 */
function withClientErrorCode(
  formatted: GraphQLFormattedError,
  error: GraphQLError,
): GraphQLFormattedError {
  const status = (error.extensions.http as { status?: unknown } | undefined)?.status;
  if (
    formatted.extensions?.code !== GatewayErrorCode.INTERNAL_SERVER_ERROR ||
    typeof status !== "number" ||
    status < 400 ||
    status >= 500
  ) {
    return formatted;
  }
  return {
    ...formatted,
    extensions: { ...formatted.extensions, code: GatewayErrorCode.BAD_REQUEST },
  };
}

/**
 * Builds Apollo's `formatError`. Upstream errors become their stable code with a fixed message
 * and the upstream's `upstreamCode`/`upstreamDescription` (already redacted); idempotency errors
 * become `IDEMPOTENCY_*` (or `UPSTREAM_OUTCOME_UNKNOWN`); a refused webhook URL becomes
 * `WEBHOOK_URL_REFUSED` (with `field` and `reason`), a full quota `WEBHOOK_LIMIT`, a failed
 * webhook store `WEBHOOK_STORE_UNAVAILABLE`; an undecodable reply becomes
 * `UPSTREAM_PROTOCOL`; deliberate `GraphQLError`s pass unchanged, except that a validation
 * rule's own code replaces Apollo's `GRAPHQL_VALIDATION_FAILED`. Anything else is a bug: masked
 * as `INTERNAL_SERVER_ERROR` "Internal server error", unless `exposeDetails`. Never throws.
 *
 * @param exposeDetails - keep the message of unexpected errors (development only)
 */
export function createFormatError(exposeDetails: boolean) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    if (original instanceof UpstreamError) {
      return withCode(
        formatted,
        UPSTREAM_MESSAGES[original.code],
        upstreamExtensions(original, exposeDetails),
      );
    }
    if (original instanceof IdempotencyConflictError) {
      return withCode(formatted, original.message, {
        code: GatewayErrorCode.IDEMPOTENCY_KEY_REUSED,
        operation: original.operation,
      });
    }
    if (original instanceof IdempotencyUnavailableError) {
      return withCode(formatted, original.message, {
        code: GatewayErrorCode.IDEMPOTENCY_UNAVAILABLE,
      });
    }
    if (original instanceof IdempotencyInProgressError) {
      return withCode(formatted, original.message, {
        code: GatewayErrorCode.IDEMPOTENCY_IN_PROGRESS,
      });
    }
    if (original instanceof IdempotencyOutcomeUnknownError) {
      return withCode(formatted, original.message, {
        code: GatewayErrorCode.UPSTREAM_OUTCOME_UNKNOWN,
        operation: original.operation,
        ...(original.retryAfterMs === undefined
          ? {}
          : { retryAfterSeconds: Math.max(1, Math.ceil(original.retryAfterMs / 1000)) }),
      });
    }
    if (original instanceof WebhookUrlError) {
      return withCode(formatted, original.message, {
        code: GatewayErrorCode.WEBHOOK_URL_REFUSED,
        field: "url",
        reason: original.reason,
      });
    }
    if (original instanceof WebhookLimitError) {
      return withCode(formatted, original.message, {
        code: GatewayErrorCode.WEBHOOK_LIMIT,
        limit: original.limit,
      });
    }
    if (original instanceof WebhookStoreError) {
      return withCode(formatted, "The webhook store could not be reached; try again later", {
        code: GatewayErrorCode.WEBHOOK_STORE_UNAVAILABLE,
      });
    }
    if (original instanceof RecordDecodeError) {
      return withCode(formatted, UPSTREAM_MESSAGES.UPSTREAM_PROTOCOL, {
        code: GatewayErrorCode.UPSTREAM_PROTOCOL,
        ...(exposeDetails ? { detail: original.message } : {}),
      });
    }
    if (original instanceof GraphQLError) {
      return withClientErrorCode(withRuleCode(formatted, original), original);
    }
    if (exposeDetails) {
      return withCode(formatted, formatted.message, {
        code: GatewayErrorCode.INTERNAL_SERVER_ERROR,
      });
    }
    return withCode(formatted, "Internal server error", {
      code: GatewayErrorCode.INTERNAL_SERVER_ERROR,
    });
  };
}
