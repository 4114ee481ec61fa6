import { Field, ObjectType } from "type-graphql";
import { Webhook } from "./webhook.type";

@ObjectType({ description: "A new webhook and its signing secret, which is shown only this once" })
export class CreatedWebhook {
  @Field(_type => Webhook)
  webhook!: Webhook;

  @Field(_type => String, {
    description:
      "The HMAC-SHA256 key of the deliveries' signature header; keep it secret. It is never " +
      "shown again: to change it, delete the webhook and create a new one",
  })
  secret!: string;
}
