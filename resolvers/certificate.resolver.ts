import { type GraphQLResolveInfo } from "graphql";
import { LRUCache } from "lru-cache";
import {
  Arg,
  Args,
  Ctx,
  FieldResolver,
  ID,
  Info,
  Mutation,
  Query,
  Resolver,
  Root,
} from "type-graphql";
import { CACHE_HINT_SECONDS, CacheControl, NO_STORE } from "../schema/cache-control.directive";
import { CertificateClass } from "../schema/certificate-class.type";
import { CertificateConnection } from "../schema/certificate-connection.type";
import { CertificateContact } from "../schema/certificate-contact.type";
import { CertificateOrder } from "../schema/certificate-order.type";
import { CertificateStatus } from "../schema/certificate-status.enum";
import { Certificate } from "../schema/certificate.type";
import { CertificatesArgs } from "../schema/certificates.args";
import { CsrDetails } from "../schema/csr-details.type";
import { DateTimeScalar } from "../schema/date-time.scalar";
import { DomainValidation } from "../schema/domain-validation.type";
import { OrderCertificateInput } from "../schema/order-certificate.input";
import { ReissueCertificateInput } from "../schema/reissue-certificate.input";
import { RenewCertificateInput } from "../schema/renew-certificate.input";
import { X509Details } from "../schema/x509-details.type";
import { type Context } from "../src/context";
import { assertNoViolations, BadUserInputError, NotFoundError } from "../src/errors";
import { fingerprintOf, IdempotencyOutcomeUnknownError } from "../src/idempotency";
import { checkOrder, expandApproverEmails } from "../src/order-rules";
import { parseCsr } from "../src/pki/csr";
import { PemError } from "../src/pki/errors";
import { parseCertificate } from "../src/pki/x509";
import {
  type CertificateAttempt,
  describeCertificateAttempt,
  settleUnknownAttempt,
} from "../src/reconcile";
import { type WireReply } from "../src/upstream/codec";
import { decodeCertificate, fromStoredReply, toStoredReply } from "../src/upstream/records";
import {
  type PageRecord,
  type CertificateRecord,
  type CertificateRowRecord,
  type ClassRecord,
} from "../src/upstream/types";
import {
  type CertificateClassRef,
  type CertificateContactRef,
  type CertificateOrderRef,
  type CertificateRef,
  type ConnectionShape,
  fromDcvMethod,
  idempotencyKeyViolations,
  orderViolations,
  toAddCertificateArgs,
  toCertificateStatus,
  toChain,
  toConnection,
  toCsrDetails,
  toDomainValidation,
  toPageRequest,
  toPeriod,
  toStatusPattern,
  toX509Details,
  unknownClassViolations,
} from "./mappers";
import { selectedFieldNames } from "./selection";

/**
 * Sends a costly command once per idempotency key: without a key, sends it; with one, through
 * the store, scoped to the upstream account, the operation and the input's fingerprint. The
 * reply is stored as plain JSON so that every caller with the key decodes the same result.
 *
 * When an earlier attempt with the key ended with an unknown outcome, the certificate it may
 * have created (`attempt`) is looked up upstream first: found, it is the answer; not found, the
 * command is sent now, once (`settleUnknownAttempt` says when that is safe).
 */
async function sendOnce(
  ctx: Context,
  operation: string,
  key: string | null | undefined,
  input: object,
  attempt: CertificateAttempt,
  send: () => Promise<WireReply>,
): Promise<WireReply> {
  const sendStored = async () => toStoredReply(await send());
  if (key === null || key === undefined) {
    return fromStoredReply(await sendStored());
  }
  const scope = {
    account: ctx.account,
    key,
    operation,
    fingerprint: fingerprintOf(input),
    ttlMs: ctx.settings.idempotencyTtlMs,
    lookup: attempt,
  };
  try {
    return fromStoredReply(await ctx.idempotency.run(scope, sendStored));
  } catch (error) {
    if (!(error instanceof IdempotencyOutcomeUnknownError)) {
      throw error;
    }
    await settleUnknownAttempt(
      {
        idempotency: ctx.idempotency,
        upstream: ctx.upstream,
        account: ctx.account,
        reconcileAfterMs: ctx.settings.reconcileAfterMs,
      },
      key,
      error,
    );
    return fromStoredReply(await ctx.idempotency.run(scope, sendStored));
  }
}

/**
 * Makes the request's loaders and the shared store forget what a command changed, then has the
 * loaders remember the certificate its reply holds, so the answer is fresh without another
 * StatusCertificate.
 */
async function remember(
  ctx: Context,
  record: CertificateRecord,
  changed: { certificateIds?: string[]; orderIds?: (string | null)[] },
): Promise<CertificateRef> {
  const orderIds = [...(changed.orderIds ?? []), record.orderId].filter(
    (id): id is string => id !== null,
  );
  await ctx.forget({ certificateIds: [record.id, ...(changed.certificateIds ?? [])], orderIds });
  ctx.loaders.certificateById.prime(record.id, record);
  return { id: record.id };
}

/** The existing certificate a mutation is about, or `NOT_FOUND`. */
async function target(ctx: Context, id: string): Promise<CertificateRecord> {
  const record = await ctx.loaders.certificateById.load(id);
  if (!record) {
    throw new NotFoundError("Certificate", id);
  }
  return record;
}

/** The class of an existing certificate (it must exist: a broken invariant otherwise). */
async function classOf(ctx: Context, record: CertificateRecord): Promise<ClassRecord> {
  const klass = await ctx.loaders.classByName.load(record.className);
  if (!klass) {
    throw new NotFoundError("CertificateClass", record.className);
  }
  return klass;
}

function contactsOf(record: CertificateRecord): {
  tech: boolean;
  organization: boolean;
  evApprover: boolean;
} {
  return {
    tech: record.techContactId !== null,
    organization: record.organizationContactId !== null,
    evApprover: record.evApproverContactId !== null,
  };
}

/** Parsed PEM details by kind and PEM text: a CSR or an issued certificate never changes. */
const parsedPems = new LRUCache<string, object>({ max: 1000 });

/**
 * Details parsed locally from a PEM the upstream holds, memoised across requests (parsing a
 * certificate costs more than answering from the cache). A PEM we cannot read has no details.
 */
function parsedOrNull<T extends object>(
  kind: "csr" | "crt",
  pem: string | null,
  parse: (pem: string) => T,
): T | null {
  if (pem === null) {
    return null;
  }
  const key = `${kind}:${pem}`;
  const known = parsedPems.get(key);
  if (known) {
    return known as T;
  }
  try {
    const details = parse(pem);
    parsedPems.set(key, details);
    return details;
  } catch (error) {
    // The upstream holds whatever it accepted; one we cannot read has no details.
    if (error instanceof PemError) {
      return null;
    }
    throw error;
  }
}

/** The contact a certificate names by `id`, or none. */
function contactRef(id: string | null): CertificateContactRef | null {
  return id === null ? null : { id };
}

/** The fields of a certificate that name a contact. */
const CONTACT_FIELDS = ["techContact", "organizationContact", "evApproverContact"] as const;

/**
 * Starts the account's contact sweep (one QueryCertificateContactList) now, in parallel with the
 * certificate reads, when the selection will need several contacts' rows: the contacts' ids are
 * only known once the certificates are, and waiting for them would add a round trip. Failures
 * are left to the row loader, which falls back to the contacts' own records.
 */
function prefetchContacts(ctx: Context, selected: ReadonlySet<string>, certificates: number): void {
  const contactFields = CONTACT_FIELDS.filter(name => selected.has(name)).length;
  if (contactFields * certificates >= 2) {
    ctx.loaders.prefetchContacts();
  }
}

/** The widest `expiringWithinDays` (ten years: beyond any certificate's lifetime). */
const MAX_EXPIRING_WITHIN_DAYS = 3650;
/** Rows per list command when every matching certificate is needed (the provider's largest). */
const LIST_SWEEP_SIZE = 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Every certificate matching `query` that expires within `days` from now, soonest first, as one
 * page (the caller slices it). The upstream cannot filter by a date range (`expirationdate` is a
 * pattern), so the matching list is read in pages of 1000 (cached like any list page) and
 * filtered here; an account of a few thousand certificates costs a few commands.
 */
async function expiringPage(
  ctx: Context,
  query: { status?: string; className?: string; orderId?: string },
  days: number,
): Promise<PageRecord<CertificateRowRecord>> {
  if (!Number.isInteger(days) || days < 1 || days > MAX_EXPIRING_WITHIN_DAYS) {
    throw new BadUserInputError([
      {
        field: "filter.expiringWithinDays",
        rule: "OUT_OF_RANGE",
        message: `expiringWithinDays must be a whole number from 1 to ${MAX_EXPIRING_WITHIN_DAYS} (got ${days})`,
      },
    ]);
  }
  const now = Date.now();
  const until = now + days * DAY_MS;
  const rows: CertificateRowRecord[] = [];
  for (let offset = 0; ; offset += LIST_SWEEP_SIZE) {
    const page = await ctx.loaders.certificatePage.load({
      offset,
      limit: LIST_SWEEP_SIZE,
      ...query,
    });
    rows.push(...page.items);
    if (page.items.length < LIST_SWEEP_SIZE || offset + LIST_SWEEP_SIZE >= page.total) {
      break;
    }
  }
  const items = rows
    .filter(row => {
      const at = row.expiresAt?.getTime();
      return at !== undefined && !Number.isNaN(at) && at >= now && at <= until;
    })
    .sort((a, b) => a.expiresAt!.getTime() - b.expiresAt!.getTime());
  return { items, first: 0, limit: items.length, total: items.length };
}

/** The `idempotencyKey` argument of the money-moving mutations; `what` names what happens once. */
function IdempotencyKeyArg(what: string): ReturnType<typeof Arg> {
  return Arg("idempotencyKey", _type => String, {
    nullable: true,
    description: `Any unique string (a UUID): ${what} at most once per key`,
  });
}

@Resolver(_of => Certificate)
export class CertificateResolver {
  @Query(_returns => Certificate, {
    nullable: true,
    description: "Look up one certificate by id; null when there is none",
  })
  async certificate(
    @Arg("id", _type => ID) id: string,
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
  ): Promise<CertificateRef | null> {
    prefetchContacts(ctx, selectedFieldNames(info, [[]]), 1);
    const row = await ctx.loaders.certificateRowById.load(id);
    return row ? { id } : null;
  }

  @CacheControl({ maxAge: CACHE_HINT_SECONDS.list, scope: "PRIVATE" })
  @Query(_returns => CertificateConnection, {
    description:
      "A page of certificates, optionally filtered. Fields that a list row holds (id, status, " +
      "class, order, serverType, dates) cost no further upstream call",
  })
  async certificates(
    @Args(_type => CertificatesArgs) args: CertificatesArgs,
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
  ): Promise<ConnectionShape<CertificateRef>> {
    const request = toPageRequest(args, ctx.settings.maxPageSize);
    if (Array.isArray(request)) {
      throw new BadUserInputError(request);
    }
    prefetchContacts(ctx, selectedFieldNames(info, [["nodes"], ["edges", "node"]]), request.size);
    const query = {
      status: args.filter?.status ? toStatusPattern(args.filter.status) : undefined,
      className: args.filter?.class ? args.filter.class.toLowerCase() : undefined,
      orderId: args.filter?.orderId ?? undefined,
    };
    const days = args.filter?.expiringWithinDays;
    if (days !== undefined && days !== null) {
      const expiring = await expiringPage(
        ctx,
        { ...query, status: query.status ?? "active" },
        days,
      );
      const page = {
        ...expiring,
        items: expiring.items.slice(request.offset, request.offset + request.size),
      };
      return toConnection(page, request.offset, request.size, row => ({ id: row.id }));
    }
    const page = await ctx.loaders.certificatePage.load({
      offset: request.offset,
      limit: Math.max(request.size, 1),
      ...query,
    });
    return toConnection(page, request.offset, request.size, row => ({ id: row.id }));
  }

  @CacheControl(NO_STORE)
  @Mutation(_returns => Certificate, {
    description:
      "Places an order (costs money). The input is checked against the class first; a repeated " +
      "idempotencyKey returns the first result and orders nothing",
  })
  async orderCertificate(
    @Arg("input", _type => OrderCertificateInput) input: OrderCertificateInput,
    @IdempotencyKeyArg("the order is placed")
    idempotencyKey: string | null | undefined,
    @Ctx() ctx: Context,
  ): Promise<CertificateRef> {
    assertNoViolations(idempotencyKeyViolations(idempotencyKey));
    const klass = await ctx.loaders.classByName.load(input.class);
    assertNoViolations(klass ? orderViolations(input, klass) : unknownClassViolations(input.class));
    const args = toAddCertificateArgs(input);
    const attempt = describeCertificateAttempt({
      className: input.class,
      domains: input.domains,
      csr: input.csr,
    });
    const reply = await sendOnce(ctx, "orderCertificate", idempotencyKey, input, attempt, () =>
      ctx.upstream.call("AddCertificate", args),
    );
    return remember(ctx, decodeCertificate(reply), {});
  }

  @CacheControl(NO_STORE)
  @Mutation(_returns => Certificate, {
    description:
      "Renews a certificate into a new one (costs money); what the input leaves out is kept. A " +
      "repeated idempotencyKey returns the first result and renews nothing",
  })
  async renewCertificate(
    @Arg("input", _type => RenewCertificateInput) input: RenewCertificateInput,
    @IdempotencyKeyArg("the renewal is made")
    idempotencyKey: string | null | undefined,
    @Ctx() ctx: Context,
  ): Promise<CertificateRef> {
    assertNoViolations(idempotencyKeyViolations(idempotencyKey));
    const current = await target(ctx, input.id);
    const klass = await classOf(ctx, current);
    const method = input.dcvMethod ? fromDcvMethod(input.dcvMethod) : undefined;
    assertNoViolations(
      checkOrder({
        klass,
        domains: current.domains,
        dcvMethod: method,
        approverEmails: input.approverEmails ?? undefined,
        csrPem: input.csr ?? undefined,
        periodYears: input.periodYears ?? undefined,
        contacts: contactsOf(current),
        dcvToken: input.dcvToken ?? undefined,
        autofillDomains: false,
        requireCsr: false,
      }),
    );
    // A renewal is a new certificate in a new order, with the old one's domains and class.
    const attempt = describeCertificateAttempt({
      className: current.className,
      domains: current.domains,
      csr: input.csr ?? current.csr,
      excludeIds: [current.id],
    });
    const reply = await sendOnce(ctx, "renewCertificate", idempotencyKey, input, attempt, () =>
      ctx.upstream.call("RenewCertificate", {
        certificate: current.id,
        csr: input.csr ?? undefined,
        dcvmethod: method,
        dcvemail:
          method === "email" && input.approverEmails
            ? expandApproverEmails(current.domains.length, input.approverEmails)
            : undefined,
        dcvtoken: input.dcvToken ?? undefined,
        period: toPeriod(input.periodYears),
      }),
    );
    return remember(ctx, decodeCertificate(reply), {
      certificateIds: [current.id],
      orderIds: [current.orderId],
    });
  }

  @CacheControl(NO_STORE)
  @Mutation(_returns => Certificate, {
    description:
      "Reissues an issued certificate, usually with a new CSR, into a new certificate of the " +
      "same order. A repeated idempotencyKey returns the first result and reissues nothing",
  })
  async reissueCertificate(
    @Arg("input", _type => ReissueCertificateInput) input: ReissueCertificateInput,
    @IdempotencyKeyArg("the reissue is made")
    idempotencyKey: string | null | undefined,
    @Ctx() ctx: Context,
  ): Promise<CertificateRef> {
    assertNoViolations(idempotencyKeyViolations(idempotencyKey));
    const current = await target(ctx, input.id);
    if (current.status !== "active") {
      throw new BadUserInputError([
        {
          field: "id",
          rule: "CERTIFICATE_NOT_ISSUED",
          message: `id ${JSON.stringify(input.id)} is ${current.status}; only an issued (active) certificate can be reissued`,
        },
      ]);
    }
    const klass = await classOf(ctx, current);
    const method = current.validations.find(v => v.method !== null)?.method ?? undefined;
    assertNoViolations(
      checkOrder({
        klass,
        domains: current.domains,
        // Only the token's compatibility with the method is at stake: the method is not changed.
        dcvMethod: input.dcvToken ? method : undefined,
        csrPem: input.csr ?? undefined,
        contacts: contactsOf(current),
        dcvToken: input.dcvToken ?? undefined,
        autofillDomains: false,
        requireCsr: false,
      }),
    );
    // A reissue is a new certificate in the same order, alongside the original.
    const attempt = describeCertificateAttempt({
      className: current.className,
      domains: current.domains,
      csr: input.csr ?? current.csr,
      orderId: current.orderId,
      excludeIds: [current.id],
    });
    const reply = await sendOnce(ctx, "reissueCertificate", idempotencyKey, input, attempt, () =>
      ctx.upstream.call("ReissueCertificate", {
        certificate: current.id,
        csr: input.csr ?? undefined,
        dcvtoken: input.dcvToken ?? undefined,
      }),
    );
    return remember(ctx, decodeCertificate(reply), {
      certificateIds: [current.id],
      orderIds: [current.orderId],
    });
  }

  @CacheControl(NO_STORE)
  @Mutation(_returns => Certificate, {
    description: "Revokes an issued certificate (no refund); answers it as it is afterwards",
  })
  async revokeCertificate(
    @Arg("id", _type => ID) id: string,
    @Ctx() ctx: Context,
  ): Promise<CertificateRef> {
    const row = await ctx.loaders.certificateRowById.load(id);
    if (!row) {
      throw new NotFoundError("Certificate", id);
    }
    await ctx.upstream.call("RevokeCertificate", { certificate: id });
    await ctx.forget({ certificateIds: [id], orderIds: row.orderId ? [row.orderId] : [] });
    return { id };
  }

  @CacheControl(NO_STORE)
  @Mutation(_returns => Certificate, {
    description: "Asks the CA to check domain control again now (and resend approval emails)",
  })
  async resendCertificateValidation(
    @Arg("id", _type => ID) id: string,
    @Ctx() ctx: Context,
  ): Promise<CertificateRef> {
    const row = await ctx.loaders.certificateRowById.load(id);
    if (!row) {
      throw new NotFoundError("Certificate", id);
    }
    await ctx.upstream.call("ResendNotification", { type: "certificate", object: id });
    await ctx.forget({ certificateIds: [id], orderIds: row.orderId ? [row.orderId] : [] });
    return { id };
  }

  private async row(ref: CertificateRef, ctx: Context): Promise<CertificateRowRecord> {
    const row = await ctx.loaders.certificateRowById.load(ref.id);
    if (!row) {
      throw new NotFoundError("Certificate", ref.id);
    }
    return row;
  }

  private async full(ref: CertificateRef, ctx: Context): Promise<CertificateRecord> {
    const record = await ctx.loaders.certificateById.load(ref.id);
    if (!record) {
      throw new NotFoundError("Certificate", ref.id);
    }
    return record;
  }

  @FieldResolver(_returns => CertificateStatus)
  async status(@Root() ref: CertificateRef, @Ctx() ctx: Context): Promise<CertificateStatus> {
    return toCertificateStatus(ref.known?.status ?? (await this.row(ref, ctx)).status);
  }

  @FieldResolver(_returns => CertificateClass)
  async class(@Root() ref: CertificateRef, @Ctx() ctx: Context): Promise<CertificateClassRef> {
    return { name: (await this.row(ref, ctx)).className };
  }

  @FieldResolver(_returns => CertificateOrder)
  async order(@Root() ref: CertificateRef, @Ctx() ctx: Context): Promise<CertificateOrderRef> {
    const orderId = ref.known?.orderId ?? (await this.row(ref, ctx)).orderId;
    if (orderId === null) {
      throw new NotFoundError("CertificateOrder", `of certificate ${ref.id}`);
    }
    return { id: orderId, viaCertificate: ref.id };
  }

  @FieldResolver(_returns => String)
  async serverType(@Root() ref: CertificateRef, @Ctx() ctx: Context): Promise<string | null> {
    return (await this.row(ref, ctx)).serverType;
  }

  @FieldResolver(_returns => DateTimeScalar)
  async createdAt(@Root() ref: CertificateRef, @Ctx() ctx: Context): Promise<Date | null> {
    return (await this.row(ref, ctx)).createdAt;
  }

  @FieldResolver(_returns => DateTimeScalar)
  async updatedAt(@Root() ref: CertificateRef, @Ctx() ctx: Context): Promise<Date | null> {
    return (await this.row(ref, ctx)).updatedAt;
  }

  @FieldResolver(_returns => DateTimeScalar)
  async expiresAt(@Root() ref: CertificateRef, @Ctx() ctx: Context): Promise<Date | null> {
    if (ref.known?.expiresAt) {
      return ref.known.expiresAt;
    }
    return (await this.row(ref, ctx)).expiresAt;
  }

  @FieldResolver(_returns => String)
  async commonName(@Root() ref: CertificateRef, @Ctx() ctx: Context): Promise<string> {
    const record = await this.full(ref, ctx);
    return record.domains[0] ?? "";
  }

  @FieldResolver(_returns => [String])
  async domains(@Root() ref: CertificateRef, @Ctx() ctx: Context): Promise<string[]> {
    return (await this.full(ref, ctx)).domains;
  }

  @FieldResolver(_returns => [DomainValidation])
  async validations(@Root() ref: CertificateRef, @Ctx() ctx: Context): Promise<DomainValidation[]> {
    return (await this.full(ref, ctx)).validations
      .map(toDomainValidation)
      .filter((v): v is DomainValidation => v !== null);
  }

  @FieldResolver(_returns => String)
  async csr(@Root() ref: CertificateRef, @Ctx() ctx: Context): Promise<string | null> {
    return (await this.full(ref, ctx)).csr;
  }

  @FieldResolver(_returns => String)
  async crt(@Root() ref: CertificateRef, @Ctx() ctx: Context): Promise<string | null> {
    return (await this.full(ref, ctx)).crt;
  }

  @FieldResolver(_returns => String)
  async intermediate(@Root() ref: CertificateRef, @Ctx() ctx: Context): Promise<string | null> {
    return (await this.full(ref, ctx)).intermediate;
  }

  @FieldResolver(_returns => String)
  async root(@Root() ref: CertificateRef, @Ctx() ctx: Context): Promise<string | null> {
    return (await this.full(ref, ctx)).root;
  }

  @FieldResolver(_returns => String)
  async chain(@Root() ref: CertificateRef, @Ctx() ctx: Context): Promise<string | null> {
    const record = await this.full(ref, ctx);
    return toChain(record.crt, record.intermediate);
  }

  @FieldResolver(_returns => CsrDetails)
  async csrDetails(@Root() ref: CertificateRef, @Ctx() ctx: Context): Promise<CsrDetails | null> {
    const { csr } = await this.full(ref, ctx);
    return parsedOrNull("csr", csr, pem => toCsrDetails(parseCsr(pem)));
  }

  @FieldResolver(_returns => X509Details)
  async x509(@Root() ref: CertificateRef, @Ctx() ctx: Context): Promise<X509Details | null> {
    const { crt } = await this.full(ref, ctx);
    return parsedOrNull("crt", crt, pem => toX509Details(parseCertificate(pem)));
  }

  @FieldResolver(_returns => CertificateContact)
  async techContact(
    @Root() ref: CertificateRef,
    @Ctx() ctx: Context,
  ): Promise<CertificateContactRef | null> {
    return contactRef((await this.full(ref, ctx)).techContactId);
  }

  @FieldResolver(_returns => CertificateContact)
  async organizationContact(
    @Root() ref: CertificateRef,
    @Ctx() ctx: Context,
  ): Promise<CertificateContactRef | null> {
    return contactRef((await this.full(ref, ctx)).organizationContactId);
  }

  @FieldResolver(_returns => CertificateContact)
  async evApproverContact(
    @Root() ref: CertificateRef,
    @Ctx() ctx: Context,
  ): Promise<CertificateContactRef | null> {
    return contactRef((await this.full(ref, ctx)).evApproverContactId);
  }
}
