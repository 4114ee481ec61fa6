/**
 * How certificates, orders and contacts read in replies: the property sets of the status
 * commands (9.1.12, 9.1.16-9.1.22, 9.1.30) and the list columns (9.1.11, 9.1.23, 9.1.31).
 */
import { formatListDate, formatStatusDate } from "./clock";
import { type ListColumn } from "./lists";
import { PropertyBag } from "./reply";
import { formatMoney, type Quote } from "./rules";
import {
  type AccountState,
  type CertificateRecord,
  certificateStatus,
  type ContactRecord,
  type OrderRecord,
  orderStatus,
} from "./store";

/** Options of `certificateProperties`. */
export interface CertificateViewOptions {
  /** `expiration date` even while empty (StatusCertificate, 9.1.21) or only once issued. */
  expirationDate: "always" | "issued";
  /** The order id's property: `order` (9.1.16, 9.1.25) or `certificateorder` (9.1.24). */
  orderKey: "order" | "certificateorder";
}

/**
 * The properties of a certificate as StatusCertificate answers them (9.1.21, 9.1.22) and as the
 * order commands repeat them: ids, class, dates, CSR, DCV data per domain, contacts, and once
 * issued the certificate, intermediate and root one line per index. Renewals add
 * `renewal of` (the renewed certificate) and the renewed one `renewed by`.
 */
export function certificateProperties(
  account: AccountState,
  cert: CertificateRecord,
  now: Date,
  options: CertificateViewOptions,
): PropertyBag {
  const order = account.orders.get(cert.orderId);
  const bag = new PropertyBag()
    .set("ca", cert.cls.ca)
    .set("ca certificate id", cert.caCertificateId)
    .set("ca order id", order?.caOrderId ?? "")
    .set("certificate", cert.id)
    .set("class", cert.cls.name)
    .set("created by", cert.createdBy)
    .set("created date", formatStatusDate(cert.createdAt))
    .lines("csr", cert.csrPem)
    .list(
      "dcv domain",
      cert.dcv.map(d => d.domain),
    )
    .list(
      "dcv method",
      cert.dcv.map(d => d.method),
    )
    .list(
      "domain",
      cert.domains.map(d => d.name),
    )
    .set(options.orderKey, cert.orderId)
    .set("order paid until", formatStatusDate(order?.paidUntil))
    .set("server type", cert.serverType)
    .set("status", certificateStatus(cert, now))
    .set("updated by", cert.updatedBy)
    .set("updated date", formatStatusDate(cert.updatedAt))
    .list("techcontact", cert.contacts.tech)
    .list("organizationcontact", cert.contacts.organization)
    .list("evapprovercontact", cert.contacts.evapprover);
  if (cert.dcvMethod === "email") {
    bag.list(
      "dcv email",
      cert.dcv.map(d => d.email ?? ""),
    );
  } else if (cert.dcvMethod === "dns-txt" || cert.dcvMethod === "dns-cname") {
    bag.list(
      "dns rr",
      cert.dcv.map(d => d.dnsRr ?? ""),
    );
  } else {
    bag.list(
      "file name",
      cert.dcv.map(d => d.fileName ?? ""),
    );
    bag.list(
      "file contents",
      cert.dcv.map(d => d.fileContents ?? ""),
    );
  }
  if (cert.issued) {
    bag.lines("cert", cert.issued.certPem);
    bag.lines("intermediate", cert.issued.intermediatePem);
    bag.lines("root", cert.issued.rootPem);
  }
  if (cert.issued || options.expirationDate === "always") {
    // 9.1.22 writes this one date without the ".0" of the others.
    bag.set("expiration date", formatListDate(cert.issued?.notAfter));
  }
  if (cert.renewalOf) {
    bag.set("renewal of", cert.renewalOf);
  }
  if (cert.renewedBy) {
    bag.set("renewed by", cert.renewedBy);
  }
  return bag;
}

/** Adds the billing lines, price and VAT of a quote (9.1.13-9.1.16). */
export function addQuote(bag: PropertyBag, quote: Quote, withPrice = true): PropertyBag {
  bag.list(
    "billingcount",
    quote.lines.map(l => l.count),
  );
  bag.list(
    "billingtype",
    quote.lines.map(l => l.type),
  );
  if (withPrice) {
    bag.set("price", formatMoney(quote.priceMinor));
    bag.set("vat", formatMoney(quote.vatMinor));
  }
  return bag;
}

/**
 * The properties of an order as StatusCertificateOrder answers them (9.1.30): the order's
 * figures and, parallel, each certificate's id, status and expiration date. A canceled order
 * adds `refund` (net amount refunded, 0 for classes without refunds).
 */
export function orderProperties(account: AccountState, order: OrderRecord, now: Date): PropertyBag {
  const certs = order.certificateIds
    .map(id => account.certificates.get(id))
    .filter((c): c is CertificateRecord => c !== undefined);
  const bag = new PropertyBag()
    .set("ca", order.cls.ca)
    .list(
      "certificate",
      certs.map(c => c.id),
    )
    .list(
      "certificate expiration date",
      certs.map(c => formatStatusDate(c.issued?.notAfter)),
    )
    .list(
      "certificate status",
      certs.map(c => certificateStatus(c, now)),
    )
    .set("certificateorder", order.id)
    .set("class", order.cls.name)
    .set("created by", order.createdBy)
    .set("created date", formatStatusDate(order.createdAt))
    .set("paid until", formatStatusDate(order.paidUntil))
    .set("status", orderStatus(order, account.certificates, now))
    .set("updated by", order.updatedBy)
    .set("updated date", formatStatusDate(order.updatedAt));
  if (order.canceled) {
    bag.set("refund", formatMoney(order.refundMinor ?? 0));
  }
  if (order.renewalOf) {
    bag.set("renewal of", order.renewalOf);
  }
  if (order.renewedBy) {
    bag.set("renewed by", order.renewedBy);
  }
  return bag;
}

/**
 * The properties of a contact as StatusCertificateContact answers them: every field whatever
 * the type (9.1.12), plus `certificatecontact`, `organization email` and `status` (8.3.2).
 */
export function contactProperties(contact: ContactRecord): PropertyBag {
  return new PropertyBag()
    .set("certificatecontact", contact.id)
    .set("created by", contact.createdBy)
    .set("created date", formatStatusDate(contact.createdAt))
    .set("email", contact.email)
    .set("first name", contact.firstName)
    .set("job title", contact.jobTitle)
    .set("last name", contact.lastName)
    .set("organization category", contact.organizationCategory)
    .set("organization city", contact.organizationCity)
    .set("organization country", contact.organizationCountry)
    .set("organization dba", contact.organizationDba)
    .set("organization email", contact.organizationEmail)
    .set("organization name", contact.organizationName)
    .set("organization phone", contact.organizationPhone)
    .set("organization state", contact.organizationState)
    .set("organization street", contact.organizationStreet)
    .set("organization zip", contact.organizationZip)
    .set("phone", contact.phone)
    .set("status", contact.status)
    .set("type", contact.type)
    .set("updated by", contact.createdBy)
    .set("updated date", formatStatusDate(contact.createdAt));
}

/** The wide columns of QueryCertificateList, exactly as 9.1.23 names and orders them. */
export function certificateColumns(now: Date): ListColumn<CertificateRecord>[] {
  return [
    { name: "certificate", value: c => c.id },
    { name: "status", value: c => certificateStatus(c, now) },
    { name: "certificateorder", value: c => c.orderId },
    { name: "server type", value: c => c.serverType },
    { name: "created date", value: c => formatListDate(c.createdAt) },
    { name: "updated date", value: c => formatListDate(c.updatedAt) },
    { name: "expiration date", value: c => formatListDate(c.issued?.notAfter) },
    { name: "class", value: c => c.cls.name },
  ];
}

/** The wide columns of QueryCertificateOrderList, exactly as 9.1.31 names and orders them. */
export function orderColumns(account: AccountState, now: Date): ListColumn<OrderRecord>[] {
  return [
    { name: "certificateorder", value: o => o.id },
    { name: "paid until", value: o => formatListDate(o.paidUntil) },
    { name: "status", value: o => orderStatus(o, account.certificates, now) },
    { name: "class", value: o => o.cls.name },
    { name: "created date", value: o => formatListDate(o.createdAt) },
    { name: "updated date", value: o => formatListDate(o.updatedAt) },
  ];
}

/** The wide columns of QueryCertificateContactList, exactly as 9.1.11 names and orders them. */
export const CONTACT_COLUMNS: readonly ListColumn<ContactRecord>[] = [
  { name: "certificatecontact", value: c => c.id },
  { name: "type", value: c => c.type },
  { name: "job title", value: c => c.jobTitle },
  { name: "first name", value: c => c.firstName },
  { name: "last name", value: c => c.lastName },
  { name: "organization name", value: c => c.organizationName },
  { name: "organization dba", value: c => c.organizationDba },
  { name: "organization street", value: c => c.organizationStreet },
  { name: "organization city", value: c => c.organizationCity },
  { name: "organization state", value: c => c.organizationState },
  { name: "organization zip", value: c => c.organizationZip },
  { name: "organization country", value: c => c.organizationCountry },
  { name: "organization phone", value: c => c.organizationPhone },
  { name: "organization email", value: c => c.organizationEmail },
  { name: "phone", value: c => c.phone },
  { name: "email", value: c => c.email },
  { name: "created date", value: c => formatListDate(c.createdAt) },
  { name: "updated date", value: c => formatListDate(c.createdAt) },
];
