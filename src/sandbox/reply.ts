/**
 * Replies of the sandbox as data: a code, a description and properties, encoded by the shared
 * codec (`encodeReply`) only at the HTTP edge. Handlers return a `SandboxReply` or throw a
 * `SandboxError`; both end up as one protocol reply.
 */
import { type ReplyProperty } from "../upstream/codec";

/** The standard description of each result code the sandbox answers (upstream-protocol.md). */
export const STANDARD_TEXTS: Readonly<Record<number, string>> = Object.freeze({
  200: "Command completed successfully",
  421: "Command failed due to server error. Client should try again",
  500: "Invalid command name",
  504: "Missing required attribute",
  505: "Invalid attribute value syntax",
  530: "Authentication failed",
  541: "Parameter value policy error",
  545: "Entity reference not found",
  547: "Invalid command sequence",
  549: "Command failed",
});

/** A reply before encoding. Properties are kept in the order given (see `PropertyBag`). */
export interface SandboxReply {
  code: number;
  description: string;
  properties: ReplyProperty[];
}

/** `<standard text>` or `<standard text>; <detail>` as the provider writes its descriptions. */
export function describe(code: number, detail?: string): string {
  const text = STANDARD_TEXTS[code] ?? "Command failed";
  return detail ? `${text}; ${detail}` : text;
}

/**
 * A rule of the provider was broken: the handler stops and the dispatcher answers `code` with
 * `<standard text>; <detail>`. `properties` are added to the reply (e.g. a `FAILxxxxxxx` id).
 */
export class SandboxError extends Error {
  override readonly name = "SandboxError";
  constructor(
    readonly code: number,
    readonly detail?: string,
    readonly properties: ReplyProperty[] = [],
  ) {
    super(describe(code, detail));
  }
}

/** Shorthands for the codes handlers throw, so a rule reads as one line. */
export const fail = {
  /** 504: a required parameter is missing. */
  missing: (name: string, detail?: string): SandboxError =>
    new SandboxError(504, detail ? `${name}: ${detail}` : name),
  /** 505: a value is not of the expected syntax. */
  syntax: (detail: string): SandboxError => new SandboxError(505, detail),
  /** 541: a well-formed value breaks a rule of the class or product. */
  policy: (detail: string): SandboxError => new SandboxError(541, detail),
  /** 545: the object does not exist in the caller's account. */
  notFound: (kind: string, id: string): SandboxError =>
    new SandboxError(545, `${kind} ${id} not found`),
  /** 547: the object is not in a state that allows the command. */
  sequence: (detail: string): SandboxError => new SandboxError(547, detail),
  /** 549: the command could not be carried out. */
  failed: (detail: string): SandboxError => new SandboxError(549, detail),
};

/**
 * Collects properties by name and emits them in alphabetical order of name, as the manual's
 * examples do. Adding to a name twice appends values (parallel lists stay aligned by the caller).
 */
export class PropertyBag {
  private readonly map = new Map<string, (string | number)[]>();

  /** Appends one or more values to `name`; `undefined` adds nothing. */
  add(name: string, ...items: (string | number | undefined)[]): this {
    const list = this.map.get(name) ?? [];
    for (const item of items) {
      if (item !== undefined) {
        list.push(item);
      }
    }
    if (list.length > 0) {
      this.map.set(name, list);
    }
    return this;
  }

  /** Adds `name` with exactly one value, which may be empty (`property[x][0] =`). */
  set(name: string, item: string | number): this {
    this.map.set(name, [item]);
    return this;
  }

  /** Adds every value of a list (each becomes one index). Empty lists add nothing. */
  list(name: string, items: readonly (string | number)[]): this {
    if (items.length > 0) {
      this.map.set(name, [...(this.map.get(name) ?? []), ...items]);
    }
    return this;
  }

  /** Adds a multi-line text (PEM) one line per index; an empty text adds nothing. */
  lines(name: string, text: string | undefined): this {
    if (text) {
      this.list(
        name,
        text.split(/\r?\n/).filter(line => line.trim() !== ""),
      );
    }
    return this;
  }

  /** The properties in alphabetical order of name (empty lists left out). */
  toProperties(): ReplyProperty[] {
    return [...this.map.entries()]
      .filter(([, items]) => items.length > 0)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }
}

/** A successful reply carrying `properties` (already ordered). */
export function ok(properties: ReplyProperty[] | PropertyBag = []): SandboxReply {
  return {
    code: 200,
    description: STANDARD_TEXTS[200] ?? "",
    properties: properties instanceof PropertyBag ? properties.toProperties() : properties,
  };
}

/** The reply of a `SandboxError`. */
export function errorReply(error: SandboxError): SandboxReply {
  return {
    code: error.code,
    description: describe(error.code, error.detail),
    properties: error.properties,
  };
}
