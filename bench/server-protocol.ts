/**
 * The IPC messages between the bench and the child process that hosts the server under test
 * (`server-host.ts`). The server runs in its own process, as it would in production, so its CPU
 * is not shared with the sandbox and the load generator, and its memory is its own.
 */

/** What a host process serves: the gateway, or a bare Apollo Server with a trivial resolver. */
export type HostKind = "gateway" | "bare";

/** A memory sample of the host process, taken after forced garbage collection. */
export interface MemorySample {
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  readonly heapTotalBytes: number;
  readonly externalBytes: number;
  /** Used bytes per V8 heap space (`old_space`, `code_space`, …), to tell data from JIT code. */
  readonly heapSpaces: Readonly<Record<string, number>>;
}

/** Requests from the bench; `id` pairs each with its response. */
export type HostRequest =
  /**
   * Stops what runs (if anything) and starts a fresh server of `kind`: for the gateway, a new
   * `createGateway(loadConfig(env))`, i.e. cold caches, new pool, new Apollo Server.
   */
  | { readonly id: number; readonly type: "start"; readonly kind: HostKind; readonly env: Env }
  /** Forces garbage collection and answers `memory`. */
  | { readonly id: number; readonly type: "memory" }
  /** Stops the server; the process then exits. */
  | { readonly id: number; readonly type: "stop" };

/** Responses of the host. */
export type HostResponse =
  | {
      readonly id: number;
      readonly ok: true;
      readonly url?: string;
      readonly memory?: MemorySample;
    }
  | { readonly id: number; readonly ok: false; readonly error: string };

/** The environment given to `loadConfig` in the host (never the host's `process.env`). */
export type Env = Readonly<Record<string, string>>;
