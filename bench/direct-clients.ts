/**
 * The two direct clients the gateway is compared with, for both page scenarios:
 *
 * - **straightforward**: what integrations written against the provider's SDKs do. One command at
 *   a time: the list, then for each certificate its StatusCertificate, its StatusCertificateOrder
 *   and its tech contact's StatusCertificateContact. No memo, no parallelism.
 * - **hand-optimised** ("the limit"): the fewest commands and the fewest round trips that produce
 *   the same data, every independent command in parallel on enough keep-alive connections. Which
 *   commands, and why none can be left out, is documented on each function (and in the README).
 *
 * Both produce the normalised shapes of `page-data.ts`, parsed exactly as far as the gateway
 * parses (x509 with node:crypto, since the gateway parses certificates itself too).
 */
import { X509Certificate } from "node:crypto";
import { multiline, rows, value, values, type WireReply } from "../src/upstream/codec";
import {
  type CertificateDetail,
  compactHex,
  compactPem,
  type DashboardRow,
  enumStatus,
  type OrderCertificate,
  wireDate,
} from "./page-data";
import { WireCallError, type WireClient } from "./wire-client";

/** Largest page the provider's lists answer (manual 9.1.10: `limit = 1000`). */
const LIST_LIMIT = 1000;

const className = (reply: WireReply): string => (value(reply, "class") ?? "").toLowerCase();

function orderCertificates(order: WireReply): OrderCertificate[] {
  const statuses = values(order, "certificate status");
  const expiries = values(order, "certificate expiration date");
  return values(order, "certificate").map((id, index) => ({
    id,
    status: enumStatus(statuses[index]),
    expiresAt: wireDate(expiries[index]),
  }));
}

function fingerprintOf(pem: string | undefined): string | null {
  if (!pem) {
    return null;
  }
  try {
    return compactHex(new X509Certificate(pem).fingerprint256);
  } catch {
    return null;
  }
}

/** StatusCertificateContact, or null when the contact does not exist (545). */
async function contactOrNull(client: WireClient, id: string): Promise<WireReply | null> {
  try {
    return await client.call("StatusCertificateContact", { certificatecontact: id });
  } catch (error) {
    if (error instanceof WireCallError && error.code === 545) {
      return null;
    }
    throw error;
  }
}

/**
 * The dashboard as an SDK integration writes it: QueryCertificateList FIRST=0 LIMIT=n, then per
 * certificate, one after another, StatusCertificate, StatusCertificateOrder and
 * StatusCertificateContact (tech). 1 + 3n commands, as many round trips.
 */
export async function straightforwardDashboard(
  client: WireClient,
  pageSize: number,
): Promise<DashboardRow[]> {
  const list = await client.call("QueryCertificateList", { first: 0, limit: pageSize });
  const result: DashboardRow[] = [];
  for (const row of rows(list)) {
    const id = row.certificate ?? "";
    const cert = await client.call("StatusCertificate", { certificate: id });
    const orderId = value(cert, "order") ?? "";
    const order = await client.call("StatusCertificateOrder", { certificateorder: orderId });
    const techId = value(cert, "techcontact");
    const tech = techId ? await contactOrNull(client, techId) : null;
    result.push({
      id,
      status: enumStatus(value(cert, "status")),
      className: className(cert),
      orderId,
      paidUntil: wireDate(value(order, "paid until")),
      techEmail: tech ? (value(tech, "email") ?? null) : null,
      expiresAt: wireDate(value(cert, "expiration date")),
    });
  }
  return result;
}

/**
 * The dashboard with the fewest commands and round trips (the limit):
 *
 * 1. in parallel: QueryCertificateList WIDE=1 FIRST=0 LIMIT=n (the page: ids, status, class,
 *    order id, expiry) and QueryCertificateContactList WIDE=1 TYPE=tech LIMIT=1000 (every tech
 *    contact with its email, in one command however many certificates share them);
 * 2. in parallel: StatusCertificate for each certificate of the page. It is the only command that
 *    names a certificate's tech contact, so these n cannot be avoided; it also carries
 *    `order paid until`, so no order command is needed.
 *
 * A tech contact missing from the contact list (more than 1000 of them) costs one
 * StatusCertificateContact (none in the seeded account). n + 2 commands, 2 round trips.
 */
export async function handOptimisedDashboard(
  client: WireClient,
  pageSize: number,
): Promise<DashboardRow[]> {
  const [list, contacts] = await Promise.all([
    client.call("QueryCertificateList", { wide: 1, first: 0, limit: pageSize }),
    client.call("QueryCertificateContactList", { wide: 1, type: "tech", limit: LIST_LIMIT }),
  ]);
  const emails = new Map(rows(contacts).map(r => [r.certificatecontact ?? "", r.email ?? ""]));
  const page = rows(list);
  const statuses = await Promise.all(
    page.map(row => client.call("StatusCertificate", { certificate: row.certificate ?? "" })),
  );
  const missing = [
    ...new Set(
      statuses.map(s => value(s, "techcontact") ?? "").filter(id => id !== "" && !emails.has(id)),
    ),
  ];
  await Promise.all(
    missing.map(async id => {
      const contact = await contactOrNull(client, id);
      emails.set(id, contact ? (value(contact, "email") ?? "") : "");
    }),
  );
  return page.map((row, index) => {
    const cert = statuses[index]!;
    const techId = value(cert, "techcontact");
    return {
      id: row.certificate ?? "",
      status: enumStatus(row.status),
      className: (row.class ?? "").toLowerCase(),
      orderId: row.certificateorder ?? "",
      paidUntil: wireDate(value(cert, "order paid until")),
      techEmail: techId ? emails.get(techId) || null : null,
      expiresAt: wireDate(row.expirationdate),
    };
  });
}

function detailFrom(
  cert: WireReply,
  order: WireReply,
  contact: (id: string | undefined) => Record<string, string> | null,
): CertificateDetail {
  const crt = multiline(cert, "cert");
  const intermediate = multiline(cert, "intermediate");
  const domains = values(cert, "domain").filter(d => d !== "");
  return {
    id: value(cert, "certificate") ?? "",
    status: enumStatus(value(cert, "status")),
    commonName: domains[0] ?? "",
    domains,
    expiresAt: wireDate(value(cert, "expiration date")),
    chain: crt ? compactPem(crt, intermediate) : null,
    fingerprint: fingerprintOf(crt),
    className: className(cert),
    order: {
      id: value(order, "certificateorder") ?? "",
      status: enumStatus(value(order, "status")),
      paidUntil: wireDate(value(order, "paid until")),
      certificates: orderCertificates(order),
    },
    techEmail: contact(value(cert, "techcontact"))?.email || null,
    organizationName: contact(value(cert, "organizationcontact"))?.organizationname || null,
    evApproverEmail: contact(value(cert, "evapprovercontact"))?.email || null,
  };
}

/** A contact reply's properties as one record keyed like list columns (`organizationname`). */
function contactRecord(reply: WireReply): Record<string, string> {
  const record: Record<string, string> = {};
  for (const [name, items] of reply.properties) {
    record[name] = items[0] ?? "";
  }
  return record;
}

/**
 * The detail page as an SDK integration writes it: StatusCertificate, then StatusCertificateOrder,
 * then StatusCertificateContact for each of its contacts, one after another. 2 + k commands
 * (k contacts), as many round trips.
 */
export async function straightforwardDetail(
  client: WireClient,
  id: string,
): Promise<CertificateDetail> {
  const cert = await client.call("StatusCertificate", { certificate: id });
  const order = await client.call("StatusCertificateOrder", {
    certificateorder: value(cert, "order") ?? "",
  });
  const contacts = new Map<string, Record<string, string> | null>();
  for (const name of ["techcontact", "organizationcontact", "evapprovercontact"]) {
    const contactId = value(cert, name);
    if (contactId && !contacts.has(contactId)) {
      const reply = await contactOrNull(client, contactId);
      contacts.set(contactId, reply ? contactRecord(reply) : null);
    }
  }
  return detailFrom(cert, order, contactId =>
    contactId ? (contacts.get(contactId) ?? null) : null,
  );
}

/**
 * The detail page with the fewest commands and round trips (the limit):
 *
 * 1. in parallel: StatusCertificate (status, domains, chain, contact ids, order id) and
 *    QueryCertificateContactList WIDE=1 LIMIT=1000 (every contact of the account with the fields
 *    the page shows: one command instead of one per contact);
 * 2. StatusCertificateOrder (the order's status, paid-until and every certificate with its status
 *    and expiry), which needs the order id from step 1.
 *
 * A contact missing from the list (more than 1000) costs one StatusCertificateContact, in step 2.
 * 3 commands, 2 round trips; no order of commands can do it in one round trip, since the order id
 * is only known from StatusCertificate.
 */
export async function handOptimisedDetail(
  client: WireClient,
  id: string,
): Promise<CertificateDetail> {
  const [cert, contactList] = await Promise.all([
    client.call("StatusCertificate", { certificate: id }),
    client.call("QueryCertificateContactList", { wide: 1, limit: LIST_LIMIT }),
  ]);
  const contacts = new Map<string, Record<string, string> | null>(
    rows(contactList).map(row => [row.certificatecontact ?? "", row]),
  );
  const missing = ["techcontact", "organizationcontact", "evapprovercontact"]
    .map(name => value(cert, name))
    .filter((c): c is string => c !== undefined && c !== "" && !contacts.has(c));
  const [order] = await Promise.all([
    client.call("StatusCertificateOrder", { certificateorder: value(cert, "order") ?? "" }),
    Promise.all(
      [...new Set(missing)].map(async contactId => {
        const reply = await contactOrNull(client, contactId);
        contacts.set(contactId, reply ? contactRecord(reply) : null);
      }),
    ),
  ]);
  return detailFrom(cert, order, contactId =>
    contactId ? (contacts.get(contactId) ?? null) : null,
  );
}
