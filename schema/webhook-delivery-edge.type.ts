import { Field, ObjectType } from "type-graphql";
import { WebhookDelivery } from "./webhook-delivery.type";

@ObjectType({ description: "One delivery in a page, with the cursor that points at it" })
export class WebhookDeliveryEdge {
  @Field(_type => String, { description: "Opaque position of this item; pass it as `after`" })
  cursor!: string;

  @Field(_type => WebhookDelivery)
  node!: WebhookDelivery;
}
