import { Field, ID, ObjectType } from "type-graphql";
import { CertificateEventSource } from "./certificate-event-source.enum";
import { CertificateEventType } from "./certificate-event-type.enum";
import { DateTimeScalar } from "./date-time.scalar";
import { EventDatum } from "./event-datum.type";

@ObjectType({
  description:
    "Something that happened to a certificate: an event of the provider's queue (manual 9.5) or " +
    "the gateway's own expiry warning. The gateway keeps the history; the provider's queue is " +
    "emptied as events are processed",
})
export class CertificateEvent {
  @Field(_type => ID, {
    description:
      "Unique within the account: the provider's event id, or expiring:<certificate>:<days>d:<date>",
  })
  id!: string;

  @Field(_type => String, {
    description:
      "The event class: CERTIFICATE_REQUEST, CERTIFICATE_REISSUE, CERTIFICATE_CLOSE or CERTIFICATE_EXPIRY",
  })
  class!: string;

  @Field(_type => String, { description: "The event subclass as sent, e.g. REQUEST_SUCCESSFUL" })
  subclass!: string;

  @Field(_type => CertificateEventType, {
    nullable: true,
    description: "The subclass as a known kind; null for a subclass the gateway does not know",
  })
  type!: CertificateEventType | null;

  @Field(_type => String, {
    description: "The id of the object concerned, as the provider names it",
  })
  objectId!: string;

  @Field(_type => DateTimeScalar, { description: "When it happened" })
  date!: Date;

  @Field(_type => String, { description: "The provider's description of the event" })
  info!: string;

  @Field(_type => [EventDatum], { description: "The event's data lines (name=value)" })
  data!: EventDatum[];

  @Field(_type => CertificateEventSource)
  source!: CertificateEventSource;

  @Field(_type => DateTimeScalar, { description: "When the gateway processed it" })
  receivedAt!: Date;

  // Deliberately not @Fields: the keys the certificate and order field resolvers load.
  certificateId!: string | null;
  orderId!: string | null;
}
