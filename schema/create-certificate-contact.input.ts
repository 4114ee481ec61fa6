import { Field, InputType } from "type-graphql";
import { CertificateOrganizationInput } from "./certificate-organization.input";
import { ContactType } from "./contact-type.enum";

@InputType({
  description: "A new contact: its data, or existing P-/O- handles to copy it from (manual 9.1.9)",
})
export class CreateCertificateContactInput {
  @Field(_type => ContactType)
  type!: ContactType;

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

  @Field(_type => CertificateOrganizationInput, { nullable: true })
  organization?: CertificateOrganizationInput;

  @Field(_type => String, { nullable: true, description: "A person handle (P-…) to copy from" })
  personHandle?: string;

  @Field(_type => String, {
    nullable: true,
    description: "An organization handle (O-…) to copy from",
  })
  organizationHandle?: string;
}
