import { Field, ObjectType } from "type-graphql";
import { CacheControl } from "./cache-control.directive";

@CacheControl({ inheritMaxAge: true })
@ObjectType({ description: "Where a page of a connection sits in the whole list (Relay)" })
export class PageInfo {
  @Field(_type => Boolean, { description: "More items follow the last one of this page" })
  hasNextPage!: boolean;

  @Field(_type => Boolean, { description: "Items precede the first one of this page" })
  hasPreviousPage!: boolean;

  @Field(_type => String, {
    nullable: true,
    description: "Cursor of the first item of the page; null when the page is empty",
  })
  startCursor!: string | null;

  @Field(_type => String, {
    nullable: true,
    description: "Cursor of the last item; pass it as `after` to get the next page",
  })
  endCursor!: string | null;
}
