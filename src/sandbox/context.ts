/**
 * What a command handler receives and returns. Handlers are plain functions from a decoded
 * command (and the caller's account) to a reply; the server does the HTTP, the authentication,
 * the queueing per account and the settling of due transitions before calling them.
 */
import { type LifecycleContext } from "./lifecycle";
import { type Params } from "./params";
import { type SandboxReply } from "./reply";

/** The context of one command: the caller's account, its parameters and the time of the request. */
export interface HandlerContext extends LifecycleContext {
  /** Parameters by normalised name (lower case, no blanks). */
  params: Params;
  /** The time of the request (the sandbox's clock, read once per request). */
  now: Date;
  /** Time from an order to passed validation, in milliseconds. */
  issuanceDelayMs: number;
}

/** Handles one command. Throws `SandboxError` for the provider's error replies. */
export type Handler = (ctx: HandlerContext) => SandboxReply | Promise<SandboxReply>;
