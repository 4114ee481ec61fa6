import { Field, Int, ObjectType } from "type-graphql";
import { CacheControl } from "./cache-control.directive";
import { CertificateEdge } from "./certificate-edge.type";
import { Certificate } from "./certificate.type";
import { PageInfo } from "./page-info.type";

@CacheControl({ inheritMaxAge: true })
@ObjectType({ description: "A page of certificates matching the filter (Relay connection)" })
export class CertificateConnection {
  @Field(_type => [CertificateEdge])
  edges!: CertificateEdge[];

  @Field(_type => [Certificate], {
    description: "The nodes of `edges`, for clients without cursors",
  })
  nodes!: Certificate[];

  @Field(_type => PageInfo)
  pageInfo!: PageInfo;

  @Field(_type => Int, { description: "How many match the filter in all, across every page" })
  totalCount!: number;
}
