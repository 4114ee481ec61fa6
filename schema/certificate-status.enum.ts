import { registerEnumType } from "type-graphql";

/** Status of a certificate (manual 9.4.1). */
export enum CertificateStatus {
  ACTIVE = "ACTIVE",
  PROCESSING = "PROCESSING",
  EXPIRED = "EXPIRED",
  REVOKED = "REVOKED",
  FAILED = "FAILED",
  CANCELED = "CANCELED",
  CANCEL_PROCESSING = "CANCEL_PROCESSING",
  REVOKE_PROCESSING = "REVOKE_PROCESSING",
}

registerEnumType(CertificateStatus, {
  name: "CertificateStatus",
  description: "Where a certificate is in its life cycle",
  valuesConfig: {
    ACTIVE: { description: "Issued and valid" },
    PROCESSING: { description: "Ordered (or reissued), not yet issued: validation is pending" },
    EXPIRED: { description: "Past its expiry date, no longer valid" },
    REVOKED: { description: "Revoked, no longer valid" },
    FAILED: { description: "The CA could not issue it" },
    CANCELED: { description: "Its order was canceled before it was ever issued" },
    CANCEL_PROCESSING: { description: "A cancellation of its order was requested" },
    REVOKE_PROCESSING: { description: "A revocation was requested" },
  },
});
