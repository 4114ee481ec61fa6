import { Field, ID, InputType } from "type-graphql";

@InputType({ description: "Reissues an issued certificate, usually with a new key" })
export class ReissueCertificateInput {
  @Field(_type => ID, { description: "The issued certificate to reissue" })
  id!: string;

  @Field(_type => String, { nullable: true, description: "A new CSR, PEM (best practice)" })
  csr?: string;

  @Field(_type => String, {
    nullable: true,
    description: "Token from checkCertificate for the new CSR",
  })
  dcvToken?: string;
}
