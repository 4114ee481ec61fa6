import { Field, ID, Int, ObjectType } from "type-graphql";
import { CACHE_HINT_SECONDS, CacheControl } from "./cache-control.directive";
import { ContactRequirement } from "./contact-requirement.enum";
import { DcvMethod } from "./dcv-method.enum";
import { ValidationType } from "./validation-type.enum";

@CacheControl({ maxAge: CACHE_HINT_SECONDS.catalog, scope: "PUBLIC" })
@ObjectType({
  description:
    "A product: one kind of certificate a CA sells, with the rules that apply when ordering it",
})
export class CertificateClass {
  @Field(_type => ID, { description: 'Lower case, as the upstream\'s CLASS parameter: "ssl123dv"' })
  name!: string;

  @Field(_type => String, { description: "Marketed name of the product" })
  displayName!: string;

  @Field(_type => String, { description: 'The brand that sells it: "DigiCert" or "Sectigo"' })
  brand!: string;

  @Field(_type => ValidationType, { description: "What the CA verifies before issuing" })
  validationType!: ValidationType;

  @Field(_type => Boolean, { description: "Wildcard domains (*.example.com) may be ordered" })
  wildcard!: boolean;

  @Field(_type => Boolean, {
    description: "Several domains (subject alternative names) may be ordered in one certificate",
  })
  multiDomain!: boolean;

  @Field(_type => Int, { description: "Domains included in the base price" })
  includedDomains!: number;

  @Field(_type => Int, { description: "Most domains one certificate may hold" })
  maxDomains!: number;

  @Field(_type => Int, {
    description:
      "Free alternatives the upstream adds (www. of a domain, the base of a wildcard), at most",
  })
  maxFreeAlternatives!: number;

  @Field(_type => [DcvMethod], { description: "Domain control validation methods offered" })
  dcvMethods!: DcvMethod[];

  @Field(_type => ContactRequirement, { description: "Whether an order needs a tech contact" })
  techContact!: ContactRequirement;

  @Field(_type => ContactRequirement, {
    description: "Whether an order needs an organization contact",
  })
  organizationContact!: ContactRequirement;

  @Field(_type => ContactRequirement, { description: "Whether an order needs an EV approver" })
  evApproverContact!: ContactRequirement;

  @Field(_type => [String], {
    description: 'Periods that may be ordered, as the upstream says them: "1y"',
  })
  periods!: string[];

  @Field(_type => Boolean, {
    description: "Orders may be issued immediately with a DCV token from checkCertificate",
  })
  immediateIssuance!: boolean;

  @Field(_type => Boolean, { description: "Canceling an order before issuance refunds it" })
  refundOnCancel!: boolean;

  @Field(_type => [String], { description: "Accepted serverType values (manual 9.2)" })
  serverTypes!: string[];

  @Field(_type => String, {
    description: "Two letters that start the IDs of this class's certificates",
  })
  idPrefix!: string;

  @Field(_type => Int, {
    description: "Most domains including the free alternatives the upstream adds",
  })
  maxDomainsIncludingAlternatives!: number;

  @Field(_type => Int, { description: "Most wildcard domains in one certificate" })
  maxWildcardDomains!: number;

  @Field(_type => Int, { description: "Most non-wildcard domains in one certificate" })
  maxNonWildcardDomains!: number;

  @Field(_type => String, {
    description: 'The CA that issues it, as the upstream names it: "DIGICERT"',
  })
  supplier!: string;
}
