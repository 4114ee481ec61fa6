import { registerEnumType } from "type-graphql";

/** Role of a certificate contact (manual 6.4). */
export enum ContactType {
  ORGANIZATION = "ORGANIZATION",
  TECH = "TECH",
  EV_APPROVER = "EV_APPROVER",
}

registerEnumType(ContactType, {
  name: "ContactType",
  description: "The role a certificate contact plays for the CA",
  valuesConfig: {
    ORGANIZATION: { description: "Someone at the organization named in OV/EV certificates" },
    TECH: { description: "Whom the CA contacts about problems while processing an order" },
    EV_APPROVER: { description: "Someone at the organization who approves EV certificates" },
  },
});
