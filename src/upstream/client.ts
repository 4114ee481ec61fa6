/**
 * The client of the upstream API. The implementation (undici Pool, sessions, retries, timeouts)
 * lands with the foundation issue; this interface is what loaders and resolvers program against.
 */
import { type WireReply } from "./codec";
import { type CommandArgs, type CommandName } from "./commands";

export interface CallOptions {
  /** Aborts the call (the GraphQL request ended). A costly command aborted after sending is an unknown outcome. */
  readonly signal?: AbortSignal;
}

export interface UpstreamClient {
  /**
   * Sends one command and resolves with its decoded reply when the code is 2xx. Rejects with an
   * `UpstreamError` otherwise. Reads are retried as the command table allows; writes never.
   */
  call<C extends CommandName>(
    command: C,
    args: CommandArgs<C>,
    options?: CallOptions,
  ): Promise<WireReply>;
  /** Ends the persistent session, if any, and closes the connection pool. */
  close(): Promise<void>;
}
