import { Field, ObjectType } from "type-graphql";
import { CertificateOrder } from "./certificate-order.type";

@ObjectType({ description: "One certificate order in a page, with the cursor that points at it" })
export class CertificateOrderEdge {
  @Field(_type => String, { description: "Opaque position of this item; pass it as `after`" })
  cursor!: string;

  @Field(_type => CertificateOrder)
  node!: CertificateOrder;
}
