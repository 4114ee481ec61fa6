/**
 * Upstream records: the provider's objects as the gateway holds them after decoding a reply.
 * Plain data, GraphQL-agnostic. Dates are `Date` in UTC or `null` when the upstream sent an empty
 * value; statuses and methods keep the upstream's lower-case spelling.
 */

export type CertificateStatusValue =
  | "active"
  | "processing"
  | "expired"
  | "revoked"
  | "failed"
  | "canceled"
  | "cancel_processing"
  | "revoke_processing";

export type DcvMethodValue = "email" | "dns-txt" | "dns-cname" | "http" | "https";

export type ContactRequirementValue = "MANDATORY" | "OPTIONAL" | "NO";

export type ContactTypeValue = "organization" | "tech" | "evapprover";

/** One certificate class (GetCertificateInfo with CLASS). */
export interface ClassRecord {
  /** Lower case, as the CLASS parameter: "ssl123dv". */
  name: string;
  displayName: string;
  brand: string;
  supplier: string;
  validationType: "DV" | "OV" | "EV";
  wildcard: boolean;
  san: boolean;
  includedDomains: number;
  maxDomains: number;
  maxDomainsIncludingAlternatives: number;
  maxFreeAlternatives: number;
  maxWildcardDomains: number;
  maxNonWildcardDomains: number;
  dcvMethods: DcvMethodValue[];
  techContact: ContactRequirementValue;
  organizationContact: ContactRequirementValue;
  evApproverContact: ContactRequirementValue;
  periods: string[];
  immediateIssuance: boolean;
  refundOnCancel: boolean;
  serverTypes: string[];
  prefix: string;
}

/** DCV data of one domain of a certificate (parallel arrays of the reply, index by index). */
export interface DomainValidationRecord {
  domain: string;
  dcvDomain: string;
  method: DcvMethodValue | null;
  email: string | null;
  dnsRecord: string | null;
  fileName: string | null;
  fileContents: string | null;
}

/** The full certificate of StatusCertificate (or of an order/renew/reissue reply). */
export interface CertificateRecord {
  id: string;
  status: CertificateStatusValue;
  /** Lower-case class name. */
  className: string;
  orderId: string | null;
  domains: string[];
  validations: DomainValidationRecord[];
  serverType: string | null;
  csr: string | null;
  crt: string | null;
  intermediate: string | null;
  root: string | null;
  techContactId: string | null;
  organizationContactId: string | null;
  evApproverContactId: string | null;
  orderPaidUntil: Date | null;
  createdAt: Date | null;
  updatedAt: Date | null;
  expiresAt: Date | null;
}

/** A row of QueryCertificateList: only what the list holds. */
export interface CertificateRowRecord {
  id: string;
  status: CertificateStatusValue;
  className: string;
  orderId: string | null;
  serverType: string | null;
  createdAt: Date | null;
  updatedAt: Date | null;
  expiresAt: Date | null;
}

/** One certificate as StatusCertificateOrder lists it. */
export interface OrderCertificateEntry {
  id: string;
  status: CertificateStatusValue | null;
  expiresAt: Date | null;
}

export interface CertificateOrderRecord {
  id: string;
  status: CertificateStatusValue;
  className: string;
  ca: string | null;
  /** The order's certificates as the upstream lists them (oldest first). */
  certificates: OrderCertificateEntry[];
  paidUntil: Date | null;
  createdAt: Date | null;
  updatedAt: Date | null;
}

/** A row of QueryCertificateOrderList. */
export interface CertificateOrderRowRecord {
  id: string;
  status: CertificateStatusValue;
  className: string;
  paidUntil: Date | null;
  createdAt: Date | null;
  updatedAt: Date | null;
}

export interface ContactOrganizationRecord {
  name: string | null;
  dba: string | null;
  street: string | null;
  zip: string | null;
  city: string | null;
  state: string | null;
  country: string | null;
  phone: string | null;
  email: string | null;
}

export interface ContactRecord {
  id: string;
  type: ContactTypeValue;
  status: string | null;
  firstName: string | null;
  lastName: string | null;
  jobTitle: string | null;
  email: string | null;
  phone: string | null;
  organization: ContactOrganizationRecord | null;
  createdAt: Date | null;
  updatedAt: Date | null;
}

/** One page of a list command, with the upstream's paging figures. */
export interface PageRecord<T> {
  items: T[];
  first: number;
  limit: number;
  total: number;
}

/**
 * A row of QueryCertificateContactList (`wide=1`): every field of the contact the list shows.
 * `status` is `undefined` when the list has no status column (the manual's example has none).
 */
export interface ContactRowRecord extends Omit<ContactRecord, "status"> {
  status?: string | null;
}

/** The reply of AddCertificateContact: the new contact's id and its verification status. */
export interface CreatedContactRecord {
  id: string;
  status: string | null;
}

/** What CheckCertificate says about a CSR (`csr ...` properties); absent values are `undefined`. */
export interface CsrCheckRecord {
  commonName?: string;
  subject?: string;
  subjectAltNames: string[];
  keyAlgorithm?: string;
  keySize?: number;
  signatureAlgorithm?: string;
  organization?: string;
  country?: string;
}

/** What CheckCertificate says about a certificate (`crt ...` properties). */
export interface CrtCheckRecord {
  commonName?: string;
  subject?: string;
  issuer?: string;
  serialNumber?: string;
  notBefore: Date | null;
  notAfter: Date | null;
  subjectAltNames: string[];
  keyAlgorithm?: string;
  keySize?: number;
  signatureAlgorithm?: string;
}

/** One address the CA accepts for EMAIL validation of a domain. */
export interface ApproverEmailRecord {
  domain: string;
  email: string;
}

/** The reply of CheckCertificate. `csr`/`crt` are `null` when the reply holds nothing about them. */
export interface CertificateCheckRecord {
  csr: CsrCheckRecord | null;
  crt: CrtCheckRecord | null;
  approverEmails: ApproverEmailRecord[];
  dcvToken: string | null;
}

/** One billed price type of a quote: `ssl123dv-base` once, `ssl123dv-san` twice. */
export interface PriceLineRecord {
  billingType: string;
  count: number;
}

/** The reply of AddCertificate with `CHECKONLY=1`. Amounts are decimal strings as sent. */
export interface CertificateQuoteRecord {
  /** Lower-case class name, or `null` when the reply does not name it. */
  className: string | null;
  /** The domains after the free alternatives were added. */
  domains: string[];
  lines: PriceLineRecord[];
  price: string;
  vat: string;
}
