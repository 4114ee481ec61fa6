/**
 * The `Query*List` machinery shared by certificates, orders, contacts and events: `*`/`?`
 * patterns (case-insensitive), `orderby`/`order`, `first`/`limit` paging, `wide` columns, and the
 * reply with `column` names and the `count`/`first`/`last`/`limit`/`total` figures (9.1.10,
 * 9.1.23, 9.1.31).
 */
import { count, flag, oneOf, optional, type Params } from "./params";
import { fail, ok, PropertyBag, type SandboxReply } from "./reply";

/** Default page size of every list (9.1.10: `limit = 1000`). */
export const DEFAULT_LIMIT = 1000;

/** One column of a list: its name in the reply and how a row's value is read. */
export interface ListColumn<T> {
  name: string;
  value: (item: T) => string;
}

/** How one kind of object is listed. */
export interface ListSpec<T> {
  /** Columns without `wide=1` (the id column only). */
  columns: readonly ListColumn<T>[];
  /** Columns with `wide=1`, in the manual's order. */
  wideColumns: readonly ListColumn<T>[];
  /** Pattern filters: parameter name -> the value(s) of a row it is matched against. */
  filters: Readonly<Record<string, (item: T) => string | readonly string[]>>;
  /** `orderby` values (upper case, without `_`) -> the row's sort key. */
  orderBy: Readonly<Record<string, (item: T) => string>>;
  /** The `orderby` used when none is given (the id column, as the manual says). */
  defaultOrderBy: string;
  /** Extra filters that are not patterns (e.g. date ranges); return `false` to drop a row. */
  extraFilter?: (params: Params) => ((item: T) => boolean) | undefined;
}

/**
 * Compiles a provider pattern: `*` any run of characters, `?` one character, anything else
 * literal; matched against the whole value, case-insensitively.
 */
export function compilePattern(pattern: string): RegExp {
  const source = [...pattern]
    .map(ch => (ch === "*" ? ".*" : ch === "?" ? "." : ch.replace(/[.+^${}()|[\]\\]/g, "\\$&")))
    .join("");
  return new RegExp(`^${source}$`, "is");
}

/** `true` when `value` (or any of a list of values) matches `pattern`. */
export function matches(pattern: RegExp, value: string | readonly string[]): boolean {
  return typeof value === "string" ? pattern.test(value) : value.some(v => pattern.test(v));
}

/**
 * Answers a list command over `items`: filters, sorts (stable, ties by the default key), pages
 * and encodes the rows column by column with the paging figures.
 */
export function listReply<T>(items: readonly T[], params: Params, spec: ListSpec<T>): SandboxReply {
  const wide = flag(params, "wide");
  const first = count(params, "first", 0);
  const limit = count(params, "limit", DEFAULT_LIMIT);
  const direction = oneOf(params, "order", ["ASC", "DESC"] as const) ?? "ASC";
  const orderByText = optional(params, "orderby");
  const orderKey = orderByText?.toUpperCase().replace(/[_\s]/g, "") ?? spec.defaultOrderBy;
  const sortKey = spec.orderBy[orderKey];
  if (sortKey === undefined) {
    throw fail.syntax(
      `orderby: "${orderByText ?? ""}" is not one of ${Object.keys(spec.orderBy).join(", ")}`,
    );
  }
  const tieKey = spec.orderBy[spec.defaultOrderBy] ?? sortKey;

  const tests: ((item: T) => boolean)[] = [];
  for (const [name, read] of Object.entries(spec.filters)) {
    const pattern = optional(params, name);
    if (pattern !== undefined) {
      const regex = compilePattern(pattern);
      tests.push(item => matches(regex, read(item)));
    }
  }
  const extra = spec.extraFilter?.(params);
  if (extra) {
    tests.push(extra);
  }

  const sign = direction === "DESC" ? -1 : 1;
  const selected = items
    .filter(item => tests.every(test => test(item)))
    .map(item => ({ item, key: sortKey(item), tie: tieKey(item) }))
    .sort((a, b) => sign * (compare(a.key, b.key) || compare(a.tie, b.tie)))
    .map(entry => entry.item);
  const page = selected.slice(first, first + limit);

  const columns = wide ? spec.wideColumns : spec.columns;
  const bag = new PropertyBag();
  for (const column of columns) {
    bag.list(column.name, page.map(column.value));
  }
  bag.list(
    "column",
    columns.map(c => c.name),
  );
  bag.set("count", page.length);
  bag.set("first", first);
  bag.set("last", page.length > 0 ? first + page.length - 1 : first);
  bag.set("limit", limit);
  bag.set("total", selected.length);
  return ok(bag);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
