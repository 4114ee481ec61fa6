/**
 * Script entry of `npm run schema:emit` (run from `dist/` after `tsc`): writes
 * `schema/schema.graphql`. Never runs at runtime.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { buildGatewaySchema, printGatewaySchema } from "./build-schema";

/** `schema/schema.graphql` of the repository, from `dist/src/emit-schema.js`. */
const TARGET = join(__dirname, "..", "..", "schema", "schema.graphql");

async function main(): Promise<void> {
  const sdl = printGatewaySchema(await buildGatewaySchema());
  await writeFile(TARGET, sdl, "utf8");
  console.log(`wrote ${TARGET}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
