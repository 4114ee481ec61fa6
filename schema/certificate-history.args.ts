import { ArgsType, Field } from "type-graphql";
import { CertificateEventType } from "./certificate-event-type.enum";
import { PageArgs } from "./page.args";

/** The arguments of `Certificate.events`: a page of one certificate's history. */
@ArgsType()
export class CertificateHistoryArgs extends PageArgs {
  @Field(_type => [CertificateEventType], { nullable: true, description: "Only these kinds" })
  types?: CertificateEventType[];
}
