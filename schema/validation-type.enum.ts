import { registerEnumType } from "type-graphql";

/** How much the CA vets before issuing: the domain, the organization, or extended checks. */
export enum ValidationType {
  DV = "DV",
  OV = "OV",
  EV = "EV",
}

registerEnumType(ValidationType, {
  name: "ValidationType",
  description: "What the CA verifies before it issues a certificate of a class",
  valuesConfig: {
    DV: { description: "Domain validation: control of the domains only" },
    OV: { description: "Organization validation: the domains and the organization" },
    EV: { description: "Extended validation: the organization and an EV approver in depth" },
  },
});
