/**
 * The certificate commands (manual 8.1 and ResendNotification of 8.4.1): CheckCertificate,
 * AddCertificate, RenewCertificate, ReissueCertificate, DeleteCertificate, RevokeCertificate,
 * StatusCertificate, QueryCertificateList, ResendNotification.
 */
import { publicKeyFingerprint } from "../../pki/csr";
import { type DistinguishedNameFields } from "../../pki/dn";
import { PemError } from "../../pki/errors";
import { parseCertificate } from "../../pki/x509";
import { findClass } from "../catalog";
import { addDays, formatListDate, wholeSeconds } from "../clock";
import { type Handler, type HandlerContext } from "../context";
import { closeCertificate, settleAccount } from "../lifecycle";
import { listReply } from "../lists";
import {
  DCV_TOKEN_DAYS,
  draftOrder,
  type OrderDraft,
  type ParsedCsr,
  placeOrder,
  placeReissue,
  readClass,
  readCsr,
  checkToken,
  renewalDefaults,
} from "../ordering";
import { flag, indexed, oneOf, optional, pem, required } from "../params";
import { fail, ok, PropertyBag, SandboxError, type SandboxReply } from "../reply";
import { approverEmails, normalizeDomain } from "../rules";
import { type CertificateRecord, certificateStatus, orderWasIssued } from "../store";
import { addQuote, certificateColumns, certificateProperties } from "../views";
import { cancelOrder, revokeOrder } from "./orders.handler";

const SUBJECT_FIELDS: readonly [keyof DistinguishedNameFields, string][] = [
  ["commonName", "commonname"],
  ["country", "country"],
  ["email", "emailaddress"],
  ["locality", "location"],
  ["organization", "organization"],
  ["organizationalUnit", "organizational unit"],
  ["state", "state"],
];

function addNameFields(bag: PropertyBag, prefix: string, fields: DistinguishedNameFields): void {
  for (const [key, name] of SUBJECT_FIELDS) {
    const value = fields[key];
    if (value !== undefined) {
      bag.set(`${prefix} ${name}`, value);
    }
  }
}

function addCsrProperties(bag: PropertyBag, csr: ParsedCsr): void {
  const { info } = csr;
  if (info.commonName !== undefined) {
    bag.set("csr commonname", info.commonName);
  }
  bag.list("csr key usage", info.keyUsage);
  bag.set("csr public key algorithm", info.keyAlgorithm);
  if (info.keySize !== undefined) {
    bag.set("csr public key size", info.keySize);
  }
  bag.list("csr san", info.subjectAltNames);
  bag.set("csr signature algorithm", info.signatureAlgorithm);
  bag.set("csr subject", info.subject);
  addNameFields(bag, "csr subject", info.subjectFields);
}

function addCrtProperties(bag: PropertyBag, text: string): void {
  let info: ReturnType<typeof parseCertificate>;
  try {
    info = parseCertificate(text);
  } catch (error) {
    if (error instanceof PemError) {
      throw fail.syntax(`crt: ${error.message}`);
    }
    throw error;
  }
  if (info.authorityKeyIdentifier !== undefined) {
    bag.set("crt authority key identifier", info.authorityKeyIdentifier);
  }
  if (info.subjectFields.commonName !== undefined) {
    bag.set("crt commonname", info.subjectFields.commonName);
  }
  bag.list("crt extended key usage", info.extendedKeyUsage);
  bag.set("crt issuer", info.issuer);
  addNameFields(bag, "crt issuer", info.issuerFields);
  bag.list("crt key usage", info.keyUsage);
  if (info.keyUsage.length > 0 && info.keyUsageCritical) {
    bag.set("crt key usage type", "critical");
  }
  bag.set("crt public key algorithm", info.keyAlgorithm);
  if (info.keySize !== undefined) {
    bag.set("crt public key size", info.keySize);
  }
  bag.list("crt san", info.subjectAltNames);
  bag.set("crt serial", info.serialNumber);
  bag.set("crt signature algorithm", info.signatureAlgorithm);
  bag.set("crt subject", info.subject);
  addNameFields(bag, "crt subject", info.subjectFields);
  bag.set("crt validity not after", formatListDate(info.notAfter));
  bag.set("crt validity not before", formatListDate(info.notBefore));
  bag.set("crt version", info.version);
}

/**
 * CheckCertificate (8.1.1, 9.1.3-9.1.6, 9.1.20): the parsed CSR and/or certificate, the approver
 * addresses of each domain (`dcv email` with the parallel `domain`), and with
 * `generatedcvtoken=1` (CSR and class required) a `dcv token` for immediate issuance, bound to
 * the CSR's key and the class, valid 30 days.
 */
export const CheckCertificate: Handler = ctx => {
  const { params } = ctx;
  const wantsToken = flag(params, "generatedcvtoken");
  const className = optional(params, "class");
  const cls = className === undefined ? undefined : findClass(className);
  if (className !== undefined && !cls) {
    throw fail.policy(`class ${className} is not available`);
  }
  const csr = readCsr(params, wantsToken);
  const crt = pem(params, "crt");
  const domains = indexed(params, "domain").map(d => normalizeDomain(d.value));
  if (!csr && !crt && domains.length === 0) {
    throw fail.missing("csr", "give a csr, a crt or domains to check");
  }
  const bag = new PropertyBag();
  if (csr) {
    addCsrProperties(bag, csr);
  }
  if (crt) {
    addCrtProperties(bag, crt);
  }
  for (const domain of domains) {
    const emails = approverEmails(domain);
    bag.list("dcv email", emails);
    bag.list(
      "domain",
      emails.map(() => domain),
    );
  }
  if (wantsToken) {
    if (!cls) {
      throw fail.missing("class", "generatedcvtoken=1 needs the class the token is for");
    }
    if (!csr) {
      throw fail.missing("csr", "generatedcvtoken=1 needs the CSR the token is for");
    }
    if (!cls.immediateIssuance) {
      throw fail.policy(`generatedcvtoken: class ${cls.id} does not support immediate issuance`);
    }
    const token = ctx.store.ids.token();
    ctx.account.dcvTokens.set(token, {
      token,
      classId: cls.id,
      publicKeyFingerprint: publicKeyFingerprint(csr.pem),
      expiresAt: addDays(ctx.now, DCV_TOKEN_DAYS),
    });
    bag.set("dcv token", token);
  }
  return ok(bag);
};

/** Adds a `FAILxxxxxxx` reference to the error of a failed order (8.1.2-8.1.4). */
async function withFailureId(
  ctx: HandlerContext,
  run: () => Promise<SandboxReply>,
): Promise<SandboxReply> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof SandboxError) {
      throw new SandboxError(error.code, error.detail, [
        ...error.properties,
        ["id", [ctx.store.ids.failure()]],
      ]);
    }
    throw error;
  }
}

/** The reply of `checkonly=1` (9.1.13): billing lines, the final domain list, price and VAT. */
function quoteReply(draft: OrderDraft): SandboxReply {
  const bag = new PropertyBag().list(
    "domain",
    draft.domains.map(d => d.name),
  );
  return ok(addQuote(bag, draft.quote));
}

/**
 * AddCertificate (8.1.2, 9.1.13-9.1.20): checks the order against its class and either quotes it
 * (`checkonly=1`, nothing created) or places it and answers the new certificate with its
 * billing, price and VAT.
 */
export const AddCertificate: Handler = ctx =>
  withFailureId(ctx, async () => {
    const checkOnly = flag(ctx.params, "checkonly");
    const cls = readClass(ctx.params);
    const draft = draftOrder(ctx, cls);
    if (checkOnly) {
      return quoteReply(draft);
    }
    const cert = await placeOrder(ctx, draft);
    const bag = certificateProperties(ctx.account, cert, ctx.now, {
      expirationDate: "issued",
      orderKey: "order",
    });
    return ok(addQuote(bag, draft.quote));
  });

/** The caller's certificate named by `certificate`: 504 when absent, 545 when not theirs. */
export function findCertificate(ctx: HandlerContext, parameter = "certificate"): CertificateRecord {
  const id = required(ctx.params, parameter).toUpperCase();
  const cert = ctx.account.certificates.get(id);
  if (!cert) {
    throw fail.notFound("certificate", id);
  }
  return cert;
}

/**
 * RenewCertificate (8.1.3, 9.1.24): a new certificate in a new order linked to the renewed one
 * (`renewal of` on the new certificate and order, `renewed by` on the old ones), paid until one
 * period after the old order's paid until (or now, if that is later). Defaults to the renewed
 * certificate's CSR, domains, method, approvers, contacts and server type. Only active or
 * expired certificates that were not renewed yet can be renewed (547).
 */
export const RenewCertificate: Handler = ctx =>
  withFailureId(ctx, async () => {
    const checkOnly = flag(ctx.params, "checkonly");
    const old = findCertificate(ctx);
    const status = certificateStatus(old, ctx.now);
    if (status !== "active" && status !== "expired") {
      throw fail.sequence(
        `certificate ${old.id} is ${status}; only active or expired certificates can be renewed`,
      );
    }
    const renewal = old.renewedBy ? ctx.account.certificates.get(old.renewedBy) : undefined;
    if (renewal && renewal.status !== "failed" && renewal.status !== "canceled") {
      throw fail.sequence(`certificate ${old.id} was already renewed by ${renewal.id}`);
    }
    const order = ctx.account.orders.get(old.orderId);
    if (!order) {
      throw fail.notFound("certificateorder", old.orderId);
    }
    const draft = draftOrder(ctx, old.cls, renewalDefaults(old));
    if (checkOnly) {
      return quoteReply(draft);
    }
    const cert = await placeOrder(ctx, draft, { cert: old, order });
    const bag = certificateProperties(ctx.account, cert, ctx.now, {
      expirationDate: "issued",
      orderKey: "certificateorder",
    });
    return ok(addQuote(bag, draft.quote));
  });

/**
 * ReissueCertificate (8.1.4, 9.1.25): a new certificate in the same order for an active
 * certificate of a class with reissues, with the new CSR if one is given; the original stays
 * active. 547 for a certificate that is not active or an order with a reissue in progress, 541
 * for classes without reissue (Sectigo).
 */
export const ReissueCertificate: Handler = ctx =>
  withFailureId(ctx, async () => {
    const original = findCertificate(ctx);
    if (!original.cls.reissue) {
      throw fail.policy(`class ${original.cls.id} does not support reissues`);
    }
    const status = certificateStatus(original, ctx.now);
    if (status !== "active") {
      throw fail.sequence(
        `certificate ${original.id} is ${status}; only active certificates can be reissued`,
      );
    }
    const order = ctx.account.orders.get(original.orderId);
    if (!order || order.revoked || order.canceled) {
      throw fail.sequence(`certificateorder ${original.orderId} can no longer be reissued`);
    }
    const busy = order.certificateIds
      .map(id => ctx.account.certificates.get(id))
      .find(c => c?.status === "processing");
    if (busy) {
      throw fail.sequence(`certificateorder ${order.id} has a reissue in progress (${busy.id})`);
    }
    const csr = readCsr(ctx.params, false);
    const csrPem = csr?.pem ?? original.csrPem;
    const token = checkToken(
      ctx.account,
      ctx.params,
      original.cls,
      original.dcvMethod,
      csrPem,
      ctx.now,
    );
    const cert = await placeReissue(ctx, original, order, csrPem, token);
    return ok(
      certificateProperties(ctx.account, cert, ctx.now, {
        expirationDate: "issued",
        orderKey: "order",
      }),
    );
  });

/** Revokes one active certificate (547 when it is not active, e.g. revoked twice). */
export function revokeCertificate(ctx: HandlerContext, cert: CertificateRecord): void {
  const status = certificateStatus(cert, ctx.now);
  if (status === "revoked") {
    throw fail.sequence(`certificate ${cert.id} is already revoked`);
  }
  if (status !== "active") {
    throw fail.sequence(
      `certificate ${cert.id} is ${status}; only active certificates can be revoked`,
    );
  }
  const at = wholeSeconds(ctx.now);
  closeCertificate(ctx, cert, "revoked", at);
  const order = ctx.account.orders.get(cert.orderId);
  if (order) {
    order.updatedAt = at;
    order.updatedBy = ctx.account.login;
  }
}

/** RevokeCertificate (8.1.6, 9.1.26): revokes an active certificate; no refund. */
export const RevokeCertificate: Handler = ctx => {
  revokeCertificate(ctx, findCertificate(ctx));
  return ok();
};

/**
 * DeleteCertificate (8.1.5, 9.1.26-9.1.29): `action` REVOKE (the certificate), CANCELORDER or
 * REVOKEORDER (its order), case-insensitive. Without an action: CANCELORDER while nothing of the
 * order was issued, REVOKE after.
 */
export const DeleteCertificate: Handler = ctx => {
  const cert = findCertificate(ctx);
  const order = ctx.account.orders.get(cert.orderId);
  if (!order) {
    throw fail.notFound("certificateorder", cert.orderId);
  }
  const action =
    oneOf(ctx.params, "action", ["REVOKE", "CANCELORDER", "REVOKEORDER"] as const) ??
    (orderWasIssued(order, ctx.account.certificates) ? "REVOKE" : "CANCELORDER");
  switch (action) {
    case "REVOKE":
      revokeCertificate(ctx, cert);
      break;
    case "CANCELORDER":
      cancelOrder(ctx, order);
      break;
    case "REVOKEORDER":
      revokeOrder(ctx, order);
      break;
  }
  return ok();
};

/** StatusCertificate (8.1.7, 9.1.21, 9.1.22). */
export const StatusCertificate: Handler = ctx =>
  ok(
    certificateProperties(ctx.account, findCertificate(ctx), ctx.now, {
      expirationDate: "always",
      orderKey: "order",
    }),
  );

/**
 * QueryCertificateList (8.1.8, 9.1.23): the id column, or with `wide=1` the columns of 9.1.23;
 * filters certificate, certificateorder, status, class, servertype, createddate, updateddate,
 * expirationdate and domain as patterns.
 */
export const QueryCertificateList: Handler = ctx => {
  const wide = certificateColumns(ctx.now);
  const [idColumn] = wide;
  return listReply([...ctx.account.certificates.values()], ctx.params, {
    columns: idColumn ? [idColumn] : [],
    wideColumns: wide,
    filters: {
      certificate: c => c.id,
      certificateorder: c => c.orderId,
      status: c => certificateStatus(c, ctx.now),
      class: c => c.cls.id,
      servertype: c => c.serverType,
      createddate: c => formatListDate(c.createdAt),
      updateddate: c => formatListDate(c.updatedAt),
      expirationdate: c => formatListDate(c.issued?.notAfter),
      domain: c => c.domains.map(d => d.name),
    },
    orderBy: {
      CERTIFICATE: c => c.id,
      STATUS: c => certificateStatus(c, ctx.now),
      CERTIFICATEORDER: c => c.orderId,
      SERVERTYPE: c => c.serverType,
      CREATEDDATE: c => formatListDate(c.createdAt),
      UPDATEDDATE: c => formatListDate(c.updatedAt),
      EXPIRATIONDATE: c => formatListDate(c.issued?.notAfter),
      CLASS: c => c.cls.id,
    },
    defaultOrderBy: "CERTIFICATE",
  });
};

/**
 * ResendNotification (8.4.1, 9.1.27) with `type=certificate`: triggers the validation of a
 * processing certificate now (it is issued, or fails for `.invalid` domains, within this
 * request). 547 for a certificate that is not processing.
 */
export const ResendNotification: Handler = async ctx => {
  const type = required(ctx.params, "type");
  if (type.toLowerCase() !== "certificate") {
    throw fail.policy(`type ${type}: the sandbox only sends certificate notifications`);
  }
  const cert = findCertificate(ctx, "object");
  if (cert.status !== "processing") {
    throw fail.sequence(
      `certificate ${cert.id} is ${certificateStatus(cert, ctx.now)}; only processing certificates are validated`,
    );
  }
  cert.validationDueAt = ctx.now;
  ctx.account.pending.add(cert.id);
  await settleAccount(ctx, ctx.now);
  return ok();
};
