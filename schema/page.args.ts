import { ArgsType, Field, Int } from "type-graphql";

/** The paging arguments every connection takes (Relay forward paging); extend it. */
@ArgsType()
export class PageArgs {
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
}
