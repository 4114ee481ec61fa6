import { registerEnumType } from "type-graphql";

/** Status of a certificate order (manual 9.4.2). */
export enum CertificateOrderStatus {
  ACTIVE = "ACTIVE",
  PROCESSING = "PROCESSING",
  EXPIRED = "EXPIRED",
  REVOKED = "REVOKED",
  FAILED = "FAILED",
  CANCELED = "CANCELED",
  CANCEL_PROCESSING = "CANCEL_PROCESSING",
  REVOKE_PROCESSING = "REVOKE_PROCESSING",
}

registerEnumType(CertificateOrderStatus, {
  name: "CertificateOrderStatus",
  description: "Where a certificate order is in its life cycle",
  valuesConfig: {
    ACTIVE: { description: "Paid period running, at least one certificate was issued" },
    PROCESSING: { description: "An issuance or reissue is in progress at the CA" },
    EXPIRED: { description: "The paid period is over" },
    REVOKED: { description: "The order and its certificates were revoked" },
    FAILED: { description: "No certificate could be issued; reissues are not possible" },
    CANCELED: { description: "Canceled before any certificate was issued" },
    CANCEL_PROCESSING: { description: "A cancellation was requested and is pending" },
    REVOKE_PROCESSING: { description: "A revocation was requested and is pending" },
  },
});
