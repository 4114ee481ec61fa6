import { Field, ObjectType } from "type-graphql";
import { CacheControl } from "./cache-control.directive";
import { CertificateContact } from "./certificate-contact.type";

@CacheControl({ inheritMaxAge: true })
@ObjectType({ description: "One certificate contact in a page, with the cursor that points at it" })
export class CertificateContactEdge {
  @Field(_type => String, { description: "Opaque position of this item; pass it as `after`" })
  cursor!: string;

  @Field(_type => CertificateContact)
  node!: CertificateContact;
}
