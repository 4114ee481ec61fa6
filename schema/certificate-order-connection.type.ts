import { Field, Int, ObjectType } from "type-graphql";
import { CacheControl } from "./cache-control.directive";
import { CertificateOrderEdge } from "./certificate-order-edge.type";
import { CertificateOrder } from "./certificate-order.type";
import { PageInfo } from "./page-info.type";

@CacheControl({ inheritMaxAge: true })
@ObjectType({ description: "A page of certificate orders matching the filter (Relay connection)" })
export class CertificateOrderConnection {
  @Field(_type => [CertificateOrderEdge])
  edges!: CertificateOrderEdge[];

  @Field(_type => [CertificateOrder], {
    description: "The nodes of `edges`, for clients without cursors",
  })
  nodes!: CertificateOrder[];

  @Field(_type => PageInfo)
  pageInfo!: PageInfo;

  @Field(_type => Int, { description: "How many match the filter in all, across every page" })
  totalCount!: number;
}
