/**
 * Where webhooks may be sent: URL rules, the private-address rule, and the undici `Agent` that
 * enforces that rule on the address actually connected to (so a name that resolved to a public
 * address when the webhook was registered and to a private one later, DNS rebinding, is refused).
 */
import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { isIP, type LookupFunction } from "node:net";
import { Agent, buildConnector, type Dispatcher } from "undici";

/** Longest accepted webhook URL, in characters. */
export const MAX_WEBHOOK_URL_LENGTH = 2048;

/** What is wrong with a webhook URL (`WebhookUrlError.reason`). */
export type WebhookUrlProblem =
  | "malformed"
  | "too-long"
  | "scheme"
  | "credentials"
  | "fragment"
  | "private-address"
  | "unresolvable";

/** A webhook URL refused, at registration or when connecting; the message says what to fix. */
export class WebhookUrlError extends Error {
  /** A stable code, for mapping onto client-facing errors and for finding it in a cause chain. */
  readonly code = "WEBHOOK_URL_REFUSED";

  constructor(
    readonly reason: WebhookUrlProblem,
    message: string,
  ) {
    super(message);
    this.name = "WebhookUrlError";
  }
}

/** Options of the checks below. */
export interface WebhookTargetOptions {
  /** Allow loopback, private, link-local and other non-public addresses (tests, closed networks). */
  readonly allowPrivate: boolean;
}

/**
 * Checks the syntax of `url`: absolute, `https:` or `http:`, no user name or password, no
 * fragment, at most `MAX_WEBHOOK_URL_LENGTH` characters, and (unless `allowPrivate`) no private IP
 * literal as host. Returns the parsed URL. Does not resolve names (`resolveWebhookTarget` does).
 *
 * @throws WebhookUrlError saying what to fix.
 */
export function checkWebhookUrl(url: string, options: WebhookTargetOptions): URL {
  if (url.length > MAX_WEBHOOK_URL_LENGTH) {
    throw new WebhookUrlError(
      "too-long",
      `The webhook URL is ${url.length} characters long; use at most ${MAX_WEBHOOK_URL_LENGTH}.`,
    );
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new WebhookUrlError(
      "malformed",
      "The webhook URL is not an absolute URL; give one like https://hooks.example.com/ssl.",
    );
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
    throw new WebhookUrlError(
      "scheme",
      `The webhook URL uses ${parsed.protocol}; use https: (or http:).`,
    );
  }
  if (parsed.username !== "" || parsed.password !== "") {
    throw new WebhookUrlError(
      "credentials",
      "The webhook URL contains a user name or password; remove them and verify the " +
        "Webhook-Signature header instead.",
    );
  }
  if (parsed.hash !== "" || url.includes("#")) {
    throw new WebhookUrlError("fragment", "The webhook URL has a #fragment; remove it.");
  }
  if (parsed.hostname === "") {
    throw new WebhookUrlError("malformed", "The webhook URL has no host.");
  }
  const literal = unbracket(parsed.hostname);
  if (!options.allowPrivate && isIP(literal) !== 0 && isPrivateAddress(literal)) {
    throw privateAddressError(literal);
  }
  return parsed;
}

/** `dns.lookup` with `all: true`, as `resolveWebhookTarget` needs it (injectable for tests). */
export type ResolveAll = (hostname: string) => Promise<readonly LookupAddress[]>;

const resolveAllWithDns: ResolveAll = hostname =>
  new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true, verbatim: true }, (error, addresses) =>
      error ? reject(error) : resolve(addresses),
    );
  });

/**
 * `checkWebhookUrl`, then resolves the host (`dns.lookup`, all addresses): refuses a name that
 * does not resolve, and (unless `allowPrivate`) one whose every address is private. A name with
 * some public addresses is accepted; deliveries then only ever connect to those (see
 * `createWebhookAgent`). Returns the parsed URL.
 *
 * @throws WebhookUrlError saying what to fix.
 */
export async function resolveWebhookTarget(
  url: string,
  options: WebhookTargetOptions & { readonly resolve?: ResolveAll },
): Promise<URL> {
  const parsed = checkWebhookUrl(url, options);
  const host = unbracket(parsed.hostname);
  if (isIP(host) !== 0) {
    return parsed;
  }
  let addresses: readonly LookupAddress[];
  try {
    addresses = await (options.resolve ?? resolveAllWithDns)(host);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new WebhookUrlError(
      "unresolvable",
      `The webhook host ${host} does not resolve${typeof code === "string" ? ` (${code})` : ""}; ` +
        "check the name, or publish its DNS records first.",
    );
  }
  if (addresses.length === 0) {
    throw new WebhookUrlError(
      "unresolvable",
      `The webhook host ${host} has no addresses; publish its DNS records first.`,
    );
  }
  if (!options.allowPrivate && addresses.every(entry => isPrivateAddress(entry.address))) {
    throw privateAddressError(host, addresses.map(entry => entry.address).join(", "));
  }
  return parsed;
}

/** Options of `createWebhookAgent`. */
export interface WebhookAgentOptions extends WebhookTargetOptions {
  /** Longest wait for the TCP (and TLS) connection, in ms. */
  readonly connectTimeoutMs: number;
  /** The resolver (default `dns.lookup`); tests inject one. */
  readonly lookup?: LookupFunction;
}

/**
 * An undici `Agent` for deliveries that, unless `allowPrivate`, never connects to a private
 * address: IP literals are checked before connecting, and names are resolved by a lookup that
 * drops private addresses (connecting to the public ones only) and fails with a
 * `WebhookUrlError` (`private-address`) when none is left. The check is on the very address
 * connected to, at every connection. Close it when done.
 */
export function createWebhookAgent(options: WebhookAgentOptions): Agent {
  const resolver = options.lookup ?? dnsLookup;
  const guardedLookup: LookupFunction = (hostname, lookupOptions, callback) => {
    resolver(hostname, { ...lookupOptions, all: true }, (error, found) => {
      if (error) {
        callback(error, "", undefined);
        return;
      }
      const all = typeof found === "string" ? [{ address: found, family: isIP(found) }] : found;
      const allowed = all.filter(entry => !isPrivateAddress(entry.address));
      const first = allowed[0];
      if (first === undefined) {
        const listed = all.map(entry => entry.address).join(", ");
        callback(privateAddressError(hostname, listed), "", undefined);
        return;
      }
      if (lookupOptions.all === true) {
        callback(null, allowed);
      } else {
        callback(null, first.address, first.family);
      }
    });
  };
  const connect = buildConnector({
    timeout: options.connectTimeoutMs,
    ...(options.allowPrivate ? {} : { lookup: guardedLookup }),
  });
  const guarded: buildConnector.connector = (connectOptions, callback) => {
    const host = unbracket(connectOptions.hostname);
    // Node's net skips `lookup` for IP literals, so they are judged here.
    if (!options.allowPrivate && isIP(host) !== 0 && isPrivateAddress(host)) {
      callback(privateAddressError(host), null);
      return;
    }
    connect(connectOptions, callback);
  };
  return new Agent({ connect: guarded });
}

/** The `WebhookUrlError` (`private-address`) in `error` or its causes, if any. */
export function findPrivateAddressRefusal(error: unknown): WebhookUrlError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current !== undefined && current !== null; depth += 1) {
    if (current instanceof WebhookUrlError && current.reason === "private-address") {
      return current;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** The dispatcher type deliveries go through (an `Agent` from `createWebhookAgent` in production). */
export type WebhookDispatcher = Dispatcher;

function privateAddressError(host: string, addresses?: string): WebhookUrlError {
  const what = addresses === undefined ? host : `${host} (${addresses})`;
  return new WebhookUrlError(
    "private-address",
    `The webhook host ${what} is a loopback, private or otherwise non-public address; use a ` +
      "publicly reachable host (private targets are allowed only when the gateway is configured " +
      "with GATEWAY_WEBHOOK_ALLOW_PRIVATE=true).",
  );
}

function unbracket(host: string): string {
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}

/**
 * True when `ip` is not a public unicast address, so webhooks must not reach it: IPv4 0/8,
 * 10/8, 100.64/10 (CGNAT), 127/8, 169.254/16, 172.16/12, 192.0.0/24, 192.0.2/24, 192.168/16,
 * 198.18/15, 198.51.100/24, 203.0.113/24, 224/4 and above (multicast, reserved, broadcast);
 * IPv6 ::, ::1, ::/96 (IPv4-compatible), 100::/64, 2001:db8::/32, fc00::/7, fe80::/10 (and the
 * deprecated fec0::/10), ff00::/8; and for IPv4-mapped (::ffff:a.b.c.d), NAT64 (64:ff9b::/96)
 * and 6to4 (2002::/16) addresses, the IPv4 address they carry. Anything that is not an IP
 * address counts as private (refused).
 */
export function isPrivateAddress(ip: string): boolean {
  const address = ip.includes("%") ? ip.slice(0, ip.indexOf("%")) : ip;
  switch (isIP(address)) {
    case 4:
      return isPrivateIpv4(parseIpv4(address));
    case 6: {
      const groups = parseIpv6(address);
      return groups === undefined ? true : isPrivateIpv6(groups);
    }
    default:
      return true;
  }
}

function parseIpv4(address: string): number {
  return address.split(".").reduce((value, part) => value * 256 + Number(part), 0);
}

/** An IPv4 address (as a 32-bit unsigned number) inside `base/bits`. */
function inV4(value: number, base: string, bits: number): boolean {
  const size = 2 ** (32 - bits);
  return Math.floor(value / size) === Math.floor(parseIpv4(base) / size);
}

const PRIVATE_V4: readonly (readonly [string, number])[] = [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 3], // 224/4 multicast, 240/4 reserved, 255.255.255.255 broadcast
];

function isPrivateIpv4(value: number): boolean {
  return PRIVATE_V4.some(([base, bits]) => inV4(value, base, bits));
}

/** The eight 16-bit groups of an IPv6 address (validated by `isIP` before). */
function parseIpv6(address: string): number[] | undefined {
  let text = address.toLowerCase();
  const embedded: number[] = [];
  const lastColon = text.lastIndexOf(":");
  const last = text.slice(lastColon + 1);
  if (last.includes(".")) {
    // A trailing dotted IPv4 address stands for the last two groups.
    const v4 = parseIpv4(last);
    embedded.push(Math.floor(v4 / 65536), v4 % 65536);
    text = text.slice(0, lastColon + 1);
    if (!text.endsWith("::")) {
      text = text.slice(0, -1);
    }
  }
  const numbers = (value: string | undefined): number[] =>
    value === undefined || value === "" ? [] : value.split(":").map(group => parseInt(group, 16));
  const compressed = text.indexOf("::");
  const left = numbers(compressed === -1 ? text : text.slice(0, compressed));
  const right = numbers(compressed === -1 ? undefined : text.slice(compressed + 2));
  const missing = 8 - left.length - right.length - embedded.length;
  if (missing < 0 || (compressed === -1 && missing !== 0)) {
    return undefined;
  }
  const groups = [...left, ...new Array<number>(missing).fill(0), ...right, ...embedded];
  return groups.some(group => Number.isNaN(group)) ? undefined : groups;
}

function isPrivateIpv6(groups: readonly number[]): boolean {
  const g = (index: number): number => groups[index] ?? 0;
  const embeddedV4 = g(6) * 65536 + g(7);
  const zeroUpTo = (count: number): boolean => groups.slice(0, count).every(group => group === 0);
  if (zeroUpTo(5) && g(5) === 0xffff) {
    return isPrivateIpv4(embeddedV4); // IPv4-mapped ::ffff:a.b.c.d
  }
  if (zeroUpTo(6)) {
    return true; // ::, ::1 and the deprecated IPv4-compatible ::a.b.c.d
  }
  if (g(0) === 0x64 && g(1) === 0xff9b && groups.slice(2, 6).every(group => group === 0)) {
    return isPrivateIpv4(embeddedV4); // NAT64 64:ff9b::a.b.c.d
  }
  if (g(0) === 0x2002) {
    return isPrivateIpv4(g(1) * 65536 + g(2)); // 6to4 carries the IPv4 address in groups 1-2
  }
  return (
    (g(0) === 0x100 && zeroUpTo(4)) || // 100::/64 discard
    (g(0) === 0x2001 && g(1) === 0xdb8) || // documentation
    (g(0) & 0xfe00) === 0xfc00 || // fc00::/7 unique local
    (g(0) & 0xffc0) === 0xfe80 || // fe80::/10 link-local
    (g(0) & 0xffc0) === 0xfec0 || // fec0::/10 site-local (deprecated)
    (g(0) & 0xff00) === 0xff00 // ff00::/8 multicast
  );
}
