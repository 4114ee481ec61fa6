import { Field, ID, ObjectType } from "type-graphql";
import { CACHE_HINT_SECONDS, CacheControl } from "./cache-control.directive";
import { CertificateOrganization } from "./certificate-organization.type";
import { ContactType } from "./contact-type.enum";
import { DateTimeScalar } from "./date-time.scalar";

@CacheControl({ maxAge: CACHE_HINT_SECONDS.contact, scope: "PRIVATE" })
@ObjectType({
  description:
    "Contact data the CA uses; immutable once created, reusable across orders (manual 6.4)",
})
export class CertificateContact {
  @Field(_type => ID, { description: "CC-12345678" })
  id!: string;

  @Field(_type => ContactType)
  type!: ContactType;

  @Field(_type => String, {
    nullable: true,
    description: 'Verification or link status as the upstream says it: "unverified", "linked"',
  })
  status!: string | null;

  @Field(_type => String, { nullable: true })
  firstName!: string | null;

  @Field(_type => String, { nullable: true })
  lastName!: string | null;

  @Field(_type => String, { nullable: true })
  jobTitle!: string | null;

  @Field(_type => String, { nullable: true })
  email!: string | null;

  @Field(_type => String, { nullable: true, description: 'Phone, "+1.5551234567"' })
  phone!: string | null;

  @Field(_type => CertificateOrganization, {
    nullable: true,
    description: "The organization; null for contacts without organization data",
  })
  organization!: CertificateOrganization | null;

  @Field(_type => DateTimeScalar, { nullable: true })
  createdAt!: Date | null;

  @Field(_type => DateTimeScalar, { nullable: true })
  updatedAt!: Date | null;
}
