import { Field, ID, ObjectType } from "type-graphql";
import { CACHE_HINT_SECONDS, CacheControl } from "./cache-control.directive";
import { CertificateClass } from "./certificate-class.type";
import { CertificateContact } from "./certificate-contact.type";
import { CertificateOrder } from "./certificate-order.type";
import { CertificateStatus } from "./certificate-status.enum";
import { CsrDetails } from "./csr-details.type";
import { DateTimeScalar } from "./date-time.scalar";
import { DomainValidation } from "./domain-validation.type";
import { X509Details } from "./x509-details.type";

@CacheControl({ maxAge: CACHE_HINT_SECONDS.record, scope: "PRIVATE" })
@ObjectType({
  description:
    "One issued or requested certificate. A reissue or renewal is a new certificate with a new id",
})
export class Certificate {
  @Field(_type => ID, { description: "DK12345678: two letters of the class, eight digits" })
  id!: string;

  @Field(_type => CertificateStatus)
  status!: CertificateStatus;

  @Field(_type => CertificateClass, { description: "The product this certificate was ordered as" })
  class!: CertificateClass;

  @Field(_type => CertificateOrder, {
    description: "The order that holds this certificate, its reissues and its paid period",
  })
  order!: CertificateOrder;

  @Field(_type => String, { description: "The first domain: the certificate's common name" })
  commonName!: string;

  @Field(_type => [String], {
    description:
      "Every domain of the certificate, the common name first, free alternatives included",
  })
  domains!: string[];

  @Field(_type => [DomainValidation], { description: "Domain control validation, per domain" })
  validations!: DomainValidation[];

  @Field(_type => String, { nullable: true, description: 'Server software it is for: "apache"' })
  serverType!: string | null;

  @Field(_type => String, { nullable: true, description: "The certificate signing request, PEM" })
  csr!: string | null;

  @Field(_type => String, {
    nullable: true,
    description: "The issued certificate, PEM; null until issued",
  })
  crt!: string | null;

  @Field(_type => String, {
    nullable: true,
    description: "The CA's intermediate certificates, PEM (may hold several); null until issued",
  })
  intermediate!: string | null;

  @Field(_type => String, { nullable: true, description: "The CA's root certificate, PEM" })
  root!: string | null;

  @Field(_type => String, {
    nullable: true,
    description:
      "crt followed by intermediate: what a web server is configured with; null until issued",
  })
  chain!: string | null;

  @Field(_type => CsrDetails, {
    nullable: true,
    description: "The CSR parsed by the gateway itself; null when there is no readable CSR",
  })
  csrDetails!: CsrDetails | null;

  @Field(_type => X509Details, {
    nullable: true,
    description: "The issued certificate parsed by the gateway itself; null until issued",
  })
  x509!: X509Details | null;

  @Field(_type => CertificateContact, { nullable: true })
  techContact!: CertificateContact | null;

  @Field(_type => CertificateContact, { nullable: true })
  organizationContact!: CertificateContact | null;

  @Field(_type => CertificateContact, { nullable: true })
  evApproverContact!: CertificateContact | null;

  @Field(_type => DateTimeScalar, { nullable: true })
  createdAt!: Date | null;

  @Field(_type => DateTimeScalar, { nullable: true })
  updatedAt!: Date | null;

  @Field(_type => DateTimeScalar, {
    nullable: true,
    description: "End of validity; null until issued",
  })
  expiresAt!: Date | null;
}
