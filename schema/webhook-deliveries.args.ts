import { ArgsType, Field, ID, Int } from "type-graphql";

@ArgsType()
export class WebhookDeliveriesArgs {
  @Field(_type => ID, { description: "The webhook (one of the caller's)" })
  webhookId!: string;

  @Field(_type => Int, {
    nullable: true,
    description: "Page size: at most the gateway's maximum page size (100 by default)",
  })
  first?: number | null = 20;

  @Field(_type => String, {
    nullable: true,
    description: "Cursor of the item after which the page starts (a previous endCursor)",
  })
  after?: string;
}
