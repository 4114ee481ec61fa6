import { Field, ObjectType } from "type-graphql";
import { CacheControl } from "./cache-control.directive";

@CacheControl({ inheritMaxAge: true })
@ObjectType({ description: "The organization data of a certificate contact" })
export class CertificateOrganization {
  @Field(_type => String, { nullable: true, description: "Legal name" })
  name!: string | null;

  @Field(_type => String, { nullable: true, description: "Doing-business-as name" })
  dba!: string | null;

  @Field(_type => String, { nullable: true })
  street!: string | null;

  @Field(_type => String, { nullable: true, description: "Postal code" })
  zip!: string | null;

  @Field(_type => String, { nullable: true })
  city!: string | null;

  @Field(_type => String, { nullable: true, description: "State or province" })
  state!: string | null;

  @Field(_type => String, { nullable: true, description: 'ISO 3166 country code: "DE", "US"' })
  country!: string | null;

  @Field(_type => String, { nullable: true, description: 'Phone, "+1.5551234567"' })
  phone!: string | null;

  @Field(_type => String, { nullable: true })
  email!: string | null;
}
