import "reflect-metadata";
import { ConfigError, loadConfig } from "./config";
import { createGateway } from "./gateway";

async function main(): Promise<void> {
  const config = loadConfig();
  const gateway = await createGateway(config);
  // Before "ready" is printed: whoever waits for it may signal at once, and a signal that comes
  // before a listener exists kills the process with nothing stopped.
  const shutdown = (signal: string): void => {
    console.log(`${signal} received: finishing in-flight requests, then stopping.`);
    gateway.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  process.once("SIGINT", () => shutdown("SIGINT"));
  if (gateway.sandbox) {
    const account = config.sandbox.accounts[0];
    console.log(
      `Upstream: the built-in sandbox at ${gateway.sandbox.url} (account ${account?.login ?? "demo"}, ` +
        `${config.sandbox.seed} sample certificates). Set RRPPROXY_URL to use the provider.`,
    );
  } else {
    console.log(`Upstream: ${new URL(config.upstream.url).origin} as ${config.upstream.login}`);
  }
  console.log(`GraphQL gateway ready at ${gateway.url}`);
  if (config.server.explorer) {
    console.log(`Open ${gateway.url} in a browser to explore the API in Apollo Sandbox.`);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
