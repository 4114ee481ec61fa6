import { registerEnumType } from "type-graphql";

/** Where the delivery of one event to one webhook stands. */
export enum WebhookDeliveryState {
  PENDING = "PENDING",
  DELIVERED = "DELIVERED",
  FAILED = "FAILED",
}

registerEnumType(WebhookDeliveryState, {
  name: "WebhookDeliveryState",
  description: "Where the delivery of one event to one webhook stands",
  valuesConfig: {
    PENDING: { description: "Queued, or retried later after a failed attempt" },
    DELIVERED: { description: "The endpoint answered 2xx" },
    FAILED: { description: "Given up: retried for a day without success, or the target refused" },
  },
});
