/**
 * The variables `src/config.ts` reads, and env files as objects, so the deploy tests can check
 * that every setting in deploy/ is one the gateway knows and that the sets load.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DEFAULTS } from "../../../src/config";
import { REPO_ROOT } from "./dockerfile-model";

/** Every variable `loadConfig` reads, found in its source. */
export function knownVariables(): Set<string> {
  const source = readFileSync(join(REPO_ROOT, "src", "config.ts"), "utf8");
  const names = new Set<string>(Object.keys(DEFAULTS));
  for (const [, name] of source.matchAll(/\b(?:raw|string|int|flag)\(\s*"([A-Z][A-Z0-9_]*)"/g)) {
    names.add(name!);
  }
  for (const [, name] of source.matchAll(/\benv\.([A-Z][A-Z0-9_]*)\b/g)) {
    names.add(name!);
  }
  return names;
}

/** `KEY=value` lines of an env file (as Docker reads them: no quotes, no expansion). */
export function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) {
      continue;
    }
    const equals = trimmed.indexOf("=");
    if (equals <= 0) {
      throw new Error(`not KEY=value: ${trimmed}`);
    }
    env[trimmed.slice(0, equals)] = trimmed.slice(equals + 1);
  }
  return env;
}

/** An API key entry `loadConfig` accepts, made up for a test. */
export const TEST_API_KEYS = "shop:read+order:0123456789abcdef0123456789abcdef";
