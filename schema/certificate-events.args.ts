import { ArgsType, Field } from "type-graphql";
import { CertificateEventFilter } from "./certificate-event-filter.input";
import { PageArgs } from "./page.args";

@ArgsType()
export class CertificateEventsArgs extends PageArgs {
  @Field(_type => CertificateEventFilter, { nullable: true })
  filter?: CertificateEventFilter;
}
