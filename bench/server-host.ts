/**
 * Child process entry (forked by `server-process.ts` with `--expose-gc`): hosts one server under
 * test at a time and obeys the bench's IPC requests (`server-protocol.ts`). Exits when told to
 * stop or when the bench goes away.
 */
import "reflect-metadata";
import { getHeapSpaceStatistics } from "node:v8";
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import { loadConfig } from "../src/config";
import { createGateway } from "../src/gateway";
import {
  type Env,
  type HostKind,
  type HostRequest,
  type HostResponse,
  type MemorySample,
} from "./server-protocol";

interface Running {
  readonly url: string;
  stop(): Promise<void>;
}

let running: Running | undefined;

async function startGateway(env: Env): Promise<Running> {
  const gateway = await createGateway(loadConfig(env));
  return { url: gateway.url, stop: () => gateway.stop() };
}

/** The reference: Apollo Server's own standalone HTTP server and one trivial resolver. */
async function startBare(): Promise<Running> {
  const server = new ApolloServer({
    typeDefs: "type Query { hello: String! }",
    resolvers: { Query: { hello: () => "world" } },
  });
  const { url } = await startStandaloneServer(server, { listen: { port: 0, host: "127.0.0.1" } });
  return { url, stop: () => server.stop() };
}

async function start(kind: HostKind, env: Env): Promise<string> {
  await stopRunning();
  running = kind === "gateway" ? await startGateway(env) : await startBare();
  // Building a schema leaves garbage behind; collect it now, so that the first (cold) request
  // is not charged for the restart, which a long-running gateway with a cold cache never pays.
  await collectGarbage();
  return running.url;
}

async function stopRunning(): Promise<void> {
  const current = running;
  running = undefined;
  await current?.stop();
}

const nextTick = () => new Promise<void>(resolve => setImmediate(resolve));

/** Full garbage collection; throws without `--expose-gc`. */
async function collectGarbage(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) {
    throw new Error("the host runs without --expose-gc");
  }
  // Twice, with a turn of the event loop between: finalizers and weak references of the first
  // collection are only reclaimed by the next one.
  gc();
  await nextTick();
  gc();
}

/** Quiet time after a round before memory is sampled: deferred frees and V8's reducer run. */
const SETTLE_MS = 500;

async function memory(): Promise<MemorySample> {
  await collectGarbage();
  await new Promise(resolve => setTimeout(resolve, SETTLE_MS));
  await collectGarbage();
  const usage = process.memoryUsage();
  return {
    rssBytes: usage.rss,
    heapUsedBytes: usage.heapUsed,
    heapTotalBytes: usage.heapTotal,
    externalBytes: usage.external,
    heapSpaces: Object.fromEntries(
      getHeapSpaceStatistics().map(space => [space.space_name, space.space_used_size]),
    ),
  };
}

async function answer(request: HostRequest): Promise<HostResponse> {
  switch (request.type) {
    case "start":
      return { id: request.id, ok: true, url: await start(request.kind, request.env) };
    case "memory":
      return { id: request.id, ok: true, memory: await memory() };
    case "stop":
      await stopRunning();
      return { id: request.id, ok: true };
  }
}

function send(response: HostResponse, then?: () => void): void {
  if (process.connected && process.send) {
    process.send(response, undefined, undefined, () => then?.());
  } else {
    then?.();
  }
}

process.on("message", (message: HostRequest) => {
  answer(message).then(
    response => send(response, message.type === "stop" ? () => process.exit(0) : undefined),
    (error: unknown) =>
      send({
        id: message.id,
        ok: false,
        error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      }),
  );
});

// The bench went away (crashed or killed): do not outlive it.
process.on("disconnect", () => {
  void stopRunning()
    .catch(() => undefined)
    .finally(() => process.exit(0));
});
