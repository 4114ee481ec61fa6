import { PemError } from "./errors";

/** One decoded PEM block. `label` is null for bare base64 input without armour. */
export interface PemBlock {
  readonly label: string | null;
  readonly der: Buffer;
}

/** PEM labels accepted for a PKCS #10 request, the first being the canonical one. */
export const CSR_LABELS = ["CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"] as const;

/** PEM labels accepted for an X.509 certificate, the first being the canonical one. */
export const CERTIFICATE_LABELS = ["CERTIFICATE", "X509 CERTIFICATE"] as const;

const BEGIN = "-----BEGIN ";
const END = "-----END ";
const DASHES = "-----";
const LABEL = /^[A-Z0-9][A-Z0-9 ]{0,63}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
// Generous for a chain bundle, small enough that hostile input cannot cost real time.
const MAX_INPUT_CHARS = 1 << 20;

/**
 * Finds every PEM block in `text` and decodes its base64 body. Tolerates what copy/paste
 * and transports do to PEM: surrounding text and whitespace, CRLF, lines joined by the
 * two-character escape `\n` (JSON, env files), lines joined by spaces, missing final
 * newline. Text with no armour at all is accepted when it is pure base64 (some clients
 * send the DER that way), yielding one block with a null label.
 *
 * @throws PemError `MALFORMED` for input over 1 MiB, a damaged BEGIN line, a block without
 * the END line of its own label, a body that is not valid base64, or armourless text that
 * is not base64 either.
 */
export function readPemBlocks(text: string): PemBlock[] {
  if (typeof text !== "string" || text.length > MAX_INPUT_CHARS) {
    throw new PemError("MALFORMED", "expected PEM text of a sensible size");
  }
  const unescaped = text.replace(/\\r\\n|\\n|\\r/g, "\n");
  const blocks: PemBlock[] = [];
  // A linear indexOf scan rather than one lazy regex, so hostile input cannot make it quadratic.
  let offset = unescaped.indexOf(BEGIN);
  while (offset !== -1) {
    const labelEnd = unescaped.indexOf(DASHES, offset + BEGIN.length);
    const label = labelEnd === -1 ? "" : unescaped.slice(offset + BEGIN.length, labelEnd);
    if (!LABEL.test(label)) {
      throw new PemError("MALFORMED", "PEM BEGIN line is damaged");
    }
    const bodyStart = labelEnd + DASHES.length;
    const end = `${END}${label}${DASHES}`;
    const bodyEnd = unescaped.indexOf(end, bodyStart);
    if (bodyEnd === -1) {
      throw new PemError("MALFORMED", `PEM block ${label} has no matching END line`);
    }
    blocks.push({ label, der: decodeBase64(unescaped.slice(bodyStart, bodyEnd)) });
    offset = unescaped.indexOf(BEGIN, bodyEnd + end.length);
  }
  if (blocks.length > 0) {
    return blocks;
  }
  return [{ label: null, der: decodeBase64(unescaped) }];
}

/**
 * Like {@link readPemBlocks} but never throws: junk yields an empty list. For cheap
 * guards that only look at the armour and base64, never at the ASN.1 inside.
 */
export function tryReadPemBlocks(text: string): PemBlock[] {
  try {
    return readPemBlocks(text).filter(block => block.label !== null);
  } catch {
    return [];
  }
}

/** Canonical PEM: `label` armour, 64-character base64 lines, LF endings, final newline. */
export function encodePem(label: string, der: Uint8Array): string {
  const base64 = Buffer.from(der).toString("base64");
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

function decodeBase64(body: string): Buffer {
  const compact = body.replace(/\s+/g, "");
  if (compact.length === 0 || compact.length % 4 !== 0 || !BASE64.test(compact)) {
    throw new PemError("MALFORMED", "PEM body is not valid base64");
  }
  return Buffer.from(compact, "base64");
}
