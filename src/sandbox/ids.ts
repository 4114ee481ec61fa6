/**
 * Identifiers and tokens of the sandbox. Object ids look like the provider's (manual 6.2, 9.1):
 * a certificate is its class prefix and 8 digits (`DK67473099`), an order the prefix, `0` and 8
 * digits (`DK098589617`), a contact `CC-` and 8 digits, a failed request `FAIL` and 7 digits.
 * Ids are unique across the whole sandbox (every account), drawn from a seeded generator so that
 * a run is reproducible; session ids alone come from the system's secure random source.
 */
import { randomBytes } from "node:crypto";

/** A deterministic pseudo-random generator of floats in [0, 1) (mulberry32). */
export type Random = () => number;

/** Creates a deterministic generator from a 32-bit seed. */
export function createRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A whole number in [min, max] drawn from `random`. */
export function randomInt(random: Random, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

/** One element of a non-empty list drawn from `random`. */
export function pick<T>(random: Random, items: readonly T[]): T {
  const item = items[Math.floor(random() * items.length)];
  if (item === undefined) {
    throw new RangeError("pick() needs a non-empty list");
  }
  return item;
}

const TOKEN_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz";
const HEX = "0123456789abcdef";

/** Allocates the sandbox's ids and tokens; every id it hands out is unique. */
export interface IdAllocator {
  /** `<prefix><8 digits>`, e.g. `DK67473099`. */
  certificate(prefix: string): string;
  /** `<prefix>0<8 digits>`, e.g. `DK098589617`. */
  order(prefix: string): string;
  /** `CC-<8 digits>`. */
  contact(): string;
  /** `FAIL<7 digits>`: the reference a failed order answers. */
  failure(): string;
  /** The CA's own numeric ids (`ca certificate id`, `ca order id`): 9 digits. */
  caId(): string;
  /** Increasing numeric event ids, unique across accounts. */
  event(): string;
  /** A DCV token: 32 characters of `[0-9a-z]` (manual 5.1.2). */
  token(): string;
  /** `length` lower-case hex digits. */
  hex(length: number): string;
  /** An unguessable session id (not from the seeded generator). */
  session(): string;
}

/** Creates the allocator of one sandbox. `seed` fixes the sequence of ids. */
export function createIdAllocator(seed = 0x5eed): IdAllocator {
  const random = createRandom(seed);
  const used = new Set<string>();
  let nextEvent = 1;

  function digits(length: number): string {
    let text = "";
    for (let i = 0; i < length; i++) {
      text += String(Math.floor(random() * 10));
    }
    return text;
  }

  function unique(make: () => string): string {
    for (;;) {
      const id = make();
      if (!used.has(id)) {
        used.add(id);
        return id;
      }
    }
  }

  function fromAlphabet(alphabet: string, length: number): string {
    let text = "";
    for (let i = 0; i < length; i++) {
      text += alphabet[Math.floor(random() * alphabet.length)];
    }
    return text;
  }

  return {
    // Certificate ids never start with 0 after the prefix, so they can't be mistaken for orders.
    certificate: prefix => unique(() => `${prefix}${randomInt(random, 1, 9)}${digits(7)}`),
    order: prefix => unique(() => `${prefix}0${digits(8)}`),
    contact: () => unique(() => `CC-${randomInt(random, 1, 9)}${digits(7)}`),
    failure: () => unique(() => `FAIL${randomInt(random, 1, 9)}${digits(6)}`),
    caId: () => unique(() => `${randomInt(random, 1, 9)}${digits(8)}`),
    event: () => String(nextEvent++),
    token: () => fromAlphabet(TOKEN_ALPHABET, 32),
    hex: length => fromAlphabet(HEX, length),
    session: () => randomBytes(16).toString("hex"),
  };
}
