import { Field, Int, ObjectType } from "type-graphql";
import { PageInfo } from "./page-info.type";
import { WebhookDeliveryEdge } from "./webhook-delivery-edge.type";
import { WebhookDelivery } from "./webhook-delivery.type";

@ObjectType({ description: "A page of a webhook's deliveries, newest first (Relay connection)" })
export class WebhookDeliveryConnection {
  @Field(_type => [WebhookDeliveryEdge])
  edges!: WebhookDeliveryEdge[];

  @Field(_type => [WebhookDelivery], {
    description: "The nodes of `edges`, for clients without cursors",
  })
  nodes!: WebhookDelivery[];

  @Field(_type => PageInfo)
  pageInfo!: PageInfo;

  @Field(_type => Int, { description: "How many deliveries the webhook has in all" })
  totalCount!: number;
}
