/**
 * Who may call the gateway, and what they may do.
 *
 * - `keys` mode (default): callers send `Authorization: Bearer <key>`. Keys are configured as
 *   `GATEWAY_API_KEYS` (`name:scopes:key,...`, scopes joined by `+`) or `GATEWAY_API_KEYS_FILE` (a
 *   JSON list of `{ name, scopes, sha256 }`); only their SHA-256 digests are kept, and a presented
 *   key is hashed and compared with every configured digest in constant time. With no key
 *   configured the gateway is open, which start-up allows only on loopback or on the embedded
 *   sandbox (`checkStartupAuth`).
 * - `passthrough` mode: partners send their own reseller credentials as
 *   `Authorization: Basic base64(login:password)`; the gateway uses them for that request only.
 *   `createCredentialVerifier` checks them upstream before any cached data is served, and
 *   remembers a success only as a keyed hash (HMAC with a per-process random key).
 *
 * Scopes: `read` (every query), `order` (orders, renewals, reissues, contacts, re-sending DCV
 * mails), `manage` (revoking and cancelling). `checkScopes` runs once the operation is known.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { type ApolloServerPlugin, type BaseContext, HeaderMap } from "@apollo/server";
import {
  type DocumentNode,
  type FragmentDefinitionNode,
  GraphQLError,
  Kind,
  type OperationDefinitionNode,
  OperationTypeNode,
  type SelectionSetNode,
} from "graphql";
import { accountTag } from "./cache";
import { type CallOptions, type UpstreamClient } from "./upstream/client";
import { type CommandArgs, type CommandName } from "./upstream/commands";
import { UpstreamError } from "./upstream/errors";

/** What a key may do. */
export type Scope = "read" | "order" | "manage";

/** Every scope, least powerful first. */
export const SCOPES: readonly Scope[] = Object.freeze(["read", "order", "manage"]);

/** One configured API key: its name (for logs and rate limits), scopes and SHA-256 (hex). */
export interface ApiKeyEntry {
  readonly name: string;
  readonly scopes: readonly Scope[];
  /** Lower-case hex SHA-256 of the key's UTF-8 bytes; the key itself is never kept. */
  readonly sha256: string;
}

/** What the key parsers return: the keys they could read and every problem, without secrets. */
export interface ApiKeysParseResult {
  readonly keys: ApiKeyEntry[];
  readonly problems: string[];
}

/** The shortest key `GATEWAY_API_KEYS` accepts (make keys with `openssl rand -hex 32`). */
export const MIN_API_KEY_LENGTH = 16;

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const SHA256_PATTERN = /^[0-9a-f]{64}$/i;

/** The lower-case hex SHA-256 of `key` (UTF-8), as `GATEWAY_API_KEYS_FILE` stores it. */
export function hashApiKey(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}

function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}

/** Parses a scope list; pushes a problem (naming `where`) and returns undefined when invalid. */
function parseScopes(
  raw: readonly unknown[],
  where: string,
  problems: string[],
): Scope[] | undefined {
  const scopes = new Set<Scope>();
  for (const item of raw) {
    const scope = typeof item === "string" ? item.trim() : "";
    if (!isScope(scope)) {
      problems.push(
        `${where}: unknown scope ${JSON.stringify(typeof item === "string" ? item.slice(0, 20) : typeof item)}` +
          ` (scopes are ${SCOPES.join(", ")})`,
      );
      return undefined;
    }
    scopes.add(scope);
  }
  if (scopes.size === 0) {
    problems.push(`${where}: at least one scope is required (${SCOPES.join(", ")})`);
    return undefined;
  }
  return SCOPES.filter(scope => scopes.has(scope));
}

function checkUnique(keys: ApiKeyEntry[], variable: string, problems: string[]): void {
  const names = new Map<string, number>();
  const digests = new Map<string, number>();
  keys.forEach((key, index) => {
    const firstName = names.get(key.name);
    if (firstName !== undefined) {
      problems.push(`${variable}: the name "${key.name}" is used twice`);
    } else {
      names.set(key.name, index);
    }
    const firstDigest = digests.get(key.sha256);
    if (firstDigest !== undefined) {
      problems.push(
        `${variable}: "${keys[firstDigest]?.name ?? "?"}" and "${key.name}" have the same key`,
      );
    } else {
      digests.set(key.sha256, index);
    }
  });
}

/**
 * Parses `GATEWAY_API_KEYS`: comma-separated `name:scopes:key` entries, scopes joined by `+`
 * (`shop:read:<key>,partner:read+order+manage:<key>`). The key is everything after the second
 * colon, at least `MIN_API_KEY_LENGTH` characters. Names must be unique (letters, digits, `.`,
 * `_`, `-`; at most 64) and so must keys. Returns the digests and every problem; problems name
 * entries by position and name, never by key. Pure.
 */
export function parseApiKeys(text: string, variable = "GATEWAY_API_KEYS"): ApiKeysParseResult {
  const keys: ApiKeyEntry[] = [];
  const problems: string[] = [];
  text.split(",").forEach((raw, index) => {
    const entry = raw.trim();
    const where = `${variable} entry ${index + 1}`;
    const first = entry.indexOf(":");
    const second = first < 0 ? -1 : entry.indexOf(":", first + 1);
    if (first <= 0 || second < 0) {
      problems.push(`${where} must be name:scopes:key (scopes joined by +)`);
      return;
    }
    const name = entry.slice(0, first);
    const key = entry.slice(second + 1);
    if (!NAME_PATTERN.test(name)) {
      problems.push(`${where}: the name must be 1-64 letters, digits, ".", "_" or "-"`);
      return;
    }
    const named = `${where} ("${name}")`;
    const scopes = parseScopes(entry.slice(first + 1, second).split("+"), named, problems);
    if (key.length < MIN_API_KEY_LENGTH || /\s/.test(key)) {
      problems.push(
        `${named}: the key must be at least ${MIN_API_KEY_LENGTH} characters without blanks ` +
          "(make one with: openssl rand -hex 32)",
      );
      return;
    }
    if (scopes) {
      keys.push({ name, scopes, sha256: hashApiKey(key) });
    }
  });
  checkUnique(keys, variable, problems);
  return { keys, problems };
}

/**
 * Parses the contents of `GATEWAY_API_KEYS_FILE`: a JSON array of
 * `{ "name": "shop", "scopes": ["read"] | "read+order", "sha256": "<64 hex digits>" }`
 * (`sha256` is `hashApiKey(key)`, e.g. `printf %s "$KEY" | sha256sum`). An entry holding a
 * clear-text `key` is refused. Returns the keys and every problem, without echoing the file. Pure.
 */
export function parseApiKeysFile(
  json: string,
  variable = "GATEWAY_API_KEYS_FILE",
): ApiKeysParseResult {
  const keys: ApiKeyEntry[] = [];
  const problems: string[] = [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return { keys, problems: [`${variable}: the file is not valid JSON`] };
  }
  if (!Array.isArray(parsed)) {
    return { keys, problems: [`${variable}: the file must hold a JSON array of keys`] };
  }
  parsed.forEach((item: unknown, index) => {
    const where = `${variable} entry ${index + 1}`;
    if (typeof item !== "object" || item === null || Array.isArray(item)) {
      problems.push(`${where} must be an object with name, scopes and sha256`);
      return;
    }
    const record = item as Record<string, unknown>;
    if ("key" in record) {
      problems.push(`${where} holds a clear-text "key": store only its sha256`);
      return;
    }
    const { name, scopes: rawScopes, sha256 } = record;
    if (typeof name !== "string" || !NAME_PATTERN.test(name)) {
      problems.push(`${where}: "name" must be 1-64 letters, digits, ".", "_" or "-"`);
      return;
    }
    const named = `${where} ("${name}")`;
    const list =
      typeof rawScopes === "string"
        ? rawScopes.split("+")
        : Array.isArray(rawScopes)
          ? (rawScopes as unknown[])
          : undefined;
    if (list === undefined) {
      problems.push(`${named}: "scopes" must be a list of scopes or a "+"-joined string`);
      return;
    }
    const scopes = parseScopes(list, named, problems);
    if (typeof sha256 !== "string" || !SHA256_PATTERN.test(sha256)) {
      problems.push(`${named}: "sha256" must be 64 hex digits`);
      return;
    }
    if (scopes) {
      keys.push({ name, scopes, sha256: sha256.toLowerCase() });
    }
  });
  checkUnique(keys, variable, problems);
  return { keys, problems };
}

/** How callers authenticate, as `config.auth` holds it. */
export interface AuthSettings {
  readonly mode: "keys" | "passthrough";
  readonly apiKeys: readonly ApiKeyEntry[];
}

/** The realm of the `WWW-Authenticate` challenges. */
export const AUTH_REALM = "rrpproxy";

/**
 * The caller is not authenticated (no, malformed or wrong credentials): `extensions.code`
 * `UNAUTHENTICATED`, HTTP 401 with a `WWW-Authenticate` challenge (`Bearer` in keys mode,
 * `Basic` in pass-through). The message never quotes what was sent.
 */
export class AuthenticationError extends GraphQLError {
  /** Nothing was sent upstream (the idempotency store releases the key). */
  readonly outcomeUnknown = false;

  constructor(message: string, challenge: string) {
    super(message, {
      extensions: {
        code: "UNAUTHENTICATED",
        http: { status: 401, headers: new HeaderMap([["www-authenticate", challenge]]) },
      },
    });
    this.name = "AuthenticationError";
  }
}

/**
 * The key lacks a scope the operation needs: `extensions.code` `FORBIDDEN`, `requiredScope`,
 * `field` (the root field that needs it) and HTTP 403. Nothing of the operation ran.
 */
export class ForbiddenError extends GraphQLError {
  readonly outcomeUnknown = false;

  constructor(
    readonly requiredScope: Scope,
    readonly field: string,
  ) {
    super(`This operation needs the "${requiredScope}" scope (for ${field}); the key lacks it.`, {
      extensions: {
        code: "FORBIDDEN",
        requiredScope,
        field,
        http: { status: 403, headers: new HeaderMap() },
      },
    });
    this.name = "ForbiddenError";
  }
}

/** Who is calling. `rateKey` is what rate limits count under. */
export type AuthResult =
  /** A configured API key. */
  | {
      readonly kind: "key";
      readonly name: string;
      readonly scopes: readonly Scope[];
      readonly rateKey: string;
    }
  /** No key is configured (loopback or sandbox only): every scope. */
  | { readonly kind: "open"; readonly scopes: readonly Scope[]; readonly rateKey: string }
  /**
   * Pass-through: the caller's own reseller credentials, every scope on their own account.
   * `password` is not enumerable, so `JSON.stringify` and loggers leave it out.
   */
  | {
      readonly kind: "passthrough";
      readonly login: string;
      readonly password: string;
      readonly scopes: readonly Scope[];
      readonly rateKey: string;
    }
  /** Refused: throw `error` (HTTP 401). */
  | { readonly kind: "denied"; readonly error: AuthenticationError };

/** Request headers as node:http or Apollo's `HeaderMap` give them. */
export type AuthHeaders =
  | Readonly<Record<string, string | readonly string[] | undefined>>
  | { get(name: string): string | undefined };

function authorizationHeader(headers: AuthHeaders): string | undefined {
  if (typeof (headers as { get?: unknown }).get === "function") {
    return (headers as { get(name: string): string | undefined }).get("authorization");
  }
  const value = (headers as Readonly<Record<string, string | readonly string[] | undefined>>)
    .authorization;
  return typeof value === "string" ? value : value?.[0];
}

const BEARER = /^Bearer +(\S+) *$/i;
const BASIC = /^Basic +([A-Za-z0-9+/]+={0,2}) *$/i;
const BEARER_CHALLENGE = `Bearer realm="${AUTH_REALM}"`;
const BASIC_CHALLENGE = `Basic realm="${AUTH_REALM}", charset="UTF-8"`;

/** The rate-limit key of an upstream account: `account:` and 16 hex digits of sha256(login). */
export function accountRateKey(login: string): string {
  return `account:${accountTag(login)}`;
}

/**
 * Builds the per-request authentication of `settings` (digests decoded once). The returned
 * function never throws and does no I/O; it returns `denied` for a missing, malformed or unknown
 * credential. A presented key is hashed and compared with every configured digest with
 * `timingSafeEqual`, without stopping at a match. Pass-through credentials are only decoded here:
 * check them with `createCredentialVerifier` before serving anything.
 */
export function createAuthenticator(settings: AuthSettings): (headers: AuthHeaders) => AuthResult {
  const keys = settings.apiKeys.map(key => ({
    name: key.name,
    scopes: key.scopes,
    digest: Buffer.from(key.sha256, "hex"),
  }));

  if (settings.mode === "passthrough") {
    return headers => {
      const match = BASIC.exec(authorizationHeader(headers) ?? "");
      const decoded = match?.[1] ? Buffer.from(match[1], "base64").toString("utf8") : "";
      const colon = decoded.indexOf(":");
      const login = colon > 0 ? decoded.slice(0, colon) : "";
      const password = colon > 0 ? decoded.slice(colon + 1) : "";
      // eslint-disable-next-line no-control-regex
      if (login === "" || password === "" || /[\u0000-\u001f]/.test(login)) {
        return {
          kind: "denied",
          error: new AuthenticationError(
            "Send your reseller credentials as Authorization: Basic base64(login:password)",
            BASIC_CHALLENGE,
          ),
        };
      }
      const result = {
        kind: "passthrough" as const,
        login,
        scopes: SCOPES,
        rateKey: accountRateKey(login),
      };
      Object.defineProperty(result, "password", { value: password, enumerable: false });
      return result as typeof result & { readonly password: string };
    };
  }

  if (keys.length === 0) {
    return () => ({ kind: "open", scopes: SCOPES, rateKey: "open" });
  }

  return headers => {
    const header = authorizationHeader(headers);
    const match = header === undefined ? null : BEARER.exec(header);
    if (!match?.[1]) {
      return {
        kind: "denied",
        error: new AuthenticationError(
          header === undefined
            ? "Missing API key: send Authorization: Bearer <key>"
            : "Malformed Authorization header: send Authorization: Bearer <key>",
          BEARER_CHALLENGE,
        ),
      };
    }
    const digest = createHash("sha256").update(match[1], "utf8").digest();
    let found: (typeof keys)[number] | undefined;
    for (const key of keys) {
      // Every digest is compared, so the time taken does not depend on which key matched.
      const equal = timingSafeEqual(digest, key.digest);
      if (equal && found === undefined) {
        found = key;
      }
    }
    if (!found) {
      return {
        kind: "denied",
        error: new AuthenticationError(
          "Invalid API key",
          `${BEARER_CHALLENGE}, error="invalid_token"`,
        ),
      };
    }
    return { kind: "key", name: found.name, scopes: found.scopes, rateKey: `key:${found.name}` };
  };
}

/**
 * Authenticates one request with `settings`. Convenience for `createAuthenticator(settings)(headers)`;
 * build the authenticator once instead where requests are many.
 */
export function authenticate(headers: AuthHeaders, settings: AuthSettings): AuthResult {
  return createAuthenticator(settings)(headers);
}

/**
 * The scope each root field needs. Every query is `read` (`quoteCertificate` and
 * `checkCertificate` too: they order nothing). `resendCertificateValidation` is `order`: it is a
 * step of ordering, and a read-only key must not make the CA mail domain owners. Revoking and
 * cancelling are `manage`. Webhooks are `read`: a webhook receives only the events the key can
 * read anyway, and each key sees and deletes only its own. Subscriptions are `read`. A root
 * field missing here needs `read` under Query and `manage` elsewhere (fail closed).
 */
export const ROOT_FIELD_SCOPES: Readonly<
  Record<"Query" | "Mutation" | "Subscription", Readonly<Record<string, Scope>>>
> = Object.freeze({
  Query: Object.freeze({
    checkCertificate: "read",
    quoteCertificate: "read",
    certificate: "read",
    certificates: "read",
    certificateOrder: "read",
    certificateOrders: "read",
    certificateContact: "read",
    certificateContacts: "read",
    certificateClass: "read",
    certificateClasses: "read",
    certificateEvents: "read",
    webhooks: "read",
    webhookDeliveries: "read",
  }),
  Mutation: Object.freeze({
    orderCertificate: "order",
    renewCertificate: "order",
    reissueCertificate: "order",
    createCertificateContact: "order",
    resendCertificateValidation: "order",
    revokeCertificate: "manage",
    cancelCertificateOrder: "manage",
    revokeCertificateOrder: "manage",
    createWebhook: "read",
    deleteWebhook: "read",
  }),
  Subscription: Object.freeze({
    certificateUpdated: "read",
  }),
});

/**
 * The scope a root field of `operation` needs; `undefined` for `__typename`. Introspection
 * (`__schema`, `__type`) needs `read`.
 */
export function requiredScope(operation: OperationTypeNode, field: string): Scope | undefined {
  if (field === "__typename") {
    return undefined;
  }
  if (operation === OperationTypeNode.QUERY) {
    return ROOT_FIELD_SCOPES.Query[field] ?? "read";
  }
  if (operation === OperationTypeNode.MUTATION) {
    return ROOT_FIELD_SCOPES.Mutation[field] ?? "manage";
  }
  return ROOT_FIELD_SCOPES.Subscription[field] ?? "manage";
}

/**
 * The root fields of the operation `operationName` of `document` (the only one when no name is
 * given), with the scope each needs, following fragments. Empty when there is no such operation.
 */
export function scopesOfOperation(
  document: DocumentNode,
  operationName: string | null | undefined,
): { readonly field: string; readonly scope: Scope }[] {
  const operations = document.definitions.filter(
    (definition): definition is OperationDefinitionNode =>
      definition.kind === Kind.OPERATION_DEFINITION,
  );
  const operation = operationName
    ? operations.find(candidate => candidate.name?.value === operationName)
    : operations.length === 1
      ? operations[0]
      : undefined;
  if (!operation) {
    return [];
  }
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) {
      fragments.set(definition.name.value, definition);
    }
  }
  const result: { field: string; scope: Scope }[] = [];
  const seen = new Set<string>();
  const visit = (set: SelectionSetNode): void => {
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        const field = selection.name.value;
        const scope = requiredScope(operation.operation, field);
        if (scope && !result.some(entry => entry.field === field)) {
          result.push({ field, scope });
        }
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        visit(selection.selectionSet);
      } else if (!seen.has(selection.name.value)) {
        seen.add(selection.name.value);
        const fragment = fragments.get(selection.name.value);
        if (fragment) {
          visit(fragment.selectionSet);
        }
      }
    }
  };
  visit(operation.selectionSet);
  return result;
}

/**
 * `ForbiddenError` for the first root field of the operation whose scope is not in `scopes`
 * (most powerful scope first, so the message names what to ask for), else `undefined`. Pure.
 */
export function checkScopes(
  document: DocumentNode,
  operationName: string | null | undefined,
  scopes: readonly Scope[],
): ForbiddenError | undefined {
  const missing = scopesOfOperation(document, operationName).filter(
    entry => !scopes.includes(entry.scope),
  );
  missing.sort((a, b) => SCOPES.indexOf(b.scope) - SCOPES.indexOf(a.scope));
  const [first] = missing;
  return first ? new ForbiddenError(first.scope, first.field) : undefined;
}

/**
 * An Apollo plugin that refuses (HTTP 403, `FORBIDDEN`) an operation the caller's scopes do not
 * cover, once the operation is resolved and before anything executes. `scopesOf` reads the
 * scopes from the request's context (`AuthResult.scopes`).
 */
export function createScopePlugin<TContext extends BaseContext>(
  scopesOf: (context: TContext) => readonly Scope[],
): ApolloServerPlugin<TContext> {
  return {
    requestDidStart() {
      return Promise.resolve({
        didResolveOperation(requestContext) {
          const error = checkScopes(
            requestContext.document,
            requestContext.operationName,
            scopesOf(requestContext.contextValue),
          );
          return error ? Promise.reject(error) : Promise.resolve();
        },
      });
    },
  };
}

/** True for `localhost`, 127.0.0.0/8, `::1` (bracketed or not) and IPv4-mapped loopback. */
export function isLoopbackHost(host: string): boolean {
  const bare = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, "");
  if (bare === "localhost" || bare === "::1" || bare === "0:0:0:0:0:0:0:1") {
    return true;
  }
  const v4 = bare.replace(/^::ffff:/, "");
  const parts = v4.split(".");
  return (
    parts.length === 4 &&
    parts[0] === "127" &&
    parts.every(part => /^\d{1,3}$/.test(part) && Number(part) <= 255)
  );
}

/** True when a gateway without keys may start: bound to loopback, or on the embedded sandbox. */
export function openModeAllowed(where: { host: string; embeddedSandbox: boolean }): boolean {
  return where.embeddedSandbox || isLoopbackHost(where.host);
}

/** Start-up refused: no API key configured on a gateway others can reach. */
export class OpenModeRefusedError extends Error {
  override readonly name = "OpenModeRefusedError";
}

/**
 * What start-up says about authentication (log `notice`), or throws `OpenModeRefusedError` when
 * keys mode has no key, the gateway is not bound to loopback and not on the embedded sandbox.
 */
export function checkStartupAuth(
  auth: AuthSettings,
  where: { host: string; embeddedSandbox: boolean },
): { readonly open: boolean; readonly notice: string } {
  if (auth.mode === "passthrough") {
    return {
      open: false,
      notice:
        "Authentication: pass-through; callers send their own reseller credentials " +
        "(Authorization: Basic)",
    };
  }
  if (auth.apiKeys.length > 0) {
    return {
      open: false,
      notice: `Authentication: ${auth.apiKeys.length} API key(s): ${auth.apiKeys.map(k => k.name).join(", ")}`,
    };
  }
  if (!openModeAllowed(where)) {
    throw new OpenModeRefusedError(
      `No API key is configured and HOST=${where.host} is not a loopback address: anyone who ` +
        "can reach the gateway could use the reseller account. Set GATEWAY_API_KEYS or " +
        "GATEWAY_API_KEYS_FILE, use GATEWAY_AUTH=passthrough, or bind HOST=127.0.0.1.",
    );
  }
  return {
    open: true,
    notice: where.embeddedSandbox
      ? "Authentication: OFF (no API key configured; the upstream is the embedded sandbox)"
      : `Authentication: OFF (no API key configured; listening on loopback ${where.host} only)`,
  };
}

/** Options of `createCredentialVerifier`. */
export interface CredentialVerifierOptions {
  /**
   * Checks credentials upstream with one cheap read (e.g. `QueryCertificateContactList` with
   * `limit: 1`). Resolves when accepted; rejects with `UpstreamError` `UPSTREAM_AUTHENTICATION`
   * when refused (any other rejection is passed on).
   */
  readonly check: (login: string, password: string) => Promise<void>;
  /** How long a success is believed, in ms; default 300 000 (5 minutes). */
  readonly ttlMs?: number;
  /** Most remembered successes; default 10 000 (oldest dropped first). */
  readonly maxEntries?: number;
  readonly now?: () => number;
}

/** Checks pass-through credentials upstream, remembering successes for a while. */
export interface CredentialVerifier {
  /**
   * Resolves when the upstream accepted `login`/`password` within the TTL (asking it otherwise;
   * concurrent checks of the same credentials share one call). Rejects with
   * `AuthenticationError` (401) when refused, or with the check's own error.
   */
  verify(login: string, password: string): Promise<void>;
  /** Forgets a success (the upstream refused the credentials later on). */
  forget(login: string, password: string): void;
}

/**
 * Creates a verifier. Successes are remembered under HMAC-SHA256(per-process random key,
 * login NUL password), never the password; failures are not remembered (rate limits per
 * account bound guessing).
 */
export function createCredentialVerifier(options: CredentialVerifierOptions): CredentialVerifier {
  const ttlMs = options.ttlMs ?? 300_000;
  const maxEntries = Math.max(1, options.maxEntries ?? 10_000);
  const now = options.now ?? Date.now;
  const secret = randomBytes(32);
  const verified = new Map<string, number>();
  const pending = new Map<string, Promise<void>>();
  const fingerprint = (login: string, password: string): string =>
    createHmac("sha256", secret).update(`${login}\u0000${password}`, "utf8").digest("hex");

  return {
    verify(login, password) {
      const key = fingerprint(login, password);
      const until = verified.get(key);
      if (until !== undefined && until > now()) {
        return Promise.resolve();
      }
      verified.delete(key);
      let flight = pending.get(key);
      if (!flight) {
        flight = options
          .check(login, password)
          .then(
            () => {
              verified.set(key, now() + ttlMs);
              while (verified.size > maxEntries) {
                const oldest = verified.keys().next().value;
                if (oldest === undefined) {
                  break;
                }
                verified.delete(oldest);
              }
            },
            (error: unknown) => {
              throw toPassthroughError(error);
            },
          )
          .finally(() => pending.delete(key));
        pending.set(key, flight);
      }
      return flight;
    },
    forget(login, password) {
      verified.delete(fingerprint(login, password));
    },
  };
}

function toPassthroughError(error: unknown): unknown {
  if (error instanceof UpstreamError && error.code === "UPSTREAM_AUTHENTICATION") {
    return new AuthenticationError(
      "The upstream refused these reseller credentials (login, password, role or IP address)",
      BASIC_CHALLENGE,
    );
  }
  return error;
}

/**
 * Wraps the per-request client of a pass-through caller: a call refused with
 * `UPSTREAM_AUTHENTICATION` (the password changed since it was verified) rejects with
 * `AuthenticationError` (401) and makes `verifier` forget the credentials. `close` closes `client`.
 */
export function withPassthroughAuth(
  client: UpstreamClient,
  credentials: { readonly login: string; readonly password: string },
  verifier: CredentialVerifier,
): UpstreamClient {
  async function call<C extends CommandName>(
    command: C,
    args: CommandArgs<C>,
    callOptions?: CallOptions,
  ) {
    try {
      return await client.call(command, args, callOptions);
    } catch (error) {
      if (error instanceof UpstreamError && error.code === "UPSTREAM_AUTHENTICATION") {
        verifier.forget(credentials.login, credentials.password);
      }
      throw toPassthroughError(error);
    }
  }
  return { call, close: () => client.close() };
}
