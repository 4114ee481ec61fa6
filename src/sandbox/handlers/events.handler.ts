/**
 * The event commands of the SSL system (manual 6.5, 9.5; upstream-protocol.md "Events"):
 * QueryEventList, StatusEvent, DeleteEvent. Events are per account, with increasing numeric ids.
 */
import { formatListDate, formatStatusDate, parseDate } from "../clock";
import { type Handler, type HandlerContext } from "../context";
import { type ListColumn, listReply } from "../lists";
import { optional, type Params, required } from "../params";
import { fail, ok, PropertyBag } from "../reply";
import { type EventRecord } from "../store";

const EVENT_COLUMNS: readonly ListColumn<EventRecord>[] = [
  { name: "event", value: e => e.id },
  { name: "eventclass", value: e => e.eventClass },
  { name: "eventsubclass", value: e => e.subclass },
  { name: "event_date", value: e => formatListDate(e.date) },
  { name: "object_id", value: e => e.objectId },
];

function numericKey(id: string): string {
  return id.padStart(12, "0");
}

// A date without a time means the whole day: from its first second (mindate) to its last (maxdate).
function readDate(params: Params, name: string, endOfDay: boolean): Date | undefined {
  const text = optional(params, name);
  if (text === undefined) {
    return undefined;
  }
  const date = parseDate(text);
  if (!date) {
    throw fail.syntax(`${name}: "${text}" is not a date like 2022-06-27 or 2022-06-27 13:05:54`);
  }
  return endOfDay && /^\d{4}-\d{2}-\d{2}$/.test(text)
    ? new Date(date.getTime() + 86_399_999)
    : date;
}

/**
 * QueryEventList: the columns event, eventclass, eventsubclass, event_date, object_id (with or
 * without `wide`); `class` and `subclass` patterns, `mindate`/`maxdate` (inclusive; a date alone is the whole day), paging and
 * ordering as every list. Deleted events are left out.
 */
export const QueryEventList: Handler = ctx => {
  const min = readDate(ctx.params, "mindate", false);
  const max = readDate(ctx.params, "maxdate", true);
  return listReply([...ctx.account.events.values()], ctx.params, {
    columns: EVENT_COLUMNS,
    wideColumns: EVENT_COLUMNS,
    filters: {
      event: e => e.id,
      class: e => e.eventClass,
      subclass: e => e.subclass,
      object: e => e.objectId,
    },
    orderBy: {
      EVENT: e => numericKey(e.id),
      CLASS: e => e.eventClass,
      EVENTCLASS: e => e.eventClass,
      SUBCLASS: e => e.subclass,
      EVENTSUBCLASS: e => e.subclass,
      DATE: e => formatListDate(e.date),
      EVENTDATE: e => formatListDate(e.date),
      OBJECTID: e => e.objectId,
    },
    defaultOrderBy: "EVENT",
    extraFilter: () =>
      min || max
        ? e =>
            (!min || e.date.getTime() >= min.getTime()) &&
            (!max || e.date.getTime() <= max.getTime())
        : undefined,
  });
};

function findEvent(ctx: HandlerContext): EventRecord {
  const id = required(ctx.params, "event");
  const event = ctx.account.events.get(id);
  if (!event) {
    throw fail.notFound("event", id);
  }
  return event;
}

/** StatusEvent: object_id, class, subclass, data (one line per index), info, date. */
export const StatusEvent: Handler = ctx => {
  const event = findEvent(ctx);
  return ok(
    new PropertyBag()
      .set("class", event.eventClass)
      .list("data", event.data)
      .set("date", formatStatusDate(event.date))
      .set("info", event.info)
      .set("object_id", event.objectId)
      .set("subclass", event.subclass),
  );
};

/** DeleteEvent: marks the event seen and removes it from the list (then 545 for it). */
export const DeleteEvent: Handler = ctx => {
  const event = findEvent(ctx);
  ctx.account.events.delete(event.id);
  return ok();
};
