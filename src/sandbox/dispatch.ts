/**
 * Maps command names to handlers and runs one command for an account: checks `apiversion`,
 * settles the account's due transitions, calls the handler and turns a `SandboxError` into the
 * provider's error reply.
 */
import { COMMANDS, type CommandName } from "../upstream/commands";
import { type Handler, type HandlerContext } from "./context";
import {
  AddCertificate,
  CheckCertificate,
  DeleteCertificate,
  QueryCertificateList,
  ReissueCertificate,
  RenewCertificate,
  ResendNotification,
  RevokeCertificate,
  StatusCertificate,
} from "./handlers/certificates.handler";
import {
  AddCertificateContact,
  QueryCertificateContactList,
  StatusCertificateContact,
} from "./handlers/contacts.handler";
import { DeleteEvent, QueryEventList, StatusEvent } from "./handlers/events.handler";
import { GetCertificateInfo, QueryCommandSyntax } from "./handlers/info.handler";
import {
  CancelCertificateOrder,
  QueryCertificateOrderList,
  RevokeCertificateOrder,
  StatusCertificateOrder,
} from "./handlers/orders.handler";
import { settleAccount } from "./lifecycle";
import { optional } from "./params";
import { errorReply, fail, SandboxError, type SandboxReply, describe } from "./reply";

/** The handler of every command except StopSession, which the server answers itself. */
export const HANDLERS: Readonly<Record<Exclude<CommandName, "StopSession">, Handler>> = {
  CheckCertificate,
  AddCertificate,
  RenewCertificate,
  ReissueCertificate,
  DeleteCertificate,
  RevokeCertificate,
  StatusCertificate,
  QueryCertificateList,
  CancelCertificateOrder,
  RevokeCertificateOrder,
  StatusCertificateOrder,
  QueryCertificateOrderList,
  AddCertificateContact,
  StatusCertificateContact,
  QueryCertificateContactList,
  ResendNotification,
  GetCertificateInfo,
  QueryCommandSyntax,
  QueryEventList,
  StatusEvent,
  DeleteEvent,
};

const BY_LOWER_CASE = new Map(
  (Object.keys(COMMANDS) as CommandName[]).map(name => [name.toLowerCase(), name]),
);

/** The command's name as the command table spells it (case-insensitive), or `undefined`. */
export function canonicalCommand(name: string): CommandName | undefined {
  return BY_LOWER_CASE.get(name.trim().toLowerCase());
}

function checkApiVersion(ctx: HandlerContext): void {
  const version = optional(ctx.params, "apiversion");
  if (version === undefined || version === "2") {
    return;
  }
  if (version === "1") {
    throw fail.policy(
      "apiversion 1 (the pre-2022 API) is not available in the sandbox; send APIVERSION=2",
    );
  }
  throw fail.syntax(`apiversion: "${version}" is not 1 or 2`);
}

/**
 * Runs `command` in `ctx`: settles the account's due transitions first, then the handler.
 * Never throws: a rule broken answers its code; an unexpected failure answers 421.
 */
export async function runCommand(
  ctx: HandlerContext,
  command: Exclude<CommandName, "StopSession">,
): Promise<SandboxReply> {
  try {
    checkApiVersion(ctx);
    await settleAccount(ctx, ctx.now);
    return await HANDLERS[command](ctx);
  } catch (error) {
    if (error instanceof SandboxError) {
      return errorReply(error);
    }
    const detail = error instanceof Error ? error.message : String(error);
    return { code: 421, description: describe(421, `sandbox failure: ${detail}`), properties: [] };
  }
}
