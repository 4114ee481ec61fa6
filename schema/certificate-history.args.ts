import { ArgsType, Field, Int } from "type-graphql";
import { CertificateEventType } from "./certificate-event-type.enum";

/** The arguments of `Certificate.events`: a page of one certificate's history. */
@ArgsType()
export class CertificateHistoryArgs {
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

  @Field(_type => [CertificateEventType], { nullable: true, description: "Only these kinds" })
  types?: CertificateEventType[];
}
