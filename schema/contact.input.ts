import { Field, ID, InputType } from "type-graphql";
import { CertificateOrganizationInput } from "./certificate-organization.input";

@InputType({
  description:
    "Either an existing contact (CC-…, or a P-/O- handle) in `id`, or the data of a new one " +
    "(the upstream creates the contact with the order); never both",
})
export class ContactInput {
  @Field(_type => ID, { nullable: true, description: "CC-12345678, P-ABC123 or O-ABC123" })
  id?: string;

  @Field(_type => String, { nullable: true })
  firstName?: string;

  @Field(_type => String, { nullable: true })
  lastName?: string;

  @Field(_type => String, { nullable: true })
  email?: string;

  @Field(_type => String, { nullable: true, description: 'Phone, "+1.5551234567"' })
  phone?: string;

  @Field(_type => String, { nullable: true })
  jobTitle?: string;

  @Field(_type => CertificateOrganizationInput, {
    nullable: true,
    description: "Required for a new organization contact",
  })
  organization?: CertificateOrganizationInput;
}
