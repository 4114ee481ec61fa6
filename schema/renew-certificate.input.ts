import { Field, ID, InputType, Int } from "type-graphql";
import { DcvMethod } from "./dcv-method.enum";

@InputType({
  description:
    "Renews a certificate into a new one; what is left out is taken from the certificate renewed",
})
export class RenewCertificateInput {
  @Field(_type => ID, { description: "The certificate to renew" })
  id!: string;

  @Field(_type => String, { nullable: true, description: "A new CSR, PEM (recommended)" })
  csr?: string;

  @Field(_type => DcvMethod, { nullable: true })
  dcvMethod?: DcvMethod;

  @Field(_type => String, {
    nullable: true,
    description: "Immediate issuance: token from checkCertificate",
  })
  dcvToken?: string;

  @Field(_type => Int, { nullable: true, description: "Validity in years; the class's periods" })
  periodYears?: number;

  @Field(_type => [String], {
    nullable: true,
    description: "EMAIL: one approver address per domain, in domain order",
  })
  approverEmails?: string[];
}
