import { Field, ObjectType } from "type-graphql";
import { CacheControl } from "./cache-control.directive";
import { Certificate } from "./certificate.type";

@CacheControl({ inheritMaxAge: true })
@ObjectType({ description: "One certificate in a page, with the cursor that points at it" })
export class CertificateEdge {
  @Field(_type => String, { description: "Opaque position of this item; pass it as `after`" })
  cursor!: string;

  @Field(_type => Certificate)
  node!: Certificate;
}
