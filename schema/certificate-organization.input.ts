import { Field, InputType } from "type-graphql";

@InputType({ description: "The organization data of a new contact" })
export class CertificateOrganizationInput {
  @Field(_type => String, { description: "Legal name" })
  name!: string;

  @Field(_type => String, { nullable: true, description: "Doing-business-as name" })
  dba?: string;

  @Field(_type => String)
  street!: string;

  @Field(_type => String, { nullable: true, description: "Postal code" })
  zip?: string;

  @Field(_type => String)
  city!: string;

  @Field(_type => String, { nullable: true, description: "State or province" })
  state?: string;

  @Field(_type => String, { description: 'ISO 3166 country code: "DE", "US"' })
  country!: string;

  @Field(_type => String, { description: 'Phone, "+1.5551234567"' })
  phone!: string;

  @Field(_type => String)
  email!: string;
}
