import { Field, ID, InputType } from "type-graphql";

@InputType({ description: "What to check: a CSR, a certificate, domains, or all together" })
export class CheckCertificateInput {
  @Field(_type => String, { nullable: true, description: "A certificate signing request, PEM" })
  csr?: string;

  @Field(_type => String, { nullable: true, description: "An X.509 certificate, PEM" })
  crt?: string;

  @Field(_type => [String], {
    nullable: true,
    description: "Domains to list approver addresses for (with class)",
  })
  domains?: string[];

  @Field(_type => ID, { nullable: true, description: 'Class name: "ssl123dv"' })
  class?: string;

  @Field(_type => Boolean, {
    nullable: true,
    description: "Generate a DCV token for immediate issuance (needs csr and class)",
  })
  generateDcvToken?: boolean | null = false;
}
