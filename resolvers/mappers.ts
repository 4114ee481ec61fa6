/**
 * Pure mappings between upstream records and the schema's shapes, both ways: records to GraphQL
 * objects and enums, GraphQL inputs to command arguments, offsets to opaque cursors. No I/O.
 */
import { ApproverEmail } from "../schema/approver-email.type";
import { CertificateClass } from "../schema/certificate-class.type";
import { CertificateOrderStatus } from "../schema/certificate-order-status.enum";
import { CertificateOrganization } from "../schema/certificate-organization.type";
import { CertificateStatus } from "../schema/certificate-status.enum";
import { ContactRequirement } from "../schema/contact-requirement.enum";
import { ContactType } from "../schema/contact-type.enum";
import { CsrDetails } from "../schema/csr-details.type";
import { DcvMethod } from "../schema/dcv-method.enum";
import { DomainValidation } from "../schema/domain-validation.type";
import { PageInfo } from "../schema/page-info.type";
import { ValidationType } from "../schema/validation-type.enum";
import { X509Details } from "../schema/x509-details.type";
import { type InputViolation } from "../src/errors";
import { checkOrder, expandApproverEmails } from "../src/order-rules";
import { type CsrInfo } from "../src/pki/csr";
import { type CertificateInfo } from "../src/pki/x509";
import { type CommandArgs, type InlineContactArgs } from "../src/upstream/commands";
import {
  type CertificateRowRecord,
  type CertificateStatusValue,
  type ClassRecord,
  type ContactOrganizationRecord,
  type ContactRequirementValue,
  type ContactTypeValue,
  type CrtCheckRecord,
  type CsrCheckRecord,
  type DcvMethodValue,
  type DomainValidationRecord,
  type PageRecord,
} from "../src/upstream/types";

/**
 * What a `Certificate` resolves from: its id, plus what the parent already knows about it
 * (an order lists its certificates' status and expiry), so those fields cost no upstream call.
 */
export interface CertificateRef {
  readonly id: string;
  readonly known?: Partial<Pick<CertificateRowRecord, "status" | "expiresAt" | "orderId">>;
}

/** What a `CertificateOrder` resolves from. */
export interface CertificateOrderRef {
  readonly id: string;
  /**
   * The certificate the order was reached from: its StatusCertificate also says the order's
   * `paid until`, so that field costs no StatusCertificateOrder.
   */
  readonly viaCertificate?: string;
}

/** What a `CertificateContact` resolves from. */
export interface CertificateContactRef {
  readonly id: string;
}

/** What a `CertificateClass` resolves from: its name, and the class itself when already loaded. */
export interface CertificateClassRef {
  readonly name: string;
  readonly record?: ClassRecord;
}

const CERTIFICATE_STATUSES: Readonly<Record<CertificateStatusValue, CertificateStatus>> = {
  active: CertificateStatus.ACTIVE,
  processing: CertificateStatus.PROCESSING,
  expired: CertificateStatus.EXPIRED,
  revoked: CertificateStatus.REVOKED,
  failed: CertificateStatus.FAILED,
  canceled: CertificateStatus.CANCELED,
  cancel_processing: CertificateStatus.CANCEL_PROCESSING,
  revoke_processing: CertificateStatus.REVOKE_PROCESSING,
};

const ORDER_STATUSES: Readonly<Record<CertificateStatusValue, CertificateOrderStatus>> = {
  active: CertificateOrderStatus.ACTIVE,
  processing: CertificateOrderStatus.PROCESSING,
  expired: CertificateOrderStatus.EXPIRED,
  revoked: CertificateOrderStatus.REVOKED,
  failed: CertificateOrderStatus.FAILED,
  canceled: CertificateOrderStatus.CANCELED,
  cancel_processing: CertificateOrderStatus.CANCEL_PROCESSING,
  revoke_processing: CertificateOrderStatus.REVOKE_PROCESSING,
};

const DCV_METHODS: Readonly<Record<DcvMethodValue, DcvMethod>> = {
  email: DcvMethod.EMAIL,
  "dns-txt": DcvMethod.DNS_TXT,
  "dns-cname": DcvMethod.DNS_CNAME,
  http: DcvMethod.HTTP,
  https: DcvMethod.HTTPS,
};

const DCV_METHOD_VALUES: Readonly<Record<DcvMethod, DcvMethodValue>> = {
  [DcvMethod.EMAIL]: "email",
  [DcvMethod.DNS_TXT]: "dns-txt",
  [DcvMethod.DNS_CNAME]: "dns-cname",
  [DcvMethod.HTTP]: "http",
  [DcvMethod.HTTPS]: "https",
};

const CONTACT_TYPES: Readonly<Record<ContactTypeValue, ContactType>> = {
  organization: ContactType.ORGANIZATION,
  tech: ContactType.TECH,
  evapprover: ContactType.EV_APPROVER,
};

const CONTACT_TYPE_VALUES: Readonly<Record<ContactType, ContactTypeValue>> = {
  [ContactType.ORGANIZATION]: "organization",
  [ContactType.TECH]: "tech",
  [ContactType.EV_APPROVER]: "evapprover",
};

const CONTACT_REQUIREMENTS: Readonly<Record<ContactRequirementValue, ContactRequirement>> = {
  MANDATORY: ContactRequirement.MANDATORY,
  OPTIONAL: ContactRequirement.OPTIONAL,
  NO: ContactRequirement.NO,
};

/** The upstream's lower-case certificate status as the enum. */
export function toCertificateStatus(status: CertificateStatusValue): CertificateStatus {
  return CERTIFICATE_STATUSES[status];
}

/** The upstream's lower-case order status as the enum. */
export function toCertificateOrderStatus(status: CertificateStatusValue): CertificateOrderStatus {
  return ORDER_STATUSES[status];
}

/** A status filter as the upstream's STATUS pattern (`CANCEL_PROCESSING` -> `cancel_processing`). */
export function toStatusPattern(status: CertificateStatus | CertificateOrderStatus): string {
  return status.toLowerCase();
}

/** The upstream's DCV method (`dns-txt`) as the enum. */
export function toDcvMethod(method: DcvMethodValue): DcvMethod {
  return DCV_METHODS[method];
}

/** The enum as the upstream's DCV method (`DNS_TXT` -> `dns-txt`). */
export function fromDcvMethod(method: DcvMethod): DcvMethodValue {
  return DCV_METHOD_VALUES[method];
}

/** The upstream's contact type as the enum. */
export function toContactType(type: ContactTypeValue): ContactType {
  return CONTACT_TYPES[type];
}

/** The enum as the upstream's contact type (`EV_APPROVER` -> `evapprover`). */
export function fromContactType(type: ContactType): ContactTypeValue {
  return CONTACT_TYPE_VALUES[type];
}

/** A class record as the schema's `CertificateClass`. */
export function toCertificateClass(record: ClassRecord): CertificateClass {
  return Object.assign(new CertificateClass(), {
    name: record.name,
    displayName: record.displayName,
    brand: record.brand,
    validationType: ValidationType[record.validationType],
    wildcard: record.wildcard,
    multiDomain: record.san,
    includedDomains: record.includedDomains,
    maxDomains: record.maxDomains,
    maxFreeAlternatives: record.maxFreeAlternatives,
    dcvMethods: record.dcvMethods.map(toDcvMethod),
    techContact: CONTACT_REQUIREMENTS[record.techContact],
    organizationContact: CONTACT_REQUIREMENTS[record.organizationContact],
    evApproverContact: CONTACT_REQUIREMENTS[record.evApproverContact],
    periods: record.periods,
    immediateIssuance: record.immediateIssuance,
    refundOnCancel: record.refundOnCancel,
    serverTypes: record.serverTypes,
    idPrefix: record.prefix,
    maxDomainsIncludingAlternatives: record.maxDomainsIncludingAlternatives,
    maxWildcardDomains: record.maxWildcardDomains,
    maxNonWildcardDomains: record.maxNonWildcardDomains,
    supplier: record.supplier,
  });
}

/**
 * Where the validation file of a domain is served: the upstream's `file name` when it is a URL
 * (DigiCert), else the file under `/.well-known/pki-validation/` of the validated domain (Sectigo
 * sends a bare name).
 */
export function toFileUrl(record: DomainValidationRecord): string | null {
  if (record.fileName === null) {
    return null;
  }
  if (/^https?:\/\//i.test(record.fileName)) {
    return record.fileName;
  }
  const scheme = record.method === "https" ? "https" : "http";
  const path = record.fileName.startsWith("/")
    ? record.fileName
    : `/.well-known/pki-validation/${record.fileName}`;
  return `${scheme}://${record.dcvDomain}${path}`;
}

/** A domain's DCV data; `null` when the upstream named no method for it. */
export function toDomainValidation(record: DomainValidationRecord): DomainValidation | null {
  if (record.method === null) {
    return null;
  }
  return Object.assign(new DomainValidation(), {
    domain: record.domain,
    validationDomain: record.dcvDomain,
    method: toDcvMethod(record.method),
    email: record.email,
    dnsRecord: record.dnsRecord,
    fileUrl: toFileUrl(record),
    fileContents: record.fileContents,
  });
}

/** A contact's organization data as the schema's type. */
export function toCertificateOrganization(
  record: ContactOrganizationRecord | null,
): CertificateOrganization | null {
  return record === null ? null : Object.assign(new CertificateOrganization(), record);
}

/** A CSR parsed by `parseCsr`, as `CsrDetails`. */
export function toCsrDetails(info: CsrInfo): CsrDetails {
  return Object.assign(new CsrDetails(), {
    commonName: info.commonName ?? null,
    subject: info.subject,
    subjectAltNames: info.subjectAltNames,
    keyAlgorithm: info.keyAlgorithm,
    keySize: info.keySize ?? null,
    signatureAlgorithm: info.signatureAlgorithm,
    organization: info.subjectFields.organization ?? null,
    country: info.subjectFields.country ?? null,
    signatureValid: info.signatureValid,
  });
}

/**
 * What CheckCertificate said about a CSR, completed by the gateway's own parse (`local`) for
 * what the reply leaves out. `null` when neither knows anything.
 */
export function toCheckedCsrDetails(
  checked: CsrCheckRecord | null,
  local: CsrInfo | null,
): CsrDetails | null {
  if (checked === null && local === null) {
    return null;
  }
  const base = local ? toCsrDetails(local) : null;
  return Object.assign(new CsrDetails(), {
    commonName: checked?.commonName ?? base?.commonName ?? null,
    subject: checked?.subject ?? base?.subject ?? "",
    subjectAltNames:
      checked && checked.subjectAltNames.length > 0
        ? checked.subjectAltNames
        : (base?.subjectAltNames ?? []),
    keyAlgorithm: checked?.keyAlgorithm ?? base?.keyAlgorithm ?? "",
    keySize: checked?.keySize ?? base?.keySize ?? null,
    signatureAlgorithm: checked?.signatureAlgorithm ?? base?.signatureAlgorithm ?? "",
    organization: checked?.organization ?? base?.organization ?? null,
    country: checked?.country ?? base?.country ?? null,
    signatureValid: base?.signatureValid ?? null,
  });
}

/** A certificate parsed by `parseCertificate`, as `X509Details`. */
export function toX509Details(info: CertificateInfo): X509Details {
  return Object.assign(new X509Details(), {
    subject: info.subject,
    issuer: info.issuer,
    serialNumber: info.serialNumber,
    notBefore: info.notBefore,
    notAfter: info.notAfter,
    subjectAltNames: info.subjectAltNames,
    keyAlgorithm: info.keyAlgorithm,
    keySize: info.keySize ?? null,
    signatureAlgorithm: info.signatureAlgorithm,
    fingerprintSha256: info.fingerprintSha256,
  });
}

/**
 * What CheckCertificate said about a certificate, completed by the gateway's own parse. `null`
 * when the dates are unknown to both (they are required fields).
 */
export function toCheckedX509Details(
  checked: CrtCheckRecord | null,
  local: CertificateInfo | null,
): X509Details | null {
  const notBefore = checked?.notBefore ?? local?.notBefore ?? null;
  const notAfter = checked?.notAfter ?? local?.notAfter ?? null;
  if (notBefore === null || notAfter === null) {
    return null;
  }
  return Object.assign(new X509Details(), {
    subject: checked?.subject ?? local?.subject ?? "",
    issuer: checked?.issuer ?? local?.issuer ?? "",
    serialNumber: checked?.serialNumber ?? local?.serialNumber ?? "",
    notBefore,
    notAfter,
    subjectAltNames:
      checked && checked.subjectAltNames.length > 0
        ? checked.subjectAltNames
        : (local?.subjectAltNames ?? []),
    keyAlgorithm: checked?.keyAlgorithm ?? local?.keyAlgorithm ?? "",
    keySize: checked?.keySize ?? local?.keySize ?? null,
    signatureAlgorithm: checked?.signatureAlgorithm ?? local?.signatureAlgorithm ?? "",
    fingerprintSha256: local?.fingerprintSha256 ?? "",
  });
}

/** An approver address as the schema's type. */
export function toApproverEmail(domain: string, email: string): ApproverEmail {
  return Object.assign(new ApproverEmail(), { domain, email });
}

/** `crt` followed by `intermediate`, one newline between: what a web server is configured with. */
export function toChain(crt: string | null, intermediate: string | null): string | null {
  if (crt === null) {
    return null;
  }
  const leaf = crt.endsWith("\n") ? crt : `${crt}\n`;
  return intermediate === null ? leaf : `${leaf}${intermediate}`;
}

const CURSOR_PREFIX = "offset:";

/** The opaque cursor of the item at `offset` (base64 of `offset:<n>`). */
export function toCursor(offset: number): string {
  return Buffer.from(`${CURSOR_PREFIX}${offset}`, "utf8").toString("base64");
}

/** The offset a cursor points at, or `undefined` when it is not one of ours. */
export function fromCursor(cursor: string): number | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(cursor)) {
    return undefined;
  }
  const text = Buffer.from(cursor, "base64").toString("utf8");
  if (!text.startsWith(CURSOR_PREFIX)) {
    return undefined;
  }
  const digits = text.slice(CURSOR_PREFIX.length);
  if (!/^\d{1,9}$/.test(digits)) {
    return undefined;
  }
  return Number(digits);
}

/** A connection page in the schema's shape (the concrete connection class is the caller's). */
export interface ConnectionShape<N> {
  edges: { cursor: string; node: N }[];
  nodes: N[];
  pageInfo: PageInfo;
  totalCount: number;
}

/**
 * A Relay connection over one upstream page. `offset` is where the page starts, `size` how many
 * items were asked for (the upstream may be asked for one more row than shown, see `toPageQuery`).
 */
export function toConnection<R, N>(
  page: PageRecord<R>,
  offset: number,
  size: number,
  toNode: (row: R) => N,
): ConnectionShape<N> {
  const shown = page.items.slice(0, size);
  const edges = shown.map((row, index) => ({
    cursor: toCursor(offset + index),
    node: toNode(row),
  }));
  const last = edges[edges.length - 1];
  return {
    edges,
    nodes: edges.map(edge => edge.node),
    pageInfo: Object.assign(new PageInfo(), {
      hasNextPage: offset + shown.length < page.total,
      hasPreviousPage: offset > 0,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: last?.cursor ?? null,
    }),
    totalCount: page.total,
  };
}

/** A new contact's data as given in an order input, for `toInlineContactArgs`. */
export interface ContactData {
  readonly id?: string;
  readonly firstName?: string;
  readonly lastName?: string;
  readonly email?: string;
  readonly phone?: string;
  readonly jobTitle?: string;
  readonly organization?: {
    readonly name: string;
    readonly dba?: string;
    readonly street: string;
    readonly zip?: string;
    readonly city: string;
    readonly state?: string;
    readonly country: string;
    readonly phone: string;
    readonly email: string;
  };
}

/**
 * The AddCertificate/RenewCertificate contact arguments for the contacts of an order: an id or
 * handle as TECHCONTACT0/ORGANIZATIONCONTACT/EVAPPROVERCONTACT0, inline data as the TECH*,
 * ORGANIZATION* and EVAPPROVER* parameters (the upstream creates the contacts).
 */
export function toInlineContactArgs(contacts: {
  tech?: ContactData | null;
  organization?: ContactData | null;
  evApprover?: ContactData | null;
}): InlineContactArgs {
  const args: InlineContactArgs = {};
  const { tech, organization, evApprover } = contacts;
  if (tech?.id) {
    args.techcontact = [tech.id];
  } else if (tech) {
    args.techfirstname = tech.firstName ? [tech.firstName] : undefined;
    args.techlastname = tech.lastName ? [tech.lastName] : undefined;
    args.techemail = tech.email ? [tech.email] : undefined;
    args.techphone = tech.phone ? [tech.phone] : undefined;
    args.techjobtitle = tech.jobTitle;
  }
  if (organization?.id) {
    args.organizationcontact = organization.id;
  } else if (organization?.organization) {
    const org = organization.organization;
    args.organizationname = org.name;
    args.organizationdba = org.dba;
    args.organizationstreet = org.street;
    args.organizationzip = org.zip;
    args.organizationcity = org.city;
    args.organizationstate = org.state;
    args.organizationcountry = org.country;
    args.organizationphone = org.phone;
    args.organizationemail = org.email;
  }
  if (evApprover?.id) {
    args.evapprovercontact = [evApprover.id];
  } else if (evApprover) {
    args.evapproverfirstname = evApprover.firstName;
    args.evapproverlastname = evApprover.lastName;
    args.evapproveremail = evApprover.email;
    args.evapproverphone = evApprover.phone;
    args.evapproverjobtitle = evApprover.jobTitle;
  }
  return args;
}

/** The PERIOD parameter for a number of years, as the classes list their periods (`1y`). */
export function toPeriod(years: number | null | undefined): string | undefined {
  return years === null || years === undefined ? undefined : `${years}y`;
}

/** The roles a contact of an order can play, as the inputs name them. */
export type ContactRole = "techContact" | "organizationContact" | "evApproverContact";

function blank(text: string | null | undefined): boolean {
  return text === undefined || text === null || text.trim() === "";
}

/**
 * What is wrong with one contact of an order (`ContactInput`): an id together with data, or new
 * data without what the upstream needs to create the contact (a person's first and last name,
 * email and phone; an organization's address). Empty when the contact is absent or fine.
 */
export function contactViolations(
  role: ContactRole,
  contact: ContactData | null | undefined,
): InputViolation[] {
  if (contact === null || contact === undefined) {
    return [];
  }
  const hasData =
    !blank(contact.firstName) ||
    !blank(contact.lastName) ||
    !blank(contact.email) ||
    !blank(contact.phone) ||
    !blank(contact.jobTitle) ||
    contact.organization !== undefined;
  if (contact.id !== undefined && contact.id !== null) {
    if (blank(contact.id)) {
      return [
        {
          field: `${role}.id`,
          rule: "CONTACT_ID_EMPTY",
          message: `${role}.id is empty; give a contact id (CC-…) or handle (P-…, O-…), or leave id out and give the contact's data`,
        },
      ];
    }
    return hasData
      ? [
          {
            field: role,
            rule: "CONTACT_ID_WITH_DATA",
            message: `${role}: give either an existing contact in id or the data of a new one, not both`,
          },
        ]
      : [];
  }
  const violations: InputViolation[] = [];
  if (role === "organizationContact") {
    if (contact.organization === undefined || contact.organization === null) {
      violations.push({
        field: `${role}.organization`,
        rule: "CONTACT_FIELD_REQUIRED",
        message: `${role}.organization is required for a new organization contact (or give an existing one in ${role}.id)`,
      });
    }
    return violations;
  }
  for (const name of ["firstName", "lastName", "email", "phone"] as const) {
    if (blank(contact[name])) {
      violations.push({
        field: `${role}.${name}`,
        rule: "CONTACT_FIELD_REQUIRED",
        message: `${role}.${name} is required for a new contact (or give an existing one in ${role}.id)`,
      });
    }
  }
  if (!blank(contact.email) && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(contact.email ?? "")) {
    violations.push({
      field: `${role}.email`,
      rule: "CONTACT_EMAIL_INVALID",
      message: `${role}.email ${JSON.stringify(contact.email)} is not an email address`,
    });
  }
  return violations;
}

/** The longest idempotency key accepted. */
export const MAX_IDEMPOTENCY_KEY_CHARS = 255;

/** What is wrong with an idempotency key: empty, too long, or with control characters. */
export function idempotencyKeyViolations(key: string | null | undefined): InputViolation[] {
  if (key === null || key === undefined) {
    return [];
  }
  // eslint-disable-next-line no-control-regex
  if (key.trim() === "" || key.length > MAX_IDEMPOTENCY_KEY_CHARS || /[\x00-\x1f\x7f]/.test(key)) {
    return [
      {
        field: "idempotencyKey",
        rule: "IDEMPOTENCY_KEY_INVALID",
        message: `idempotencyKey must be 1 to ${MAX_IDEMPOTENCY_KEY_CHARS} printable characters (a UUID is a good key)`,
      },
    ];
  }
  return [];
}

/** The page of a connection the arguments ask for: where it starts and how many items. */
export interface PageRequest {
  readonly offset: number;
  readonly size: number;
}

/**
 * Reads `first` and `after` of a connection: `first` defaults to 20 (at most `maxPageSize`) and
 * must be 0 to `maxPageSize`; `after` must be a cursor of ours. Returns the page or the
 * violations.
 */
export function toPageRequest(
  args: { first?: number | null; after?: string | null },
  maxPageSize: number,
): PageRequest | InputViolation[] {
  const violations: InputViolation[] = [];
  // GraphQL applies the default of 20 before we see it: a gateway whose pages are smaller
  // serves its largest page for it rather than refusing a query that did not ask for 20.
  const size =
    args.first === undefined || args.first === null || args.first === DEFAULT_PAGE_SIZE
      ? Math.min(args.first ?? DEFAULT_PAGE_SIZE, maxPageSize)
      : args.first;
  if (!Number.isInteger(size) || size < 0 || size > maxPageSize) {
    violations.push({
      field: "first",
      rule: "PAGE_SIZE_OUT_OF_RANGE",
      message: `first must be from 0 to ${maxPageSize} (got ${size})`,
    });
  }
  let offset = 0;
  if (args.after !== undefined && args.after !== null) {
    const position = fromCursor(args.after);
    if (position === undefined) {
      violations.push({
        field: "after",
        rule: "CURSOR_INVALID",
        message: "after is not a cursor of this list; pass an endCursor the gateway returned",
      });
    } else {
      offset = position + 1;
    }
  }
  return violations.length > 0 ? violations : { offset, size };
}

/** Page size of a connection when `first` is not given (the contract's default). */
export const DEFAULT_PAGE_SIZE = 20;

/** The fields of an order input that `orderViolations` and `toAddCertificateArgs` read. */
export interface OrderInputShape {
  readonly class: string;
  readonly domains: readonly string[];
  readonly csr: string;
  readonly dcvMethod: DcvMethod;
  readonly approverEmails?: readonly string[] | null;
  readonly dcvToken?: string | null;
  readonly serverType?: string | null;
  readonly periodYears?: number | null;
  readonly autofillDomains?: boolean | null;
  readonly techContact?: ContactData | null;
  readonly organizationContact?: ContactData | null;
  readonly evApproverContact?: ContactData | null;
}

function given<T>(value: T | null | undefined): T | undefined {
  return value === null ? undefined : value;
}

/**
 * Every rule an order input breaks against its class (`checkOrder` of the order rules: domains,
 * wildcard, DCV method, approver emails, contacts, period, CSR, token) plus the shape of each
 * contact. Empty when the order may be sent. Pure; parses the CSR.
 */
export function orderViolations(input: OrderInputShape, klass: ClassRecord): InputViolation[] {
  const ruleViolations = checkOrder({
    klass,
    domains: [...input.domains],
    dcvMethod: fromDcvMethod(input.dcvMethod),
    approverEmails: input.approverEmails ? [...input.approverEmails] : undefined,
    csrPem: input.csr,
    periodYears: given(input.periodYears),
    contacts: {
      tech: Boolean(input.techContact),
      organization: Boolean(input.organizationContact),
      evApprover: Boolean(input.evApproverContact),
    },
    dcvToken: given(input.dcvToken),
    autofillDomains: given(input.autofillDomains),
  });
  return [
    ...ruleViolations,
    ...contactViolations("techContact", input.techContact),
    ...contactViolations("organizationContact", input.organizationContact),
    ...contactViolations("evApproverContact", input.evApproverContact),
  ];
}

/** The AddCertificate arguments of an order input (`checkonly` for a quote). */
export function toAddCertificateArgs(
  input: OrderInputShape,
  checkonly = false,
): CommandArgs<"AddCertificate"> {
  const method = fromDcvMethod(input.dcvMethod);
  const emails =
    method === "email" && input.approverEmails
      ? expandApproverEmails(input.domains.length, input.approverEmails)
      : undefined;
  return {
    class: input.class.toLowerCase(),
    domain: [...input.domains],
    csr: input.csr,
    dcvmethod: method,
    dcvemail: emails,
    dcvtoken: given(input.dcvToken),
    servertype: given(input.serverType),
    period: toPeriod(input.periodYears),
    noautofilldomains: input.autofillDomains === false ? 1 : undefined,
    checkonly: checkonly ? 1 : undefined,
    ...toInlineContactArgs({
      tech: input.techContact,
      organization: input.organizationContact,
      evApprover: input.evApproverContact,
    }),
  };
}

/** The violation of an input naming a class the upstream does not have. */
export function unknownClassViolations(name: string, field = "class"): InputViolation[] {
  return [
    {
      field,
      rule: "CLASS_UNKNOWN",
      message: `${field} ${JSON.stringify(name)} is not a certificate class; see certificateClasses`,
    },
  ];
}
