import { registerEnumType } from "type-graphql";

/** Who raised a certificate event. */
export enum CertificateEventSource {
  UPSTREAM = "UPSTREAM",
  GATEWAY = "GATEWAY",
}

registerEnumType(CertificateEventSource, {
  name: "CertificateEventSource",
  description: "Who raised a certificate event",
  valuesConfig: {
    UPSTREAM: { description: "The provider's event queue (QueryEventList)" },
    GATEWAY: { description: "The gateway itself (the expiry watch)" },
  },
});
