import { registerEnumType } from "type-graphql";

/** The kinds of certificate event the gateway knows (manual 9.5, and its own expiry warning). */
export enum CertificateEventType {
  REQUEST_SUCCESSFUL = "REQUEST_SUCCESSFUL",
  REQUEST_FAILED = "REQUEST_FAILED",
  REISSUE_SUCCESSFUL = "REISSUE_SUCCESSFUL",
  REISSUE_FAILED = "REISSUE_FAILED",
  CLOSE_SUCCESSFUL = "CLOSE_SUCCESSFUL",
  EXPIRING = "EXPIRING",
}

registerEnumType(CertificateEventType, {
  name: "CertificateEventType",
  description: "What happened to a certificate",
  valuesConfig: {
    REQUEST_SUCCESSFUL: {
      description: "An order (or renewal) was issued: the certificate is ACTIVE",
    },
    REQUEST_FAILED: { description: "The CA could not issue an order (or renewal)" },
    REISSUE_SUCCESSFUL: { description: "A reissue was issued" },
    REISSUE_FAILED: { description: "The CA could not issue a reissue" },
    CLOSE_SUCCESSFUL: { description: "A revocation or cancellation is complete" },
    EXPIRING: {
      description:
        "The gateway's own warning: the certificate expires within one of the configured " +
        "thresholds (30, 14 and 3 days by default); raised once per certificate and threshold",
    },
  },
});
