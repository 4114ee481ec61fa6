import { Field, ID, Int, ObjectType } from "type-graphql";
import { DateTimeScalar } from "./date-time.scalar";
import { WebhookDeliveryState } from "./webhook-delivery-state.enum";

@ObjectType({ description: "The delivery of one event to one webhook, with its last outcome" })
export class WebhookDelivery {
  @Field(_type => ID)
  id!: string;

  @Field(_type => ID, { description: "The id of the event delivered (CertificateEvent.id)" })
  eventId!: string;

  @Field(_type => String, { description: "The event's subclass, e.g. REQUEST_SUCCESSFUL" })
  eventType!: string;

  @Field(_type => WebhookDeliveryState)
  state!: WebhookDeliveryState;

  @Field(_type => Int, { description: "Attempts made so far" })
  attempts!: number;

  @Field(_type => Int, {
    nullable: true,
    description: "The HTTP status of the last attempt, when the endpoint answered",
  })
  lastStatus!: number | null;

  @Field(_type => String, {
    nullable: true,
    description: "Why the last attempt failed (timeout, connection, refused address), if it did",
  })
  lastError!: string | null;

  @Field(_type => DateTimeScalar)
  createdAt!: Date;

  @Field(_type => DateTimeScalar, { nullable: true })
  lastAttemptAt!: Date | null;

  @Field(_type => DateTimeScalar, {
    nullable: true,
    description: "When the next attempt is due; null once delivered or failed",
  })
  nextAttemptAt!: Date | null;
}
