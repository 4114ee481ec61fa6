import { Field, Int, ObjectType } from "type-graphql";

@ObjectType({ description: "One price component of a quote and how often it is billed" })
export class PriceLine {
  @Field(_type => String, {
    description: 'Price type: "<class>-base", "-wildcardbase", "-san" or "-wildcardsan"',
  })
  billingType!: string;

  @Field(_type => Int, { description: "How many times this price type is billed" })
  count!: number;
}
