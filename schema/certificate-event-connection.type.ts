import { Field, Int, ObjectType } from "type-graphql";
import { CertificateEventEdge } from "./certificate-event-edge.type";
import { CertificateEvent } from "./certificate-event.type";
import { PageInfo } from "./page-info.type";

@ObjectType({
  description: "A page of certificate events, newest first (Relay connection)",
})
export class CertificateEventConnection {
  @Field(_type => [CertificateEventEdge])
  edges!: CertificateEventEdge[];

  @Field(_type => [CertificateEvent], {
    description: "The nodes of `edges`, for clients without cursors",
  })
  nodes!: CertificateEvent[];

  @Field(_type => PageInfo)
  pageInfo!: PageInfo;

  @Field(_type => Int, { description: "How many match the filter in all, across every page" })
  totalCount!: number;
}
