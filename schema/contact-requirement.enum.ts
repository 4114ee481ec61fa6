import { registerEnumType } from "type-graphql";

/** Whether an order of a class needs a contact of some type (manual 9.3.4). */
export enum ContactRequirement {
  MANDATORY = "MANDATORY",
  OPTIONAL = "OPTIONAL",
  NO = "NO",
}

registerEnumType(ContactRequirement, {
  name: "ContactRequirement",
  description: "Whether an order of a class needs, accepts or refuses a contact of a type",
  valuesConfig: {
    MANDATORY: { description: "The order must name this contact" },
    OPTIONAL: { description: "The order may name this contact" },
    NO: { description: "The class does not use this contact" },
  },
});
