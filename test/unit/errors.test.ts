import { type GraphQLFormattedError, GraphQLError } from "graphql";
import {
  BadUserInputError,
  createFormatError,
  GatewayErrorCode,
  NotFoundError,
} from "../../src/errors";
import { IdempotencyConflictError, IdempotencyUnavailableError } from "../../src/idempotency";
import { UpstreamError } from "../../src/upstream/errors";
import { RecordDecodeError } from "../../src/upstream/records";

/** What graphql-js and Apollo hand formatError for an error thrown in a resolver. */
function thrownInResolver(error: Error): [GraphQLFormattedError, unknown] {
  const located = new GraphQLError(error.message, {
    path: ["certificate"],
    originalError: error,
  });
  return [
    {
      message: error.message,
      path: ["certificate"],
      extensions: { code: "INTERNAL_SERVER_ERROR" },
    },
    located,
  ];
}

describe("createFormatError", () => {
  const format = createFormatError(false);

  it("answers an upstream failure with its stable code, the upstream's code and description", () => {
    const error = new UpstreamError({
      code: "UPSTREAM_REJECTED",
      command: "AddCertificate",
      message: "AddCertificate was rejected by the upstream (541 Parameter value policy error)",
      retryable: false,
      upstreamCode: 541,
      upstreamDescription: "Parameter value policy error; class foo is not available",
      secrets: ["hunter2"],
    });

    const formatted = format(...thrownInResolver(error));

    expect(formatted).toEqual({
      message: "The upstream API rejected the request; see upstreamCode and upstreamDescription",
      path: ["certificate"],
      extensions: {
        code: "UPSTREAM_REJECTED",
        command: "AddCertificate",
        upstreamCode: 541,
        upstreamDescription: "Parameter value policy error; class foo is not available",
        retryable: false,
      },
    });
  });

  it("never shows a secret the upstream echoed", () => {
    const error = new UpstreamError({
      code: "UPSTREAM_AUTHENTICATION",
      command: "StatusCertificate",
      message: "refused",
      retryable: false,
      upstreamCode: 530,
      upstreamDescription: "Authentication failed for password hunter2",
      secrets: ["hunter2"],
    });

    const formatted = format(...thrownInResolver(error));

    expect(JSON.stringify(formatted)).not.toContain("hunter2");
    expect(formatted.extensions?.code).toBe("UPSTREAM_AUTHENTICATION");
  });

  it("answers idempotency errors with their codes", () => {
    expect(
      format(...thrownInResolver(new IdempotencyConflictError("orderCertificate"))).extensions,
    ).toEqual({
      code: GatewayErrorCode.IDEMPOTENCY_KEY_REUSED,
      operation: "orderCertificate",
    });
    expect(
      format(...thrownInResolver(new IdempotencyUnavailableError("store closed"))).extensions,
    ).toEqual({
      code: GatewayErrorCode.IDEMPOTENCY_UNAVAILABLE,
    });
  });

  it("answers an undecodable reply as UPSTREAM_PROTOCOL", () => {
    const formatted = format(...thrownInResolver(new RecordDecodeError("unknown status")));

    expect(formatted.extensions).toEqual({ code: "UPSTREAM_PROTOCOL" });
  });

  it("passes deliberate client errors unchanged", () => {
    const error = new BadUserInputError([
      { field: "domains[0]", rule: "WILDCARD_NOT_ALLOWED", message: "domains[0]: no wildcards" },
    ]);
    const [formatted, raw] = thrownInResolver(error);
    const withExtensions = { ...formatted, extensions: { ...error.extensions } };

    expect(format(withExtensions, raw)).toBe(withExtensions);
    expect(error.extensions).toMatchObject({
      code: "BAD_USER_INPUT",
      field: "domains[0]",
      rule: "WILDCARD_NOT_ALLOWED",
    });
    expect(new NotFoundError("Certificate", "DK1").extensions).toEqual({
      code: "NOT_FOUND",
      type: "Certificate",
      id: "DK1",
    });
  });

  it("keeps the code a validation rule gave its error, which Apollo overwrites", () => {
    const rule = new GraphQLError("two orders in one operation", {
      extensions: { code: "OPERATION_LIMIT" },
    });
    const apollo = new GraphQLError(rule.message, {
      originalError: rule,
      extensions: { code: "GRAPHQL_VALIDATION_FAILED" },
    });

    const formatted = format(
      { message: rule.message, extensions: { ...apollo.extensions } },
      apollo,
    );

    expect(formatted.extensions?.code).toBe("OPERATION_LIMIT");
  });

  it("masks a bug as INTERNAL_SERVER_ERROR without its message", () => {
    const formatted = format(
      ...thrownInResolver(new TypeError("cannot read x of undefined at /srv/app")),
    );

    expect(formatted).toEqual({
      message: "Internal server error",
      path: ["certificate"],
      extensions: { code: "INTERNAL_SERVER_ERROR" },
    });
  });

  it("keeps the message of a bug when details are exposed", () => {
    const formatted = createFormatError(true)(...thrownInResolver(new TypeError("boom")));

    expect(formatted.message).toBe("boom");
    expect(formatted.extensions).toEqual({ code: "INTERNAL_SERVER_ERROR" });
  });
});
