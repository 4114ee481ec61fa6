/**
 * CORS for browser frontends: exact origins from `GATEWAY_CORS_ORIGINS` (scheme, host and port,
 * nothing else; no wildcards). Outside production with nothing configured, loopback origins
 * (`http://localhost:<any port>`, `127.0.0.1`, `[::1]`, http or https) are allowed so a local
 * frontend works out of the box; in production nothing is allowed by default.
 *
 * `Access-Control-Allow-Credentials: true` is sent only to listed origins, never to the
 * development loopback default. Every answer on the API carries `Vary: Origin`, so a shared cache
 * never serves one origin's answer to another. Preflights are answered by `handlePreflight`.
 */

/** How CORS is configured, as `config.cors` holds it. */
export interface CorsSettings {
  /** Exact origins (`https://shop.example`), as `new URL(origin).origin` spells them. */
  readonly origins: readonly string[];
  /** Also allow loopback origins (development default when no origin is listed). */
  readonly allowLoopback: boolean;
}

/** Request headers a browser may send (`Access-Control-Allow-Headers`). */
export const CORS_ALLOWED_HEADERS: readonly string[] = Object.freeze([
  "content-type",
  "authorization",
  "x-request-id",
  "apollo-require-preflight",
  "x-apollo-operation-name",
  "idempotency-key",
]);

/** Response headers a browser script may read (`Access-Control-Expose-Headers`). */
export const CORS_EXPOSED_HEADERS: readonly string[] = Object.freeze([
  "retry-after",
  "x-request-id",
  "www-authenticate",
]);

/** Methods of the API (`Access-Control-Allow-Methods`). */
export const CORS_ALLOWED_METHODS: readonly string[] = Object.freeze(["GET", "POST", "OPTIONS"]);

/** How long a browser may cache a preflight answer, in seconds. */
export const CORS_MAX_AGE_SECONDS = 600;

const LOOPBACK_ORIGIN = /^https?:\/\/(localhost|127(\.\d{1,3}){3}|\[::1\])(:\d{1,5})?$/i;

/** How an origin is allowed: `listed` (credentials too), `loopback` (development), or not. */
export type OriginVerdict = "listed" | "loopback" | "denied";

/** Whether `origin` may call the API under `settings`. Comparison is exact (case-sensitive host as sent by browsers: lower case). */
export function originVerdict(origin: string | undefined, settings: CorsSettings): OriginVerdict {
  if (origin === undefined || origin === "" || origin === "null") {
    return "denied";
  }
  if (settings.origins.includes(origin)) {
    return "listed";
  }
  if (settings.allowLoopback && LOOPBACK_ORIGIN.test(origin)) {
    return "loopback";
  }
  return "denied";
}

/**
 * Headers to add to an actual (non-preflight) answer: always `Vary: Origin`; for an allowed
 * origin also `Access-Control-Allow-Origin: <origin>` and `Access-Control-Expose-Headers`, and
 * `Access-Control-Allow-Credentials: true` for a listed one. An origin that is not allowed gets
 * no CORS header (the browser then hides the answer). Pure.
 */
export function corsHeaders(
  origin: string | undefined,
  settings: CorsSettings,
): Record<string, string> {
  const headers: Record<string, string> = { vary: "Origin" };
  const verdict = originVerdict(origin, settings);
  if (verdict === "denied" || origin === undefined) {
    return headers;
  }
  headers["access-control-allow-origin"] = origin;
  headers["access-control-expose-headers"] = CORS_EXPOSED_HEADERS.join(", ");
  if (verdict === "listed") {
    headers["access-control-allow-credentials"] = "true";
  }
  return headers;
}

/** The answer to a preflight: status and headers, empty body. */
export interface PreflightAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
}

/** True for a CORS preflight: `OPTIONS` with `Origin` and `Access-Control-Request-Method`. */
export function isPreflight(
  method: string | undefined,
  headers: Readonly<Record<string, string | readonly string[] | undefined>>,
): boolean {
  return (
    method?.toUpperCase() === "OPTIONS" &&
    typeof headers.origin === "string" &&
    typeof headers["access-control-request-method"] === "string"
  );
}

/**
 * Answers a preflight. Allowed origin and method (GET or POST): 204 with the allowed methods and
 * headers, `Access-Control-Max-Age`, and credentials for a listed origin. Otherwise 403 without
 * CORS headers (the browser refuses the real request). `Vary` names the request headers the
 * answer depends on. Pure.
 */
export function handlePreflight(
  origin: string | undefined,
  requestMethod: string | undefined,
  settings: CorsSettings,
): PreflightAnswer {
  const vary = { vary: "Origin, Access-Control-Request-Method, Access-Control-Request-Headers" };
  const verdict = originVerdict(origin, settings);
  const method = requestMethod?.toUpperCase();
  if (verdict === "denied" || origin === undefined || (method !== "GET" && method !== "POST")) {
    return { status: 403, headers: vary };
  }
  const headers: Record<string, string> = {
    ...vary,
    "access-control-allow-origin": origin,
    "access-control-allow-methods": CORS_ALLOWED_METHODS.join(", "),
    "access-control-allow-headers": CORS_ALLOWED_HEADERS.join(", "),
    "access-control-max-age": String(CORS_MAX_AGE_SECONDS),
  };
  if (verdict === "listed") {
    headers["access-control-allow-credentials"] = "true";
  }
  return { status: 204, headers };
}

/**
 * Parses `GATEWAY_CORS_ORIGINS`: comma-separated exact origins (`https://shop.example`,
 * `http://localhost:5173`). `*`, paths, queries, user info and non-http(s) schemes are problems.
 * Returns the normalised origins and every problem. Pure.
 */
export function parseCorsOrigins(
  text: string,
  variable = "GATEWAY_CORS_ORIGINS",
): { origins: string[]; problems: string[] } {
  const origins: string[] = [];
  const problems: string[] = [];
  text.split(",").forEach((raw, index) => {
    const entry = raw.trim();
    const where = `${variable} entry ${index + 1}`;
    if (entry === "*") {
      problems.push(`${where}: "*" is not accepted; list each origin (https://shop.example)`);
      return;
    }
    let url: URL;
    try {
      url = new URL(entry);
    } catch {
      problems.push(`${where} must be an origin like https://shop.example`);
      return;
    }
    const trailing = entry.endsWith("/") ? entry.slice(0, -1) : entry;
    if (
      (url.protocol !== "http:" && url.protocol !== "https:") ||
      url.username !== "" ||
      url.password !== "" ||
      trailing.toLowerCase() !== url.origin.toLowerCase()
    ) {
      problems.push(
        `${where} must be scheme://host[:port] only, http or https, without path or credentials`,
      );
      return;
    }
    if (!origins.includes(url.origin)) {
      origins.push(url.origin);
    }
  });
  return { origins, problems };
}
