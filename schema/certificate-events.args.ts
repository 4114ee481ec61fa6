import { ArgsType, Field, Int } from "type-graphql";
import { CertificateEventFilter } from "./certificate-event-filter.input";

@ArgsType()
export class CertificateEventsArgs {
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

  @Field(_type => CertificateEventFilter, { nullable: true })
  filter?: CertificateEventFilter;
}
