/**
 * The repository's Dockerfile and .dockerignore as data, for the deploy tests: stages with their
 * instructions, RUN commands split at `&&`, exec-form arguments, COPY sources, and a matcher that
 * applies .dockerignore the way Docker does (last matching rule wins; a rule matching a parent
 * directory matches everything below it).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  type Copy,
  type Dockerfile,
  DockerfileParser,
  type Env,
  type Healthcheck,
  type Instruction,
  type JSONInstruction,
} from "dockerfile-ast";

export const REPO_ROOT = join(__dirname, "..", "..", "..");

/** One stage: from its FROM up to the next. */
export interface Stage {
  readonly name: string | null;
  readonly image: string;
  readonly instructions: readonly Instruction[];
}

export interface DockerfileModel {
  readonly text: string;
  readonly dockerfile: Dockerfile;
  readonly stages: readonly Stage[];
}

export function readDockerfile(root = REPO_ROOT): DockerfileModel {
  const text = readFileSync(join(root, "Dockerfile"), "utf8");
  const dockerfile = DockerfileParser.parse(text);
  const stages: { name: string | null; image: string; instructions: Instruction[] }[] = [];
  const froms = dockerfile.getFROMs();
  for (const instruction of dockerfile.getInstructions()) {
    const from = froms.find(f => f.getRange().start.line === instruction.getRange().start.line);
    if (from) {
      stages.push({ name: from.getBuildStage(), image: from.getImage() ?? "", instructions: [] });
      continue;
    }
    const current = stages.at(-1);
    if (!current) {
      throw new Error(`${instruction.getKeyword()} before the first FROM`);
    }
    current.instructions.push(instruction);
  }
  return { text, dockerfile, stages };
}

export function keywordOf(instruction: Instruction): string {
  return instruction.getKeyword().toUpperCase();
}

export function instructionsOf(stage: Stage, keyword: string): Instruction[] {
  return stage.instructions.filter(i => keywordOf(i) === keyword);
}

/** The arguments of an exec-form (JSON) instruction, or `undefined` in shell form. */
export function execForm(instruction: Instruction): string[] | undefined {
  const strings = (instruction as JSONInstruction).getJSONStrings?.() ?? [];
  return strings.length > 0 ? strings.map(s => s.getJSONValue()) : undefined;
}

/** The commands of every RUN of `stage`, in order: each RUN split at `&&`, trimmed. */
export function runCommands(stage: Stage): string[] {
  return instructionsOf(stage, "RUN").flatMap(run =>
    (run.getArgumentsContent() ?? "")
      .split("&&")
      .map(command => command.trim())
      .filter(Boolean),
  );
}

/** The variables the stage's ENV instructions set. */
export function envOf(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const instruction of instructionsOf(stage, "ENV")) {
    for (const property of (instruction as Env).getProperties()) {
      env[property.getName()] = property.getUnescapedValue() ?? "";
    }
  }
  return env;
}

export interface CopyStep {
  /** `--from` stage, when copying from another stage. */
  readonly from: string | undefined;
  readonly sources: readonly string[];
  readonly destination: string;
  readonly flags: readonly string[];
}

export function copiesOf(stage: Stage): CopyStep[] {
  return instructionsOf(stage, "COPY").map(instruction => {
    const copy = instruction as Copy;
    const args = copy.getArguments().map(a => a.getValue());
    return {
      from: copy.getFromFlag()?.getValue() ?? undefined,
      sources: args.slice(0, -1),
      destination: args.at(-1) ?? "",
      flags: copy.getFlags().map(f => f.getName()),
    };
  });
}

/** The stage's working directory (its last WORKDIR). */
export function workdirOf(stage: Stage): string {
  const workdir = instructionsOf(stage, "WORKDIR").at(-1);
  return workdir?.getArgumentsContent() ?? "/";
}

export interface HealthcheckSpec {
  readonly flags: Readonly<Record<string, string>>;
  /** The exec-form command (after `CMD`), or `undefined` in shell form. */
  readonly command: string[] | undefined;
}

export function healthcheckOf(stage: Stage): HealthcheckSpec | undefined {
  const instruction = instructionsOf(stage, "HEALTHCHECK").at(-1) as Healthcheck | undefined;
  if (!instruction) {
    return undefined;
  }
  const flags: Record<string, string> = {};
  for (const flag of instruction.getFlags()) {
    flags[flag.getName()] = flag.getValue() ?? "";
  }
  const json = /\bCMD\s+(\[[\s\S]*\])\s*$/.exec(instruction.getArgumentsContent() ?? "");
  return { flags, command: json ? (JSON.parse(json[1]!) as string[]) : undefined };
}

/**
 * A matcher of the repository's .dockerignore: `excluded("src/main.ts")` is true when the file
 * would not be sent to the builder. Paths are relative to the context, with `/`.
 */
export function readDockerignore(root = REPO_ROOT): (path: string) => boolean {
  const rules = readFileSync(join(root, ".dockerignore"), "utf8")
    .split("\n")
    .map(line => line.trim())
    .filter(line => line !== "" && !line.startsWith("#"))
    .map(line => {
      const negate = line.startsWith("!");
      const pattern = (negate ? line.slice(1) : line).trim().replace(/^\/+|\/+$/g, "");
      const source = pattern
        .split(/(\*\*\/?|\*|\?)/)
        .map(part =>
          part === "**/"
            ? "(?:.*/)?"
            : part === "**"
              ? ".*"
              : part === "*"
                ? "[^/]*"
                : part === "?"
                  ? "[^/]"
                  : part.replace(/[.+^${}()|[\]\\]/g, "\\$&"),
        )
        .join("");
      return { negate, regex: new RegExp(`^${source}$`) };
    });
  return path => {
    const parts = path.split("/");
    const candidates = parts.map((_, i) => parts.slice(0, i + 1).join("/"));
    let excluded = false;
    for (const { negate, regex } of rules) {
      if (candidates.some(candidate => regex.test(candidate))) {
        excluded = !negate;
      }
    }
    return excluded;
  };
}
