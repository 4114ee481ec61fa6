import { Field, ObjectType } from "type-graphql";
import { CacheControl } from "./cache-control.directive";
import { CertificateOrder } from "./certificate-order.type";

@CacheControl({ inheritMaxAge: true })
@ObjectType({ description: "One certificate order in a page, with the cursor that points at it" })
export class CertificateOrderEdge {
  @Field(_type => String, { description: "Opaque position of this item; pass it as `after`" })
  cursor!: string;

  @Field(_type => CertificateOrder)
  node!: CertificateOrder;
}
