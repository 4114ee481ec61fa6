/**
 * Pure mapping of live-status records (events, webhooks, deliveries; src/live/types.ts) into the
 * schema's shape, and of the schema's filters back into the event log's.
 */
import { type CertificateEventFilter } from "../schema/certificate-event-filter.input";
import { CertificateEventSource } from "../schema/certificate-event-source.enum";
import { CertificateEventType } from "../schema/certificate-event-type.enum";
import { type CertificateEvent } from "../schema/certificate-event.type";
import { WebhookDeliveryState } from "../schema/webhook-delivery-state.enum";
import { type WebhookDelivery } from "../schema/webhook-delivery.type";
import { type Webhook } from "../schema/webhook.type";
import {
  type CertificateEventRecord,
  type EventFilter,
  type WebhookDeliveryRecord,
  type WebhookRecord,
} from "../src/context";
import { type PageRecord } from "../src/upstream/types";

const EVENT_TYPES = new Set<string>(Object.values(CertificateEventType));

/** The kind of a subclass when the gateway knows it, else null. */
export function toCertificateEventType(subclass: string): CertificateEventType | null {
  return EVENT_TYPES.has(subclass) ? (subclass as CertificateEventType) : null;
}

/** One recorded event as the schema shows it (the certificate and order resolve from the ids). */
export function toCertificateEvent(record: CertificateEventRecord): CertificateEvent {
  return {
    id: record.id,
    class: record.eventClass,
    subclass: record.subclass,
    type: toCertificateEventType(record.subclass),
    objectId: record.objectId,
    date: new Date(record.date),
    info: record.info,
    data: Object.entries(record.data).map(([name, value]) => ({ name, value })),
    source:
      record.source === "gateway"
        ? CertificateEventSource.GATEWAY
        : CertificateEventSource.UPSTREAM,
    receivedAt: new Date(record.receivedAt),
    certificateId: record.certificateId,
    orderId: record.orderId,
  };
}

/** The event log's filter for the schema's (every given criterion; an empty `types` is none). */
export function toEventFilter(filter: CertificateEventFilter | undefined | null): EventFilter {
  return {
    ...(filter?.types && filter.types.length > 0 ? { types: filter.types } : {}),
    ...(filter?.certificateId ? { certificateId: filter.certificateId } : {}),
    ...(filter?.orderId ? { orderId: filter.orderId } : {}),
    ...(filter?.since ? { since: filter.since } : {}),
    ...(filter?.until ? { until: filter.until } : {}),
  };
}

/** A registered webhook as the schema shows it (owner and account stay inside). */
export function toWebhook(record: WebhookRecord): Webhook {
  return {
    id: record.id,
    url: record.url,
    events: record.events.map(type => type as CertificateEventType),
    createdAt: new Date(record.createdAt),
  };
}

const DELIVERY_STATES: Readonly<Record<WebhookDeliveryRecord["state"], WebhookDeliveryState>> = {
  pending: WebhookDeliveryState.PENDING,
  delivered: WebhookDeliveryState.DELIVERED,
  failed: WebhookDeliveryState.FAILED,
};

/** One delivery as the schema shows it. */
export function toWebhookDelivery(record: WebhookDeliveryRecord): WebhookDelivery {
  return {
    id: record.id,
    eventId: record.eventId,
    eventType: record.eventType,
    state: DELIVERY_STATES[record.state],
    attempts: record.attempts,
    lastStatus: record.lastStatus,
    lastError: record.lastError,
    createdAt: new Date(record.createdAt),
    lastAttemptAt: record.lastAttemptAt === null ? null : new Date(record.lastAttemptAt),
    nextAttemptAt: record.nextAttemptAt === null ? null : new Date(record.nextAttemptAt),
  };
}

/** A page of a live-status store in the shape `toConnection` reads. */
export function toPageRecord<T>(
  page: { readonly items: readonly T[]; readonly total: number },
  offset: number,
  size: number,
): PageRecord<T> {
  return { items: [...page.items], first: offset, limit: size, total: page.total };
}
