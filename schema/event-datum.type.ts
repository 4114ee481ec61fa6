import { Field, ObjectType } from "type-graphql";

@ObjectType({ description: "One name=value line of an event's data, as the upstream sent it" })
export class EventDatum {
  @Field(_type => String, { description: 'The name, e.g. "certificateorder"' })
  name!: string;

  @Field(_type => String)
  value!: string;
}
