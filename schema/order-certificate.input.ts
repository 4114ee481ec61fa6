import { Field, ID, InputType, Int } from "type-graphql";
import { ContactInput } from "./contact.input";
import { DcvMethod } from "./dcv-method.enum";

@InputType({ description: "What to order: checked against the class before anything is sent" })
export class OrderCertificateInput {
  @Field(_type => ID, { description: 'Class name: "ssl123dv" (see certificateClasses)' })
  class!: string;

  @Field(_type => [String], { description: "The domains; the first one is the common name" })
  domains!: string[];

  @Field(_type => String, { description: "The certificate signing request, PEM" })
  csr!: string;

  @Field(_type => DcvMethod)
  dcvMethod!: DcvMethod;

  @Field(_type => [String], {
    nullable: true,
    description: "EMAIL: one approver address per domain, in domain order",
  })
  approverEmails?: string[];

  @Field(_type => String, {
    nullable: true,
    description: "Immediate issuance: the token from checkCertificate, already published",
  })
  dcvToken?: string;

  @Field(_type => String, { nullable: true, description: 'Server software: "apache" (manual 9.2)' })
  serverType?: string;

  @Field(_type => Int, { nullable: true, description: "Validity in years; the class's periods" })
  periodYears?: number | null = 1;

  @Field(_type => Boolean, {
    nullable: true,
    description: "Add the class's free alternatives (www., the base of a wildcard)",
  })
  autofillDomains?: boolean | null = true;

  @Field(_type => ContactInput, { nullable: true })
  techContact?: ContactInput;

  @Field(_type => ContactInput, { nullable: true })
  organizationContact?: ContactInput;

  @Field(_type => ContactInput, { nullable: true })
  evApproverContact?: ContactInput;
}
