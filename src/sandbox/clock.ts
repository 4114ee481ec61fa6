/**
 * Time in the sandbox: an injectable clock and the two date formats the provider writes (UTC).
 * Nothing here starts a timer.
 */

/** Returns the current time. Tests inject a controllable one; the default is real time. */
export type Clock = () => Date;

/** The real clock. */
export const systemClock: Clock = () => new Date();

const DAY_MS = 86_400_000;

function pad(value: number, width = 2): string {
  return String(value).padStart(width, "0");
}

/** `2022-06-27 13:05:54`: the format of list rows (manual 9.1.23, 9.1.31) and event dates. */
export function formatListDate(date: Date | undefined): string {
  if (!date) {
    return "";
  }
  return (
    `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())} ` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`
  );
}

/** `2022-06-27 13:05:54.0`: the format of status and order replies (manual 9.1.16, 9.1.21). */
export function formatStatusDate(date: Date | undefined): string {
  return date ? `${formatListDate(date)}.0` : "";
}

/** `date` plus whole calendar years in UTC (29 February rolls to 1 March). */
export function addYears(date: Date, years: number): Date {
  const next = new Date(date.getTime());
  next.setUTCFullYear(next.getUTCFullYear() + years);
  return next;
}

/** `date` plus days (may be fractional or negative). */
export function addDays(date: Date, days: number): Date {
  return new Date(date.getTime() + days * DAY_MS);
}

/** `date` plus milliseconds. */
export function addMs(date: Date, ms: number): Date {
  return new Date(date.getTime() + ms);
}

/** Drops the milliseconds: the provider's dates and X.509 validity have whole seconds. */
export function wholeSeconds(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}

/**
 * Parses `YYYY-MM-DD`, `YYYY-MM-DD HH:MM[:SS[.f]]` or an ISO date as UTC; `undefined` when the
 * text is not a date.
 */
export function parseDate(text: string): Date | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?Z?$/.exec(
    text.trim(),
  );
  if (!match) {
    return undefined;
  }
  const [, y, mo, d, h, mi, s] = match;
  const date = new Date(
    Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h ?? 0), Number(mi ?? 0), Number(s ?? 0)),
  );
  return Number.isNaN(date.getTime()) ? undefined : date;
}
