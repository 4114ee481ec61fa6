/**
 * The command table of the upstream's SSL API (manual chapter 8, events of 9.5). Names are the
 * upstream's own, used verbatim so a grep finds the codec, the sandbox handler, the loader and the
 * tests together. Each entry says whether the command may be retried and which timeout applies.
 */
import { type WireValue } from "./codec";

/** How a command may be treated when it fails. */
export type CommandKind =
  /** Reads nothing but state: safe to retry on 4xx (not 422) and transport failures. */
  | "read"
  /** Creates, costs or changes: never retried automatically; an unknown outcome is reported. */
  | "write";

/** Which of the client's timeouts applies: orders can take minutes, everything else is short. */
export type CommandTimeout = "read" | "order";

export interface CommandSpec {
  readonly kind: CommandKind;
  readonly timeout: CommandTimeout;
  /** Costs money or creates a certificate: an unknown outcome must never be resent blindly. */
  readonly costly: boolean;
}

type Flag = 0 | 1 | boolean;
type List = readonly string[];

/** Inline contact data, or handles, as AddCertificate/RenewCertificate accept them. */
export interface InlineContactArgs {
  techcontact?: List;
  organizationcontact?: string | List;
  evapprovercontact?: List;
  techfirstname?: List;
  techlastname?: List;
  techphone?: List;
  techemail?: List;
  techjobtitle?: string;
  evapproverfirstname?: string;
  evapproverlastname?: string;
  evapproverphone?: string;
  evapproveremail?: string;
  evapproverjobtitle?: string;
  organizationname?: string;
  organizationdba?: string;
  organizationstreet?: string;
  organizationzip?: string;
  organizationcity?: string;
  organizationstate?: string;
  organizationcountry?: string;
  organizationphone?: string;
  organizationemail?: string;
}

/** Filters and paging common to the `Query*List` commands (`*` and `?` patterns allowed). */
export interface ListArgs {
  wide?: Flag;
  first?: number;
  limit?: number;
  orderby?: string;
  order?: "ASC" | "DESC";
}

export interface CommandArgsMap {
  CheckCertificate: {
    csr?: string;
    crt?: string;
    domain?: List;
    class?: string;
    generatedcvtoken?: Flag;
  };
  AddCertificate: InlineContactArgs & {
    class: string;
    csr: string;
    domain: List;
    dcvmethod?: string;
    dcvemail?: List;
    dcvtoken?: string;
    servertype?: string;
    period?: string | number;
    checkonly?: Flag;
    noautofilldomains?: Flag;
  };
  RenewCertificate: InlineContactArgs & {
    certificate: string;
    csr?: string;
    domain?: List;
    dcvmethod?: string;
    dcvemail?: List;
    dcvtoken?: string;
    servertype?: string;
    period?: string | number;
    checkonly?: Flag;
  };
  ReissueCertificate: { certificate: string; csr?: string; dcvtoken?: string };
  DeleteCertificate: {
    certificate: string;
    action?: "REVOKE" | "CANCELORDER" | "REVOKEORDER";
  };
  RevokeCertificate: { certificate: string };
  StatusCertificate: { certificate: string };
  QueryCertificateList: ListArgs & {
    certificate?: string;
    certificateorder?: string;
    createddate?: string;
    status?: string;
    servertype?: string;
    updateddate?: string;
    expirationdate?: string;
    class?: string;
    domain?: string;
  };
  CancelCertificateOrder: { certificateorder: string };
  RevokeCertificateOrder: { certificateorder: string };
  StatusCertificateOrder: { certificateorder: string };
  QueryCertificateOrderList: ListArgs & {
    certificateorder?: string;
    paiduntil?: string;
    status?: string;
    class?: string;
    createddate?: string;
    updateddate?: string;
  };
  AddCertificateContact: {
    type: "organization" | "tech" | "evapprover";
    phandle?: string;
    ohandle?: string;
    firstname?: string;
    lastname?: string;
    phone?: string;
    email?: string;
    jobtitle?: string;
    organizationname?: string;
    organizationdba?: string;
    organizationstreet?: string;
    organizationzip?: string;
    organizationcity?: string;
    organizationstate?: string;
    organizationcountry?: string;
    organizationphone?: string;
    organizationemail?: string;
  };
  StatusCertificateContact: { certificatecontact: string };
  QueryCertificateContactList: ListArgs & {
    certificatecontact?: string;
    type?: string;
    email?: string;
    firstname?: string;
    lastname?: string;
    organization?: string;
    organizationcountry?: string;
    createddate?: string;
    updateddate?: string;
  };
  ResendNotification: { type: "certificate"; object: string; sub?: string; reason?: string };
  GetCertificateInfo: { class?: string };
  QueryCommandSyntax: { commandname?: string; class?: string; type?: "REQUEST" | "RESPONSE" };
  QueryEventList: ListArgs & {
    class?: string;
    subclass?: string;
    mindate?: string;
    maxdate?: string;
  };
  StatusEvent: { event: string };
  DeleteEvent: { event: string };
  StopSession: Record<string, never>;
}

export type CommandName = keyof CommandArgsMap;
export type CommandArgs<C extends CommandName> = CommandArgsMap[C];

const read: CommandSpec = { kind: "read", timeout: "read", costly: false };
const change: CommandSpec = { kind: "write", timeout: "read", costly: false };
const order: CommandSpec = { kind: "write", timeout: "order", costly: true };

/** Retry and timeout policy per command (`../shared/docs/upstream-protocol.md`, "What may be repeated"). */
export const COMMANDS: { readonly [C in CommandName]: CommandSpec } = Object.freeze({
  CheckCertificate: read,
  AddCertificate: order,
  RenewCertificate: order,
  ReissueCertificate: order,
  DeleteCertificate: { kind: "write", timeout: "order", costly: false },
  RevokeCertificate: { kind: "write", timeout: "order", costly: false },
  StatusCertificate: read,
  QueryCertificateList: read,
  CancelCertificateOrder: { kind: "write", timeout: "order", costly: false },
  RevokeCertificateOrder: { kind: "write", timeout: "order", costly: false },
  StatusCertificateOrder: read,
  QueryCertificateOrderList: read,
  AddCertificateContact: change,
  StatusCertificateContact: read,
  QueryCertificateContactList: read,
  ResendNotification: change,
  GetCertificateInfo: read,
  QueryCommandSyntax: read,
  QueryEventList: read,
  StatusEvent: read,
  DeleteEvent: change,
  StopSession: change,
});

/** Commands of the SSL API take `APIVERSION=2` (the 2022 API the manual's examples show). */
const WITHOUT_API_VERSION: ReadonlySet<CommandName> = new Set([
  "ResendNotification",
  "QueryCommandSyntax",
  "QueryEventList",
  "StatusEvent",
  "DeleteEvent",
  "StopSession",
]);

/**
 * Builds the wire command for `command` with its arguments: the command name first, then
 * `APIVERSION=2` where the SSL API takes it, then the arguments as given.
 */
export function toWireCommand<C extends CommandName>(
  command: C,
  args: CommandArgs<C>,
): { command: string } & Record<string, WireValue> {
  const wire: { command: string } & Record<string, WireValue> = { command };
  if (!WITHOUT_API_VERSION.has(command)) {
    wire.apiversion = 2;
  }
  for (const [key, val] of Object.entries(args as Record<string, WireValue>)) {
    wire[key] = val;
  }
  return wire;
}

/** True when `name` is a command of the table (case-sensitive, as the table spells it). */
export function isCommandName(name: string): name is CommandName {
  return Object.prototype.hasOwnProperty.call(COMMANDS, name);
}
