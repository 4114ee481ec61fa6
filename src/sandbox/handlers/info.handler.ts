/**
 * The general information commands (manual 8.4.2, 8.4.3): GetCertificateInfo and
 * QueryCommandSyntax. Both read only the catalog.
 */
import { COMMANDS, type CommandName } from "../../upstream/commands";
import {
  CLASSES,
  findClass,
  maxDomains,
  maxDomainsWithAlternatives,
  maxWildcardDomains,
  serverTypes,
  supplier,
} from "../catalog";
import { type Handler } from "../context";
import { oneOf, optional } from "../params";
import { fail, ok, PropertyBag } from "../reply";
import { COMMAND_SYNTAX, parametersFor } from "../syntax";

function flagValue(value: boolean): number {
  return value ? 1 : 0;
}

function contactValue(value: boolean): string {
  return value ? "MANDATORY" : "NO";
}

/**
 * GetCertificateInfo (8.4.2): without a class the list of classes (9.1.1, column `class`); with
 * one the class's matrix row (9.1.2), plus `dcv https`, `san`, `refund on cancel`, `reissue` and
 * `revoke`.
 */
export const GetCertificateInfo: Handler = ctx => {
  const name = optional(ctx.params, "class");
  if (name === undefined) {
    return ok(
      new PropertyBag().list("class", CLASSES.map(c => c.id).sort()).set("column", "class"),
    );
  }
  const cls = findClass(name);
  if (!cls) {
    throw fail.policy(`class ${name} is not available`);
  }
  const most = maxDomains(cls);
  return ok(
    new PropertyBag()
      .set("brand", cls.ca)
      .set("class", cls.id)
      .set("dcv dns cname", flagValue(cls.dcv["dns-cname"]))
      .set("dcv dns txt", flagValue(cls.dcv["dns-txt"]))
      .set("dcv email", flagValue(cls.dcv.email))
      .set("dcv http", flagValue(cls.dcv.http))
      .set("dcv https", flagValue(cls.dcv.https))
      .set("evapprovercontact", contactValue(cls.contacts.evapprover))
      .set("included domains with base", cls.includedDomains)
      .set("included nonwildcard domains with base", cls.includedDomains)
      .set("included wildcard domains with base", cls.wildcard ? cls.includedDomains : 0)
      .set("max domains", most)
      .set("max domains including alternatives", maxDomainsWithAlternatives(cls))
      .set("max free alternatives", cls.freeAlternatives)
      .set("max nonwildcard domains", most)
      .set("max wildcard domains", maxWildcardDomains(cls))
      .set("name", cls.name)
      .set("organizationcontact", contactValue(cls.contacts.organization))
      .list("periods", cls.periods)
      .set("prefix", cls.prefix)
      .set("refund on cancel", flagValue(cls.refundOnCancel))
      .set("reissue", flagValue(cls.reissue))
      .set("revoke", flagValue(cls.revoke))
      .set("san", flagValue(cls.san))
      .list("server type", serverTypes(cls))
      .set("supplier", supplier(cls))
      .set("supports immediate issuance", flagValue(cls.immediateIssuance))
      .set("techcontact", contactValue(cls.contacts.tech))
      .set("type", cls.type)
      .set("wildcard", flagValue(cls.wildcard)),
  );
};

const COMMAND_NAMES = Object.keys(COMMANDS) as CommandName[];

/**
 * QueryCommandSyntax (8.4.3): without `commandname` the commands (`commandname`,
 * `commanddescription`); with one its parameters as parallel columns `commandname`,
 * `parameter`, `optional`, `type`, `quantity`, `description`, narrowed to `class` when given.
 * Only `type=REQUEST` syntax is available.
 */
export const QueryCommandSyntax: Handler = ctx => {
  const type = oneOf(ctx.params, "type", ["REQUEST", "RESPONSE"] as const) ?? "REQUEST";
  if (type === "RESPONSE") {
    throw fail.policy("type RESPONSE: the sandbox describes request syntax only");
  }
  const className = optional(ctx.params, "class");
  const cls = className === undefined ? undefined : findClass(className);
  if (className !== undefined && !cls) {
    throw fail.policy(`class ${className} is not available`);
  }
  const commandName = optional(ctx.params, "commandname");
  if (commandName === undefined) {
    return ok(
      new PropertyBag()
        .list("commandname", COMMAND_NAMES)
        .list(
          "commanddescription",
          COMMAND_NAMES.map(name => COMMAND_SYNTAX[name].description),
        )
        .list("column", ["commandname", "commanddescription"]),
    );
  }
  const command = COMMAND_NAMES.find(name => name.toLowerCase() === commandName.toLowerCase());
  if (!command) {
    throw fail.notFound("command", commandName);
  }
  const parameters = parametersFor(command, cls);
  return ok(
    new PropertyBag()
      .list(
        "commandname",
        parameters.map(() => command),
      )
      .list(
        "parameter",
        parameters.map(s => s.parameter),
      )
      .list(
        "optional",
        parameters.map(s => (s.optional ? 1 : 0)),
      )
      .list(
        "type",
        parameters.map(s => s.type),
      )
      .list(
        "quantity",
        parameters.map(s => s.quantity),
      )
      .list(
        "description",
        parameters.map(s => s.description),
      )
      .list("column", ["commandname", "parameter", "optional", "type", "quantity", "description"]),
  );
};
