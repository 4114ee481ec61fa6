/**
 * The SDK's client: POSTs typed documents to the gateway as JSON and answers their data, typed by
 * the document. No dependency but `graphql` (to print documents); any `fetch` will do.
 */
import { type TypedDocumentNode } from "@graphql-typed-document-node/core";
import { type DocumentNode, Kind, print } from "graphql";

/** The part of a `fetch` response the client reads. */
export interface FetchLikeResponse {
  readonly status: number;
  text(): Promise<string>;
}

/** The part of `fetch` the client calls: the global one of Node and browsers fits. */
export type FetchLike = (
  url: string,
  init: {
    method: "POST";
    headers: Record<string, string>;
    body: string;
    signal?: AbortSignal;
  },
) => Promise<FetchLikeResponse>;

/** Options of {@link createGatewayClient}. */
export interface GatewayClientOptions {
  /** The gateway's GraphQL endpoint: `https://gateway.example.com/graphql`. */
  url: string;
  /** Sent as `Authorization: Bearer <apiKey>`; leave it out for a gateway without keys. */
  apiKey?: string;
  /** The `fetch` to use; default the global one. */
  fetch?: FetchLike;
  /** Headers sent with every request. */
  headers?: Record<string, string>;
}

/** Options of one request. */
export interface RequestOptions {
  /** Aborts the request: the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Headers for this request only, over the client's. */
  headers?: Record<string, string>;
}

/** One error of a GraphQL response, as the gateway answers it. */
export interface GatewayErrorItem {
  readonly message: string;
  readonly path?: readonly (string | number)[];
  /** `code` is the gateway's stable error code; `BAD_USER_INPUT` adds `violations`. */
  readonly extensions?: { readonly code?: string; readonly [key: string]: unknown };
}

/** `extensions.code` of errors in answers that carry none, or that are not GraphQL at all. */
export const INVALID_RESPONSE = "INVALID_RESPONSE";

/**
 * The gateway answered, with errors: `code` is the first error's `extensions.code` (the gateway's
 * error codes: `NOT_FOUND`, `BAD_USER_INPUT`, `UNAUTHENTICATED`, `UPSTREAM_REJECTED`, ...),
 * `errors` all of them, `status` the HTTP status, and `data` whatever resolved despite them.
 * A request that got no answer at all (network failure, abort) rejects with fetch's own error.
 */
export class GatewayRequestError extends Error {
  override readonly name = "GatewayRequestError";
  readonly code: string;

  constructor(
    readonly errors: readonly GatewayErrorItem[],
    readonly status: number,
    readonly data: unknown = null,
  ) {
    const [first] = errors;
    super(first ? first.message : `The gateway answered HTTP ${status} without GraphQL errors`);
    this.code = first?.extensions?.code ?? INVALID_RESPONSE;
  }

  /** Every distinct `extensions.code` of the response, in order. */
  get codes(): string[] {
    return [...new Set(this.errors.map(e => e.extensions?.code ?? INVALID_RESPONSE))];
  }
}

/** The variables argument: optional when the operation has no required variable. */
export type VariablesArgs<TVariables> =
  Record<string, never> extends TVariables
    ? [variables?: TVariables, options?: RequestOptions]
    : [variables: TVariables, options?: RequestOptions];

/** A client of one gateway. Reusable and stateless: share one per gateway and key. */
export interface GatewayClient {
  /**
   * Runs `document` with `variables` and answers its data. Rejects with
   * {@link GatewayRequestError} when the response has errors (even with partial data).
   */
  request<TResult, TVariables>(
    document: TypedDocumentNode<TResult, TVariables>,
    ...args: VariablesArgs<TVariables>
  ): Promise<TResult>;
}

interface GraphQLResponse {
  data?: unknown;
  errors?: GatewayErrorItem[];
}

function isGraphQLResponse(value: unknown): value is GraphQLResponse {
  return typeof value === "object" && value !== null && ("data" in value || "errors" in value);
}

function operationName(document: DocumentNode): string | undefined {
  for (const definition of document.definitions) {
    if (definition.kind === Kind.OPERATION_DEFINITION) {
      return definition.name?.value;
    }
  }
  return undefined;
}

function globalFetch(): FetchLike {
  if (typeof globalThis.fetch !== "function") {
    throw new TypeError("There is no global fetch: pass options.fetch");
  }
  // Called through globalThis: browsers refuse a fetch detached from it.
  return (url, init) => globalThis.fetch(url, init);
}

/** Creates a client of the gateway at `options.url`. Throws when there is no `fetch` to use. */
export function createGatewayClient(options: GatewayClientOptions): GatewayClient {
  const fetchImpl = options.fetch ?? globalFetch();
  const printed = new WeakMap<DocumentNode, { query: string; operationName?: string }>();
  const baseHeaders: Record<string, string> = {
    accept: "application/graphql-response+json, application/json",
    ...options.headers,
    "content-type": "application/json",
    ...(options.apiKey === undefined ? {} : { authorization: `Bearer ${options.apiKey}` }),
  };

  async function request<TResult, TVariables>(
    document: TypedDocumentNode<TResult, TVariables>,
    variables?: TVariables,
    requestOptions: RequestOptions = {},
  ): Promise<TResult> {
    let operation = printed.get(document);
    if (!operation) {
      const name = operationName(document);
      operation = {
        query: print(document),
        ...(name === undefined ? {} : { operationName: name }),
      };
      printed.set(document, operation);
    }
    const response = await fetchImpl(options.url, {
      method: "POST",
      headers: { ...baseHeaders, ...requestOptions.headers },
      body: JSON.stringify({ ...operation, variables: variables ?? {} }),
      ...(requestOptions.signal ? { signal: requestOptions.signal } : {}),
    });
    const text = await response.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (!isGraphQLResponse(body)) {
      throw new GatewayRequestError([], response.status);
    }
    if (body.errors && body.errors.length > 0) {
      throw new GatewayRequestError(body.errors, response.status, body.data ?? null);
    }
    if (body.data === undefined || body.data === null) {
      throw new GatewayRequestError([], response.status);
    }
    return body.data as TResult;
  }

  return { request };
}

/**
 * A new idempotency key (a random UUID) for one order, renewal or reissue. Keep it until the
 * request has an answer: sending it again after a timeout returns the first result instead of
 * ordering twice. Needs `crypto.randomUUID` (Node 20+, browsers in secure contexts).
 */
export function idempotencyKey(): string {
  return globalThis.crypto.randomUUID();
}
