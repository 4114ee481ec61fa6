/**
 * Pure encoding and decoding of the RRPproxy wire protocol (`../shared/docs/upstream-protocol.md`).
 * No I/O lives here: the client and the sandbox share these functions so they cannot drift.
 */

/** A value of one command parameter before encoding. Lists become `KEY0..n`. */
export type WireValue = string | number | boolean | null | undefined | readonly (string | number)[];

/** A command as an object: `{ command: "StatusCertificate", certificate: "DK12345678" }`. */
export type WireCommand = { readonly command: string } & { readonly [key: string]: WireValue };

/** Paging figures of a list reply (`first` is the offset, `limit` the page size). */
export interface WirePaging {
  count: number;
  first: number;
  last: number;
  limit: number;
  total: number;
}

/**
 * A decoded reply. Property names are normalised (lower case, no blanks), values keep the order in
 * which they appeared. `columns` lists the column names of a list reply, normalised too.
 */
export interface WireReply {
  code: number;
  description: string;
  runtime?: number;
  queuetime?: number;
  properties: ReadonlyMap<string, readonly string[]>;
  columns: readonly string[];
  paging?: WirePaging;
}

/** The body is not a reply of the protocol (empty, truncated, no code or description). */
export class WireFormatError extends Error {
  override readonly name = "WireFormatError";
}

/** Parameters whose values are PEM documents: sent as one line per index (`CSR0..n`). */
const MULTILINE_PARAMETERS = new Set(["CSR", "CRT"]);

const PAGING_KEYS = ["count", "first", "last", "limit", "total"] as const;

/** Normalises a property or parameter name: case- and blank-insensitive (`DCV Method` = `dcvmethod`). */
export function normalizeName(name: string): string {
  let normal = normalNames.get(name);
  if (normal === undefined) {
    normal = name.replace(/[\s]+/g, "").toLowerCase();
    // Replies repeat a few dozen names; a bound keeps odd input from growing the memo.
    if (normalNames.size >= NORMAL_NAMES_KEPT) {
      normalNames.clear();
    }
    normalNames.set(name, normal);
  }
  return normal;
}

/** Names normalised lately (every line of every reply has one). */
const normalNames = new Map<string, string>();
const NORMAL_NAMES_KEPT = 2_000;

function stripLineBreaks(value: string): string {
  return value.replace(/[\r\n]+/g, "");
}

function scalar(value: string | number | boolean): string {
  if (typeof value === "boolean") {
    return value ? "1" : "0";
  }
  return stripLineBreaks(String(value));
}

/** Splits a PEM (or any multi-line text) into its non-empty lines. */
export function splitLines(text: string): string[] {
  return text
    .split(/\r?\n|\r/)
    .map(line => line.trim())
    .filter(line => line.length > 0);
}

/**
 * Encodes a command as the `s_command` text: `KEY=value` lines joined by `\n`. Keys are upper case,
 * lists become `KEY0..n`, CR/LF are stripped from values, and PEM values of `csr`/`crt` are sent
 * one line per index. `null`, `undefined` and empty lists are left out.
 */
export function encodeCommand(command: WireCommand): string {
  const lines: string[] = [];
  for (const [rawKey, value] of Object.entries(command)) {
    if (value === undefined || value === null) {
      continue;
    }
    const key = rawKey.toUpperCase();
    if (Array.isArray(value)) {
      (value as readonly (string | number)[]).forEach((item, index) => {
        lines.push(`${key}${index}=${scalar(item)}`);
      });
    } else if (typeof value === "string" && MULTILINE_PARAMETERS.has(key)) {
      // Always indexed: the manual documents only CSR0..n / CRT0..n, never a bare CSR.
      splitLines(value).forEach((line, index) => lines.push(`${key}${index}=${line}`));
    } else {
      lines.push(`${key}=${scalar(value as string | number | boolean)}`);
    }
  }
  return lines.join("\n");
}

/** Credentials of one request: a password, or a session established with `persistent=1`. */
export type WireCredentials =
  | { readonly login: string; readonly password: string }
  | { readonly login: string; readonly sessionId: string };

/** Encodes the whole HTTP form body: `s_login`, `s_pw` or `s_sessionid`, and `s_command`. */
export function encodeRequest(command: WireCommand, credentials: WireCredentials): string {
  const form = new URLSearchParams();
  form.set("s_login", credentials.login);
  if ("password" in credentials) {
    form.set("s_pw", credentials.password);
  } else {
    form.set("s_sessionid", credentials.sessionId);
  }
  form.set("s_command", encodeCommand(command));
  return form.toString();
}

/** Encodes the login request that opens a persistent session (no `s_command`). */
export function encodeSessionRequest(login: string, password: string): string {
  const form = new URLSearchParams();
  form.set("s_login", login);
  form.set("s_pw", password);
  form.set("persistent", "1");
  return form.toString();
}

const PROPERTY_LINE = /^property\[([^\]]*)\]\[\s*(\d*)\s*\]$/i;

function parseNumber(text: string | undefined): number | undefined {
  if (text === undefined || text.trim() === "") {
    return undefined;
  }
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

/**
 * Decodes a reply body with the SDKs' tolerant rules: LF or CRLF, `[RESPONSE]`/`EOF`/blank lines
 * ignored, `key = value` split at the first `=`, blanks trimmed, property names normalised, values
 * appended in order of appearance. Throws `WireFormatError` when there is no code or description.
 */
export function decodeReply(body: string | Buffer): WireReply {
  const text = typeof body === "string" ? body : body.toString("utf8");
  const properties = new Map<string, string[]>();
  const top = new Map<string, string>();
  for (const rawLine of text.split(/\r?\n|\r/)) {
    const line = rawLine.trim();
    if (line === "" || /^\[response\]$/i.test(line) || /^eof$/i.test(line)) {
      continue;
    }
    const eq = line.indexOf("=");
    if (eq < 0) {
      continue;
    }
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    const match = PROPERTY_LINE.exec(key);
    if (match) {
      const name = normalizeName(match[1] ?? "");
      const values = properties.get(name);
      if (values) {
        values.push(value);
      } else {
        properties.set(name, [value]);
      }
    } else {
      top.set(normalizeName(key), value);
    }
  }
  const code = parseNumber(top.get("code"));
  const description = top.get("description");
  if (code === undefined || !Number.isInteger(code) || description === undefined) {
    throw new WireFormatError(
      text.trim() === "" ? "empty reply body" : "reply has no code or no description",
    );
  }
  const columns = (properties.get("column") ?? []).map(normalizeName);
  const reply: WireReply = {
    code,
    description,
    runtime: parseNumber(top.get("runtime")),
    queuetime: parseNumber(top.get("queuetime")),
    properties,
    columns,
  };
  const figures = PAGING_KEYS.map(k => parseNumber(properties.get(k)?.[0]));
  if (figures.some(f => f !== undefined)) {
    const [count, first, last, limit, total] = figures;
    reply.paging = {
      count: count ?? 0,
      first: first ?? 0,
      last: last ?? 0,
      limit: limit ?? 0,
      total: total ?? count ?? 0,
    };
  }
  return reply;
}

/** All values of a property (empty when absent). The name is matched like the SDKs do. */
export function values(reply: WireReply, name: string): readonly string[] {
  return reply.properties.get(normalizeName(name)) ?? [];
}

/** The first value of a property, or `undefined` when absent. An empty value stays `""`. */
export function value(reply: WireReply, name: string): string | undefined {
  return values(reply, name)[0];
}

/** A multi-line property (PEM, file contents) joined with `\n`, or `undefined` when absent/empty. */
export function multiline(reply: WireReply, name: string): string | undefined {
  const lines = values(reply, name).filter(line => line !== "");
  return lines.length > 0 ? `${lines.join("\n")}\n` : undefined;
}

/**
 * The rows of a list reply, one object per row keyed by normalised column name. Without
 * `property[column]` lines, the columns are every property except the paging figures.
 */
export function rows(reply: WireReply): Record<string, string>[] {
  const columns =
    reply.columns.length > 0
      ? reply.columns
      : [...reply.properties.keys()].filter(
          k => k !== "column" && !(PAGING_KEYS as readonly string[]).includes(k),
        );
  const length = Math.max(0, ...columns.map(c => reply.properties.get(c)?.length ?? 0));
  const result: Record<string, string>[] = [];
  for (let i = 0; i < length; i++) {
    const row: Record<string, string> = {};
    for (const column of columns) {
      row[column] = reply.properties.get(column)?.[i] ?? "";
    }
    result.push(row);
  }
  return result;
}

/** One property of a reply to encode: a name as the manual writes it and its values in order. */
export type ReplyProperty = readonly [name: string, values: readonly (string | number)[]];

/** Encodes a reply the way the provider writes it (used by the sandbox and by test fixtures). */
export function encodeReply(reply: {
  code: number;
  description: string;
  runtime?: number;
  queuetime?: number;
  properties?: readonly ReplyProperty[];
}): string {
  const lines = ["[RESPONSE]", `code = ${reply.code}`, `description = ${reply.description}`];
  if (reply.runtime !== undefined) {
    lines.push(`runtime = ${reply.runtime.toFixed(3)}`);
  }
  if (reply.queuetime !== undefined) {
    lines.push(`queuetime = ${reply.queuetime.toFixed(3)}`);
  }
  for (const [name, items] of reply.properties ?? []) {
    items.forEach((item, index) => {
      lines.push(`property[${name}][${index}] = ${stripLineBreaks(String(item))}`);
    });
  }
  lines.push("EOF", "");
  return lines.join("\n");
}

/** A decoded command: parameters by lower-case name (indexed ones kept as `domain0`, ...). */
export type DecodedCommand = ReadonlyMap<string, string>;

/**
 * Decodes the `s_command` text (`KEY=value` lines) into parameters by lower-case name. Blanks
 * around `=` are tolerated, as the manual writes commands with them.
 */
export function decodeCommand(text: string): Map<string, string> {
  const params = new Map<string, string>();
  for (const rawLine of text.split(/\r?\n|\r/)) {
    const line = rawLine.trim();
    if (line === "" || /^\[command\]$/i.test(line) || /^eof$/i.test(line)) {
      continue;
    }
    const eq = line.indexOf("=");
    if (eq < 0) {
      continue;
    }
    params.set(normalizeName(line.slice(0, eq)), line.slice(eq + 1).trim());
  }
  return params;
}

/**
 * Collects an indexed parameter (`domain0..n`, or a single `domain`) in index order. Gaps are
 * skipped; empty values are dropped.
 */
export function indexedParameter(params: DecodedCommand, name: string): string[] {
  const prefix = normalizeName(name);
  const found: [number, string][] = [];
  for (const [key, val] of params) {
    if (key === prefix && val !== "") {
      found.push([-1, val]);
    } else if (key.startsWith(prefix)) {
      const rest = key.slice(prefix.length);
      if (/^\d+$/.test(rest) && val !== "") {
        found.push([Number(rest), val]);
      }
    }
  }
  return found.sort((a, b) => a[0] - b[0]).map(([, v]) => v);
}
