import { Field, ObjectType } from "type-graphql";

@ObjectType({ description: "An address the CA accepts for EMAIL validation of a domain" })
export class ApproverEmail {
  @Field(_type => String)
  domain!: string;

  @Field(_type => String)
  email!: string;
}
