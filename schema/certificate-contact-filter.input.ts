import { Field, InputType } from "type-graphql";
import { ContactType } from "./contact-type.enum";

@InputType({ description: "Narrows a contact list; every given criterion must match" })
export class CertificateContactFilter {
  @Field(_type => ContactType, { nullable: true })
  type?: ContactType;

  @Field(_type => String, {
    nullable: true,
    description: "Email address; `*` and `?` are wildcards (`*@example.com`)",
  })
  email?: string;
}
