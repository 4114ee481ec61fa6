import { Field, ObjectType } from "type-graphql";
import { ApproverEmail } from "./approver-email.type";
import { CsrDetails } from "./csr-details.type";
import { X509Details } from "./x509-details.type";

@ObjectType({
  description:
    "What the upstream makes of a CSR, a certificate and domains before anything is ordered",
})
export class CertificateCheck {
  @Field(_type => CsrDetails, {
    nullable: true,
    description: "The CSR's details; null without CSR",
  })
  csr!: CsrDetails | null;

  @Field(_type => X509Details, {
    nullable: true,
    description: "The certificate's details; null without certificate",
  })
  crt!: X509Details | null;

  @Field(_type => [ApproverEmail], {
    description: "Addresses usable for EMAIL validation, per domain (needs domains and class)",
  })
  approverEmails!: ApproverEmail[];

  @Field(_type => String, {
    nullable: true,
    description:
      "DCV token for immediate issuance (needs generateDcvToken, csr and class); valid 30 days",
  })
  dcvToken!: string | null;
}
