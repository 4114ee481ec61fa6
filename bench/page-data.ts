/**
 * What each alternative of a page scenario must produce, in one normalised shape, so the bench
 * can check that the gateway and the direct clients really fetched the same data (a fast client
 * that leaves a field out proves nothing). Pure.
 */

/** One line of the dashboard page. */
export interface DashboardRow {
  readonly id: string;
  /** GraphQL enum spelling: `ACTIVE`. */
  readonly status: string;
  /** Lower-case class name: `ssl123dv`. */
  readonly className: string;
  readonly orderId: string;
  /** ISO-8601, or null when unknown. */
  readonly paidUntil: string | null;
  readonly techEmail: string | null;
  readonly expiresAt: string | null;
}

/** A certificate of an order, as the order lists it. */
export interface OrderCertificate {
  readonly id: string;
  readonly status: string;
  readonly expiresAt: string | null;
}

/** The certificate detail page. */
export interface CertificateDetail {
  readonly id: string;
  readonly status: string;
  readonly commonName: string;
  readonly domains: readonly string[];
  readonly expiresAt: string | null;
  /** crt + intermediate, whitespace removed (PEM line breaks differ harmlessly). */
  readonly chain: string | null;
  /** SHA-256 fingerprint of the certificate, lower-case hex without separators. */
  readonly fingerprint: string | null;
  readonly className: string;
  readonly order: {
    readonly id: string;
    readonly status: string;
    readonly paidUntil: string | null;
    readonly certificates: readonly OrderCertificate[];
  };
  readonly techEmail: string | null;
  readonly organizationName: string | null;
  readonly evApproverEmail: string | null;
}

const WIRE_DATE = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?$/;

/** A wire date (`2022-06-27 13:05:54.0`, UTC) as ISO-8601; null when empty or unreadable. */
export function wireDate(text: string | undefined): string | null {
  const match = WIRE_DATE.exec((text ?? "").trim());
  if (!match) {
    return null;
  }
  const [, y, mo, d, h, mi, s, frac] = match;
  const millis = frac === undefined ? 0 : Math.round(Number(`0.${frac}`) * 1000);
  const date = new Date(
    Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), millis),
  );
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** A wire status (`active`, `cancel processing`) in the GraphQL enum's spelling. */
export function enumStatus(text: string | undefined): string {
  return (text ?? "")
    .trim()
    .toUpperCase()
    .replace(/[\s-]+/g, "_");
}

/** A PEM text (or several) with every blank removed, for comparison; null when empty. */
export function compactPem(...texts: (string | null | undefined)[]): string | null {
  const joined = texts
    .filter(t => t)
    .join("")
    .replace(/\s+/g, "");
  return joined === "" ? null : joined;
}

/** A hex fingerprint in any spelling (`AB:CD…`, `abcd…`) as lower-case hex. */
export function compactHex(text: string | null | undefined): string | null {
  const hex = (text ?? "").toLowerCase().replace(/[^0-9a-f]/g, "");
  return hex === "" ? null : hex;
}

/**
 * The paths where `actual` differs from `expected` (at most `limit`), e.g.
 * `[3].techEmail: "a@x" != "b@x"`. Empty when they are equal.
 */
export function differences(expected: unknown, actual: unknown, limit = 5): string[] {
  const found: string[] = [];
  const walk = (a: unknown, b: unknown, path: string): void => {
    if (found.length >= limit) {
      return;
    }
    if (Array.isArray(a) && Array.isArray(b)) {
      if (a.length !== b.length) {
        found.push(`${path}.length: ${a.length} != ${b.length}`);
        return;
      }
      a.forEach((item, index) => walk(item, b[index], `${path}[${index}]`));
      return;
    }
    if (a && b && typeof a === "object" && typeof b === "object") {
      const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
      for (const key of keys) {
        walk(
          (a as Record<string, unknown>)[key],
          (b as Record<string, unknown>)[key],
          `${path}.${key}`,
        );
      }
      return;
    }
    if (a !== b) {
      found.push(`${path}: ${JSON.stringify(a)} != ${JSON.stringify(b)}`);
    }
  };
  walk(expected, actual, "");
  return found;
}
