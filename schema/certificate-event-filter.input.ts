import { Field, ID, InputType } from "type-graphql";
import { CertificateEventType } from "./certificate-event-type.enum";
import { DateTimeScalar } from "./date-time.scalar";

@InputType({
  description: "Narrows a list of certificate events; every given criterion must match",
})
export class CertificateEventFilter {
  @Field(_type => [CertificateEventType], {
    nullable: true,
    description: "Only these kinds (an event of an unknown kind matches no list)",
  })
  types?: CertificateEventType[];

  @Field(_type => ID, { nullable: true, description: "Only events about this certificate" })
  certificateId?: string;

  @Field(_type => ID, { nullable: true, description: "Only events about this order" })
  orderId?: string;

  @Field(_type => DateTimeScalar, { nullable: true, description: "Only events at or after this" })
  since?: Date;

  @Field(_type => DateTimeScalar, { nullable: true, description: "Only events before this" })
  until?: Date;
}
