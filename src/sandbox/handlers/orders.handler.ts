/**
 * The CertificateOrder commands (manual 8.2): CancelCertificateOrder, RevokeCertificateOrder,
 * StatusCertificateOrder, QueryCertificateOrderList.
 */
import { formatListDate, wholeSeconds } from "../clock";
import { type Handler, type HandlerContext } from "../context";
import { closeCertificate } from "../lifecycle";
import { listReply } from "../lists";
import { required } from "../params";
import { fail, ok } from "../reply";
import { certificateStatus, type OrderRecord, orderStatus, orderWasIssued } from "../store";
import { orderColumns, orderProperties } from "../views";

/** The caller's order named by `parameter`: 504 when absent, 545 when not theirs. */
export function findOrder(ctx: HandlerContext, parameter = "certificateorder"): OrderRecord {
  const id = required(ctx.params, parameter).toUpperCase();
  const order = ctx.account.orders.get(id);
  if (!order) {
    throw fail.notFound("certificateorder", id);
  }
  return order;
}

/**
 * Cancels an order while nothing of it was issued (6.3, 9.4.2): every processing certificate
 * becomes `canceled` (CLOSE_SUCCESSFUL), the order `canceled`, and classes with refunds (7.5)
 * refund the order's price. 547 once a certificate was issued, or when the order is already
 * canceled or failed.
 */
export function cancelOrder(ctx: HandlerContext, order: OrderRecord): void {
  const status = orderStatus(order, ctx.account.certificates, ctx.now);
  if (order.canceled) {
    throw fail.sequence(`certificateorder ${order.id} is already canceled`);
  }
  if (orderWasIssued(order, ctx.account.certificates)) {
    throw fail.sequence(
      `certificateorder ${order.id} has an issued certificate and can no longer be canceled; revoke it instead`,
    );
  }
  if (status !== "processing") {
    throw fail.sequence(
      `certificateorder ${order.id} is ${status}; only processing orders can be canceled`,
    );
  }
  const at = wholeSeconds(ctx.now);
  for (const id of order.certificateIds) {
    const cert = ctx.account.certificates.get(id);
    if (cert?.status === "processing") {
      closeCertificate(ctx, cert, "canceled", at);
    }
  }
  order.canceled = true;
  order.refundMinor = order.cls.refundOnCancel ? order.quote.priceMinor : 0;
  order.updatedAt = at;
  order.updatedBy = ctx.account.login;
}

/**
 * Revokes every active certificate of an order (CLOSE_SUCCESSFUL each) and cancels a reissue in
 * progress; the order becomes `revoked`. 547 when it has no active certificate.
 */
export function revokeOrder(ctx: HandlerContext, order: OrderRecord): void {
  if (order.revoked) {
    throw fail.sequence(`certificateorder ${order.id} is already revoked`);
  }
  const certs = order.certificateIds
    .map(id => ctx.account.certificates.get(id))
    .filter(c => c !== undefined);
  const active = certs.filter(c => certificateStatus(c, ctx.now) === "active");
  if (order.canceled || active.length === 0) {
    throw fail.sequence(`certificateorder ${order.id} has no active certificate to revoke`);
  }
  const at = wholeSeconds(ctx.now);
  for (const cert of active) {
    closeCertificate(ctx, cert, "revoked", at);
  }
  for (const cert of certs) {
    if (cert.status === "processing") {
      closeCertificate(ctx, cert, "canceled", at);
    }
  }
  order.revoked = true;
  order.updatedAt = at;
  order.updatedBy = ctx.account.login;
}

/** CancelCertificateOrder (8.2.1, 9.1.29). */
export const CancelCertificateOrder: Handler = ctx => {
  cancelOrder(ctx, findOrder(ctx));
  return ok();
};

/** RevokeCertificateOrder (8.2.2, 9.1.28). */
export const RevokeCertificateOrder: Handler = ctx => {
  revokeOrder(ctx, findOrder(ctx));
  return ok();
};

/** StatusCertificateOrder (8.2.3, 9.1.30). */
export const StatusCertificateOrder: Handler = ctx =>
  ok(orderProperties(ctx.account, findOrder(ctx), ctx.now));

/**
 * QueryCertificateOrderList (8.2.4, 9.1.31): the id column, or with `wide=1` the columns of
 * 9.1.31; filters certificateorder, status, class, paiduntil, createddate, updateddate.
 */
export const QueryCertificateOrderList: Handler = ctx => {
  const wide = orderColumns(ctx.account, ctx.now);
  const [idColumn] = wide;
  const status = (o: OrderRecord) => orderStatus(o, ctx.account.certificates, ctx.now);
  return listReply([...ctx.account.orders.values()], ctx.params, {
    columns: idColumn ? [idColumn] : [],
    wideColumns: wide,
    filters: {
      certificateorder: o => o.id,
      status,
      class: o => o.cls.id,
      paiduntil: o => formatListDate(o.paidUntil),
      createddate: o => formatListDate(o.createdAt),
      updateddate: o => formatListDate(o.updatedAt),
    },
    orderBy: {
      CERTIFICATEORDER: o => o.id,
      PAIDUNTIL: o => formatListDate(o.paidUntil),
      STATUS: status,
      CLASS: o => o.cls.id,
      CREATEDDATE: o => formatListDate(o.createdAt),
      UPDATEDDATE: o => formatListDate(o.updatedAt),
    },
    defaultOrderBy: "CERTIFICATEORDER",
  });
};
