/**
 * Sample data for demos and benchmarks (`SANDBOX_SEED`): certificates of every class in every
 * state, with shared contacts, created through the same rules as real orders and issued for real
 * by the sandbox CA. Deterministic for a given count; all dates are relative to `now`.
 */
import { type SandboxCa } from "./ca";
import { type CertificateClass, CLASSES, type DcvMethod, serverTypes } from "./catalog";
import { addDays, addMs, wholeSeconds } from "./clock";
import { contactFromHandles, createContact } from "./contacts";
import { type HandlerContext } from "./context";
import { cancelOrder } from "./handlers/orders.handler";
import { createRandom, pick, type Random, randomInt } from "./ids";
import {
  closeCertificate,
  failCertificate,
  issuanceRequest,
  markIssued,
  runConcurrently,
} from "./lifecycle";
import {
  type DraftDefaults,
  draftOrder,
  placeOrder,
  placeReissue,
  renewalDefaults,
} from "./ordering";
import { createSampleCsrFactory, type SampleCsrFactory } from "./sample-csr";
import { type AccountState, type CertificateRecord, type SandboxStore } from "./store";

/** What seeding works on: the store, the CA and the account to fill. */
export interface SeedContext {
  store: SandboxStore;
  ca: SandboxCa;
  account: AccountState;
}

/** The scenarios cycled through, so any count gets a realistic mix (mostly active). */
export const SEED_SCENARIOS = [
  "active",
  "processing",
  "active",
  "reissued",
  "active",
  "renewed",
  "revoked",
  "active",
  "canceled",
  "expired",
  "active",
  "failed",
] as const;

/** One kind of sample certificate. */
export type SeedScenario = (typeof SEED_SCENARIOS)[number];

const BASE_DOMAINS = [
  "example.com",
  "example.net",
  "example.org",
  "example.co.uk",
  "example.de",
  "example.io",
];
const HOSTS = ["shop", "api", "mail", "portal", "app", "blog", "static", "cdn", "intranet", "vpn"];
const METHODS: readonly DcvMethod[] = ["email", "dns-txt", "dns-cname", "http", "https"];

const PENDING_SIGNATURE = { certPem: "", intermediatePem: "", rootPem: "", serialNumber: "" };

interface Step {
  at: Date;
  order: number;
  run: () => unknown;
}

function context(seed: SeedContext, now: Date): HandlerContext {
  return { ...seed, params: new Map(), now, issuanceDelayMs: 0 };
}

function chooseClass(index: number, scenario: SeedScenario): CertificateClass {
  for (let offset = 0; offset < CLASSES.length; offset++) {
    const cls = CLASSES[(index + offset) % CLASSES.length];
    if (cls && (scenario !== "reissued" || cls.reissue)) {
      return cls;
    }
  }
  return CLASSES[0] as CertificateClass;
}

function chooseDomains(
  random: Random,
  cls: CertificateClass,
  index: number,
  scenario: SeedScenario,
): string[] {
  const base =
    scenario === "failed"
      ? "example.invalid"
      : (BASE_DOMAINS[index % BASE_DOMAINS.length] ?? "example.com");
  const label = `${pick(random, HOSTS)}${index}`;
  const first = cls.wildcard && random() < 0.2 ? `*.${label}.${base}` : `${label}.${base}`;
  if (!cls.san) {
    return [first];
  }
  const domains = [first];
  const extra = randomInt(random, 0, 3);
  for (let i = 0; i < extra; i++) {
    domains.push(`${pick(random, HOSTS)}${index}-${i}.${base}`);
  }
  return domains;
}

function chooseMethod(
  random: Random,
  cls: CertificateClass,
  domains: readonly string[],
): DcvMethod {
  const wildcard = domains.some(d => d.startsWith("*."));
  const allowed = METHODS.filter(m => cls.dcv[m] && !(wildcard && (m === "http" || m === "https")));
  return pick(random, allowed);
}

/**
 * Creates `count` sample certificates in `seed.account` (each with its order, some with a reissue
 * or a renewal), cycling through every class and `SEED_SCENARIOS`: active with real certificates,
 * processing (waiting for ResendNotification), reissued, renewed, revoked, canceled, expired and
 * failed. A few tech contacts are shared by all DV-style orders, one organization and one EV
 * approver contact by the OV/EV ones. Steps run in chronological order, so events and update
 * dates read like a real history. Pass one `csrs` factory to reuse its key across accounts.
 */
export async function seedAccount(
  seed: SeedContext,
  count: number,
  now: Date,
  csrs: SampleCsrFactory = createSampleCsrFactory(),
): Promise<void> {
  if (count <= 0) {
    return;
  }
  const random = createRandom(0x5eed0000 ^ count);
  const start = wholeSeconds(addDays(now, -720));
  const ctxAt = (at: Date) => context(seed, wholeSeconds(at));
  const techContacts = ["P-SBX001", "P-SBX002", "P-SBX003"].map(handle =>
    createContact(seed.store, seed.account, contactFromHandles("tech", handle), start),
  );
  const organization = createContact(
    seed.store,
    seed.account,
    contactFromHandles("organization", "P-SBX010", "O-SBX100"),
    start,
  );
  const evApprover = createContact(
    seed.store,
    seed.account,
    contactFromHandles("evapprover", "P-SBX020"),
    start,
  );

  const steps: Step[] = [];
  let sequence = 0;
  // Issuing is recorded in order but the CA signs afterwards, many at a time (see runConcurrently).
  const signing: (() => Promise<void>)[] = [];
  const issue = (cert: CertificateRecord, date: Date) => {
    const when = wholeSeconds(date);
    const ctx = ctxAt(when);
    const request = issuanceRequest(ctx, cert, when);
    const material = markIssued(ctx, cert, when, request, PENDING_SIGNATURE);
    signing.push(async () => {
      Object.assign(material, await seed.ca.issue(request));
    });
  };
  const at = (date: Date, run: Step["run"]) =>
    steps.push({ at: wholeSeconds(date), order: sequence++, run });

  for (let index = 0; index < count; index++) {
    const scenario = SEED_SCENARIOS[index % SEED_SCENARIOS.length] ?? "active";
    const cls = chooseClass(index, scenario);
    const domains = chooseDomains(random, cls, index, scenario);
    const method = chooseMethod(random, cls, domains);
    // The order goes through the same checks as a real one; the CSR is known to be good, so it
    // is handed over as a default rather than parsed again.
    const defaults: DraftDefaults = {
      csrPem: csrs.make({
        commonName: domains[0]?.replace(/^\*\./, "") ?? "example.com",
        altNames: domains,
      }),
      requestedDomains: domains,
      autofill: true,
      method,
      emails: new Map(),
      serverType: pick(random, serverTypes(cls).slice(0, 8)),
      contacts: {
        tech: [pick(random, techContacts).id],
        organization: [organization.id],
        evapprover: [evApprover.id],
      },
    };

    const ageDays =
      scenario === "expired"
        ? randomInt(random, 420, 560)
        : scenario === "renewed"
          ? randomInt(random, 170, 185)
          : scenario === "processing" || scenario === "canceled" || scenario === "failed"
            ? randomInt(random, 1, 20)
            : randomInt(random, 25, 160);
    const created = addMs(addDays(now, -ageDays), randomInt(random, 0, 86_399) * 1000);
    const validated = addMs(created, randomInt(random, 5, 240) * 60_000);
    let cert: CertificateRecord | undefined;

    at(created, async () => {
      const ctx = ctxAt(created);
      cert = await placeOrder(ctx, draftOrder(ctx, cls, defaults));
      cert.validationDueAt = null;
      seed.account.pending.delete(cert.id);
      // Processing samples wait for the customer: ResendNotification validates them.
      if (scenario === "processing" || scenario === "canceled" || scenario === "failed") {
        seed.account.pending.add(cert.id);
      }
    });
    if (scenario === "failed") {
      at(validated, () => cert && failCertificate(ctxAt(validated), cert, wholeSeconds(validated)));
      continue;
    }
    if (scenario === "canceled") {
      at(validated, () => {
        const order = cert && seed.account.orders.get(cert.orderId);
        if (order) {
          cancelOrder(ctxAt(validated), order);
        }
      });
      continue;
    }
    if (scenario === "processing") {
      continue;
    }
    at(validated, () => cert && issue(cert, validated));
    if (scenario === "reissued") {
      const reissuedAt = addDays(validated, randomInt(random, 3, 20));
      const reissueValidated = addMs(reissuedAt, randomInt(random, 5, 120) * 60_000);
      let reissue: CertificateRecord | undefined;
      at(reissuedAt, async () => {
        const order = cert && seed.account.orders.get(cert.orderId);
        if (cert && order) {
          reissue = await placeReissue(ctxAt(reissuedAt), cert, order, cert.csrPem);
          reissue.validationDueAt = null;
          seed.account.pending.delete(reissue.id);
        }
      });
      at(reissueValidated, () => reissue && issue(reissue, reissueValidated));
    } else if (scenario === "renewed") {
      const renewedAt = addDays(now, -randomInt(random, 1, 10));
      const renewalValidated = addMs(renewedAt, randomInt(random, 5, 120) * 60_000);
      const issueRenewal = index % 2 === 0;
      let renewal: CertificateRecord | undefined;
      at(renewedAt, async () => {
        const order = cert && seed.account.orders.get(cert.orderId);
        if (cert && order) {
          const ctx = ctxAt(renewedAt);
          renewal = await placeOrder(ctx, draftOrder(ctx, cls, renewalDefaults(cert)), {
            cert,
            order,
          });
          renewal.validationDueAt = null;
          seed.account.pending.delete(renewal.id);
          if (!issueRenewal) {
            seed.account.pending.add(renewal.id);
          }
        }
      });
      if (issueRenewal && renewalValidated.getTime() < now.getTime()) {
        at(renewalValidated, () => renewal && issue(renewal, renewalValidated));
      }
    } else if (scenario === "revoked") {
      const revokedAt = addDays(now, -randomInt(random, 1, 15));
      at(revokedAt, () => {
        if (cert) {
          closeCertificate(ctxAt(revokedAt), cert, "revoked", wholeSeconds(revokedAt));
          const order = seed.account.orders.get(cert.orderId);
          if (order) {
            order.updatedAt = wholeSeconds(revokedAt);
          }
        }
      });
    }
  }

  steps.sort((a, b) => a.at.getTime() - b.at.getTime() || a.order - b.order);
  for (const step of steps) {
    await step.run();
  }
  await runConcurrently(signing);
}
