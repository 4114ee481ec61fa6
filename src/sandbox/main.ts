/**
 * Entry of `npm run sandbox`: the sandbox alone, for partners' CI. Reads the `SANDBOX_*`
 * variables through `loadConfig`, starts, prints the URL and the logins, and stops cleanly on
 * SIGINT/SIGTERM.
 */
import "reflect-metadata";
import { loadConfig } from "../config";
import { startSandbox } from "./server";

async function main(): Promise<void> {
  const { sandbox } = loadConfig();
  const started = Date.now();
  const handle = await startSandbox({
    host: sandbox.host,
    port: sandbox.port,
    accounts: sandbox.accounts,
    seed: sandbox.seed,
    latencyMs: sandbox.latencyMs,
    issuanceDelayMs: sandbox.issuanceDelayMs,
  });
  console.log(`RRPproxy SSL sandbox listening on ${handle.url}`);
  console.log(
    `accounts: ${handle.accounts.map(a => a.login).join(", ")} (passwords from SANDBOX_ACCOUNTS)`,
  );
  if (sandbox.seed > 0) {
    console.log(
      `seeded ${sandbox.seed} sample certificates per account in ${Date.now() - started} ms`,
    );
  }
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      return;
    }
    stopping = true;
    console.log(`${signal}: stopping the sandbox`);
    handle.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
