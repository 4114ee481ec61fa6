import { Field, Int, ObjectType } from "type-graphql";
import { CacheControl } from "./cache-control.directive";
import { CertificateContactEdge } from "./certificate-contact-edge.type";
import { CertificateContact } from "./certificate-contact.type";
import { PageInfo } from "./page-info.type";

@CacheControl({ inheritMaxAge: true })
@ObjectType({
  description: "A page of certificate contacts matching the filter (Relay connection)",
})
export class CertificateContactConnection {
  @Field(_type => [CertificateContactEdge])
  edges!: CertificateContactEdge[];

  @Field(_type => [CertificateContact], {
    description: "The nodes of `edges`, for clients without cursors",
  })
  nodes!: CertificateContact[];

  @Field(_type => PageInfo)
  pageInfo!: PageInfo;

  @Field(_type => Int, { description: "How many match the filter in all, across every page" })
  totalCount!: number;
}
