/**
 * Typed reads of a decoded command (parameters by lower-case name, as `decodeCommand` gives them).
 * Every reader throws the `SandboxError` the provider would answer: 504 for a missing required
 * parameter, 505 for a value of the wrong syntax.
 */
import { type DecodedCommand, normalizeName } from "../upstream/codec";
import { fail } from "./reply";

/** Parameters of one command by normalised name (lower case, no blanks). */
export type Params = DecodedCommand;

/** One value of an indexed parameter with its index (`-1` for the bare name, e.g. `domain`). */
export interface IndexedValue {
  index: number;
  value: string;
}

/** The trimmed value of `name`, or `undefined` when absent or empty. */
export function optional(params: Params, name: string): string | undefined {
  const found = params.get(normalizeName(name));
  if (found === undefined) {
    return undefined;
  }
  const trimmed = found.trim();
  return trimmed === "" ? undefined : trimmed;
}

/** The value of `name`; a missing or empty value answers 504. */
export function required(params: Params, name: string): string {
  const found = optional(params, name);
  if (found === undefined) {
    throw fail.missing(name);
  }
  return found;
}

/** A `0|1` flag (absent = `false`); anything else answers 505. */
export function flag(params: Params, name: string): boolean {
  const found = optional(params, name);
  if (found === undefined || found === "0") {
    return false;
  }
  if (found === "1") {
    return true;
  }
  throw fail.syntax(`${name}: expected 0 or 1, got "${found}"`);
}

/** A non-negative whole number (absent = `fallback`); anything else answers 505. */
export function count(params: Params, name: string, fallback: number): number {
  const found = optional(params, name);
  if (found === undefined) {
    return fallback;
  }
  if (!/^\d{1,9}$/.test(found)) {
    throw fail.syntax(`${name}: expected a whole number, got "${found}"`);
  }
  return Number(found);
}

/**
 * One of `allowed` compared case-insensitively (absent = `undefined`); returns the canonical
 * spelling from `allowed`. Anything else answers 505.
 */
export function oneOf<T extends string>(
  params: Params,
  name: string,
  allowed: readonly T[],
): T | undefined {
  const found = optional(params, name);
  if (found === undefined) {
    return undefined;
  }
  const match = allowed.find(a => a.toLowerCase() === found.toLowerCase());
  if (match === undefined) {
    throw fail.syntax(`${name}: "${found}" is not one of ${allowed.join(", ")}`);
  }
  return match;
}

/**
 * Every value of an indexed parameter (`domain0..n`, or the bare `domain`) with its index, in
 * index order. Empty values are dropped. Unlike the codec's `indexedParameter` the index is kept,
 * so parallel parameters (`dcvemail<i>` for `domain<i>`) can be paired.
 */
export function indexed(params: Params, name: string): IndexedValue[] {
  const prefix = normalizeName(name);
  const found: IndexedValue[] = [];
  for (const [key, raw] of params) {
    const value = raw.trim();
    if (value === "" || !key.startsWith(prefix)) {
      continue;
    }
    const rest = key.slice(prefix.length);
    if (rest === "") {
      found.push({ index: -1, value });
    } else if (/^\d{1,4}$/.test(rest)) {
      found.push({ index: Number(rest), value });
    }
  }
  return found.sort((a, b) => a.index - b.index);
}

/**
 * A PEM document sent one line per index (`csr0..n`) or whole (`csr`, with line breaks), joined
 * with `\n` and ending in a line break; `undefined` when absent.
 */
export function pem(params: Params, name: string): string | undefined {
  const lines = indexed(params, name).flatMap(({ value }) => value.split(/\r?\n|\r/));
  const text = lines.map(line => line.trim()).filter(line => line !== "");
  return text.length > 0 ? `${text.join("\n")}\n` : undefined;
}

/** Names of the parameters that carry PEM documents one line per index. */
export const PEM_PARAMETERS: readonly string[] = ["csr", "crt"];

/**
 * The parameters as a plain object for the call log: lower-case keys as received, except that
 * the lines of `csr0..n`/`crt0..n` are joined into one `csr`/`crt` value.
 */
export function toCallParams(params: Params): Record<string, string> {
  const record: Record<string, string> = {};
  for (const [key, value] of params) {
    if (PEM_PARAMETERS.some(p => key === p || new RegExp(`^${p}\\d+$`).test(key))) {
      continue;
    }
    record[key] = value;
  }
  for (const name of PEM_PARAMETERS) {
    const text = pem(params, name);
    if (text !== undefined) {
      record[name] = text.trimEnd();
    }
  }
  return record;
}
