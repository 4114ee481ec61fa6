import { Field, ObjectType } from "type-graphql";
import { CertificateEvent } from "./certificate-event.type";

@ObjectType({ description: "One event in a page, with the cursor that points at it" })
export class CertificateEventEdge {
  @Field(_type => String, { description: "Opaque position of this item; pass it as `after`" })
  cursor!: string;

  @Field(_type => CertificateEvent)
  node!: CertificateEvent;
}
