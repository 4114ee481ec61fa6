/**
 * What the scenarios need to know about the seeded account, read (and for the detail page,
 * prepared) over the wire before any measurement; these commands are not counted.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { rows, value, values, type WireReply } from "../src/upstream/codec";
import { messageOf } from "./context";
import { type WireClient } from "./wire-client";

/** The certificate the detail scenario shows, and why it was chosen. */
export interface DetailChoice {
  readonly id: string;
  readonly className: string;
  /** Tech, organization and EV approver contacts it names. */
  readonly contacts: number;
  /** Certificates of its order (the original and its reissues). */
  readonly orderCertificates: number;
  /** How it came about: found in the seed, or reissued by the bench at setup. */
  readonly origin: string;
}

const CONTACT_PROPERTIES = ["techcontact", "organizationcontact", "evapprovercontact"] as const;
/** Reissue candidates tried before giving up (classes without reissue refuse). */
const REISSUE_ATTEMPTS = 8;
/** Polls for the reissue to be issued (the bench's sandbox validates at once). */
const ISSUE_POLLS = 50;
const ISSUE_POLL_MS = 100;

/** Every certificate id of the account, in the list's default order. */
export async function certificateIds(client: WireClient): Promise<string[]> {
  const list = await client.call("QueryCertificateList", { first: 0, limit: 1000 });
  return rows(list)
    .map(row => row.certificate ?? "")
    .filter(id => id !== "");
}

interface Candidate {
  readonly id: string;
  readonly className: string;
  readonly contacts: number;
  readonly orderId: string;
  orderCertificates: number;
}

function candidateOf(id: string, status: WireReply): Candidate {
  return {
    id,
    className: (value(status, "class") ?? "").toLowerCase(),
    contacts: CONTACT_PROPERTIES.filter(name => (value(status, name) ?? "") !== "").length,
    orderId: value(status, "order") ?? "",
    orderCertificates: 0,
  };
}

const richestFirst = (a: Candidate, b: Candidate) =>
  b.contacts - a.contacts || b.orderCertificates - a.orderCertificates || (a.id < b.id ? -1 : 1);

/** Reissues `candidate` (same CSR) and waits until the new certificate is issued; its id. */
async function reissue(client: WireClient, candidate: Candidate): Promise<string> {
  const reply = await client.call("ReissueCertificate", { certificate: candidate.id });
  const id = value(reply, "certificate");
  if (!id) {
    throw new Error(`ReissueCertificate ${candidate.id} answered no certificate id`);
  }
  for (let poll = 0; poll < ISSUE_POLLS; poll++) {
    const status = await client.call("StatusCertificate", { certificate: id });
    if (value(status, "status") === "active" && multilineCount(status) > 0) {
      return id;
    }
    await sleep(ISSUE_POLL_MS);
  }
  throw new Error(`the reissue ${id} of ${candidate.id} was not issued in time`);
}

const multilineCount = (reply: WireReply) => values(reply, "cert").filter(l => l !== "").length;

/**
 * The richest detail page the account can show, as the issue describes it ("with chain, x509,
 * order with all certificates, contacts"): an issued certificate with the most contacts whose
 * order holds a reissue. The seed has none with several contacts, so the bench reissues the
 * active certificate with the most contacts (same CSR; the sandbox issues it at once) and shows
 * the reissue. Falls back to the richest certificate as seeded. Throws when nothing is active.
 */
export async function chooseDetailCertificate(client: WireClient): Promise<DetailChoice> {
  const active = rows(
    await client.call("QueryCertificateList", { wide: 1, status: "active", limit: 1000 }),
  )
    .map(row => row.certificate ?? "")
    .filter(id => id !== "");
  if (active.length === 0) {
    throw new Error("the seeded account has no active certificate");
  }
  const statuses = await Promise.all(
    active.map(id => client.call("StatusCertificate", { certificate: id })),
  );
  const candidates = statuses.map((status, index) => candidateOf(active[index]!, status));
  const orderIds = [...new Set(candidates.map(c => c.orderId))].filter(id => id !== "");
  const orderSizes = new Map(
    await Promise.all(
      orderIds.map(async id => {
        const order = await client.call("StatusCertificateOrder", { certificateorder: id });
        return [id, values(order, "certificate").length] as const;
      }),
    ),
  );
  for (const candidate of candidates) {
    candidate.orderCertificates = orderSizes.get(candidate.orderId) ?? 0;
  }
  const mostContacts = Math.max(...candidates.map(c => c.contacts));
  const ready = candidates
    .filter(c => c.contacts === mostContacts && c.orderCertificates > 1)
    .sort(richestFirst)[0];
  if (ready) {
    return { ...ready, origin: "as seeded" };
  }

  const problems: string[] = [];
  const single = candidates.filter(c => c.contacts === mostContacts).sort(richestFirst);
  for (const candidate of single.slice(0, REISSUE_ATTEMPTS)) {
    try {
      const id = await reissue(client, candidate);
      return {
        id,
        className: candidate.className,
        contacts: candidate.contacts,
        orderCertificates: candidate.orderCertificates + 1,
        origin: `reissued from ${candidate.id} by the bench at setup`,
      };
    } catch (error) {
      problems.push(messageOf(error));
    }
  }
  const fallback = [...candidates].sort(richestFirst)[0]!;
  return {
    ...fallback,
    origin: `as seeded (no reissue possible: ${problems[0] ?? "no candidate"})`,
  };
}
