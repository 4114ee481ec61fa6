import { PemError } from "./errors";

/** DER tag bytes used by the X.509 and PKCS #10 readers in this folder. */
export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  SEQUENCE: 0x30,
  SET: 0x31,
  /** `[0]` constructed: certificate version, CSR attributes, AKI-less wrappers. */
  CONTEXT_0: 0xa0,
  /** `[3]` constructed: certificate extensions. */
  CONTEXT_3: 0xa3,
} as const;

/** One DER element: its tag byte and where its header and content sit in the buffer. */
export interface DerElement {
  /** The identifier octet (class, constructed bit and tag number). */
  readonly tag: number;
  /** Offset of the identifier octet. */
  readonly start: number;
  /** Offset of the first content octet. */
  readonly contentStart: number;
  /** Offset just past the last content octet. */
  readonly end: number;
}

/**
 * Reads the element that starts at `offset` and must end by `limit`.
 * Only definite lengths of up to four octets are accepted: that is all DER allows for
 * objects this size, and it keeps a hostile length from pointing past the input.
 *
 * @throws PemError `MALFORMED` when the header is cut short or the length overruns `limit`.
 */
export function readElement(buf: Uint8Array, offset: number, limit = buf.length): DerElement {
  const tag = buf[offset];
  const first = buf[offset + 1];
  if (tag === undefined || first === undefined || offset + 2 > limit) {
    throw malformed("truncated DER header");
  }
  if ((tag & 0x1f) === 0x1f) {
    throw malformed("multi-byte DER tags are not used in X.509");
  }
  let length = first;
  let contentStart = offset + 2;
  if (first & 0x80) {
    const octets = first & 0x7f;
    if (octets === 0 || octets > 4) {
      throw malformed("indefinite or oversized DER length");
    }
    length = 0;
    for (let i = 0; i < octets; i++) {
      const b = buf[contentStart + i];
      if (b === undefined) {
        throw malformed("truncated DER length");
      }
      length = length * 256 + b;
    }
    contentStart += octets;
  }
  const end = contentStart + length;
  if (end > limit) {
    throw malformed("DER length runs past the end of the data");
  }
  return { tag, start: offset, contentStart, end };
}

/**
 * Reads the single top-level element of `buf`, which must fill it exactly.
 *
 * @throws PemError `MALFORMED` on a bad header or trailing bytes.
 */
export function readRoot(buf: Uint8Array): DerElement {
  const root = readElement(buf, 0);
  if (root.end !== buf.length) {
    throw malformed("trailing data after the DER object");
  }
  return root;
}

/**
 * Lists the elements inside a constructed element, in order.
 *
 * @throws PemError `MALFORMED` when `el` is primitive or a child overruns it.
 */
export function readChildren(buf: Uint8Array, el: DerElement): DerElement[] {
  if (!(el.tag & 0x20)) {
    throw malformed("expected a constructed DER element");
  }
  const children: DerElement[] = [];
  let offset = el.contentStart;
  while (offset < el.end) {
    const child = readElement(buf, offset, el.end);
    children.push(child);
    offset = child.end;
  }
  return children;
}

/**
 * Returns `el` when it carries `tag`.
 *
 * @throws PemError `MALFORMED` when `el` is missing or has another tag.
 */
export function expectTag(el: DerElement | undefined, tag: number, what: string): DerElement {
  if (!el || el.tag !== tag) {
    throw malformed(`expected ${what}`);
  }
  return el;
}

/** The content octets of `el` (a view, not a copy). */
export function contentOf(buf: Uint8Array, el: DerElement): Buffer {
  return Buffer.from(buf.buffer, buf.byteOffset + el.contentStart, el.end - el.contentStart);
}

/** The whole encoding of `el`, header included (a view, not a copy). */
export function encodingOf(buf: Uint8Array, el: DerElement): Buffer {
  return Buffer.from(buf.buffer, buf.byteOffset + el.start, el.end - el.start);
}

/**
 * Decodes an OBJECT IDENTIFIER element to dotted form (`1.2.840.113549.1.1.11`).
 *
 * @throws PemError `MALFORMED` when `el` is not a well-formed OID.
 */
export function readOid(buf: Uint8Array, el: DerElement | undefined): string {
  const bytes = contentOf(buf, expectTag(el, TAG.OID, "an OBJECT IDENTIFIER"));
  if (bytes.length === 0 || (bytes[bytes.length - 1]! & 0x80) !== 0) {
    throw malformed("truncated OBJECT IDENTIFIER");
  }
  const arcs: number[] = [];
  let value = 0;
  for (const b of bytes) {
    value = value * 128 + (b & 0x7f);
    if (value > Number.MAX_SAFE_INTEGER) {
      throw malformed("OBJECT IDENTIFIER arc too large");
    }
    if (!(b & 0x80)) {
      arcs.push(value);
      value = 0;
    }
  }
  const head = arcs.shift()!;
  const firstArc = head < 40 ? 0 : head < 80 ? 1 : 2;
  return [firstArc, head - firstArc * 40, ...arcs].join(".");
}

/**
 * The payload of a BIT STRING element and its count of unused trailing bits.
 *
 * @throws PemError `MALFORMED` when `el` is not a BIT STRING.
 */
export function readBitString(
  buf: Uint8Array,
  el: DerElement | undefined,
): { bytes: Buffer; unusedBits: number } {
  const content = contentOf(buf, expectTag(el, TAG.BIT_STRING, "a BIT STRING"));
  const unusedBits = content[0];
  if (unusedBits === undefined || unusedBits > 7) {
    throw malformed("bad BIT STRING");
  }
  return { bytes: content.subarray(1), unusedBits };
}

/**
 * A small non-negative INTEGER (versions, path lengths, salt lengths).
 *
 * @throws PemError `MALFORMED` when `el` is not an INTEGER that fits in 32 bits.
 */
export function readSmallInteger(buf: Uint8Array, el: DerElement | undefined): number {
  const bytes = contentOf(buf, expectTag(el, TAG.INTEGER, "an INTEGER"));
  if (bytes.length === 0 || bytes.length > 4 || (bytes[0]! & 0x80) !== 0) {
    throw malformed("INTEGER out of range");
  }
  return bytes.reduce((n, b) => n * 256 + b, 0);
}

/** Lower-case hex octets joined by colons, as the provider reports serials and key ids. */
export function toColonHex(bytes: Uint8Array): string {
  return Array.from(bytes, b => b.toString(16).padStart(2, "0")).join(":");
}

function malformed(message: string): PemError {
  return new PemError("MALFORMED", message);
}
