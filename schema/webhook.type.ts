import { Field, ID, ObjectType } from "type-graphql";
import { CertificateEventType } from "./certificate-event-type.enum";
import { DateTimeScalar } from "./date-time.scalar";

@ObjectType({
  description:
    "An HTTPS endpoint of yours that receives the account's certificate events as signed POSTs. " +
    "Webhooks belong to the API key that created them",
})
export class Webhook {
  @Field(_type => ID)
  id!: string;

  @Field(_type => String, { description: "Where the events are POSTed" })
  url!: string;

  @Field(_type => [CertificateEventType], {
    description: "The kinds it receives; empty means every kind",
  })
  events!: CertificateEventType[];

  @Field(_type => DateTimeScalar)
  createdAt!: Date;
}
