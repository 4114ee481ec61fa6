import {
  Arg,
  Args,
  Ctx,
  FieldResolver,
  ID,
  Query,
  Resolver,
  Root,
  type SubscribeResolverData,
  Subscription,
} from "type-graphql";
import { CertificateEventConnection } from "../schema/certificate-event-connection.type";
import { CertificateEvent } from "../schema/certificate-event.type";
import { CertificateEventsArgs } from "../schema/certificate-events.args";
import { CertificateOrder } from "../schema/certificate-order.type";
import { Certificate } from "../schema/certificate.type";
import { type CertificateEventRecord, type Context, type EventFilter } from "../src/context";
import { BadUserInputError } from "../src/errors";
import { toEventFilter, toCertificateEvent, toPageRecord } from "./live-mappers";
import {
  type CertificateOrderRef,
  type CertificateRef,
  type ConnectionShape,
  toConnection,
  toPageRequest,
} from "./mappers";

/**
 * A page of the account's event history (the gateway's event log) matching `filter`, as a
 * connection: `Query.certificateEvents` and `Certificate.events`.
 */
export async function eventHistory(
  ctx: Context,
  filter: EventFilter,
  args: { first?: number | null; after?: string | null },
): Promise<ConnectionShape<CertificateEvent>> {
  const request = toPageRequest(args, ctx.settings.maxPageSize);
  if (Array.isArray(request)) {
    throw new BadUserInputError(request);
  }
  const page = await ctx.live.events.list(ctx.account, filter, request.offset, request.size);
  return toConnection(
    toPageRecord(page, request.offset, request.size),
    request.offset,
    request.size,
    toCertificateEvent,
  );
}

/** The arguments of `certificateUpdated` as graphql-js hands them to `subscribe`. */
interface CertificateUpdatedArgs {
  readonly id?: string | null;
}

@Resolver(_of => CertificateEvent)
export class CertificateEventResolver {
  @Query(_returns => CertificateEventConnection, {
    description:
      "The account's certificate events, newest first, as the gateway processed them (issuance, " +
      "failures, reissues, revocations, expiry warnings). The gateway keeps the latest " +
      "GATEWAY_EVENT_LOG_MAX per account",
  })
  async certificateEvents(
    @Args(_type => CertificateEventsArgs) args: CertificateEventsArgs,
    @Ctx() ctx: Context,
  ): Promise<ConnectionShape<CertificateEvent>> {
    return eventHistory(ctx, toEventFilter(args.filter), args);
  }

  @Subscription(_returns => CertificateEvent, {
    description:
      "Every certificate event of the account from now on, or of one certificate when id is " +
      "given, as soon as the gateway sees it (within one poll interval). Over WebSocket " +
      "(graphql-ws, subprotocol graphql-transport-ws) on the same URL; `certificate` is read " +
      "fresh for each event",
    subscribe: async ({
      args,
      context,
    }: SubscribeResolverData<unknown, CertificateUpdatedArgs, Context>) => {
      const stream = context.live.stream(context.account, args.id ?? undefined);
      // Returned once the stream hears events (the shared store's SUBSCRIBE took effect).
      await context.live.ready();
      return stream;
    },
  })
  certificateUpdated(
    @Root() event: CertificateEventRecord,
    @Arg("id", _type => ID, {
      nullable: true,
      description: "Only this certificate's events; left out: every certificate of the account",
    })
    _id: string | null | undefined,
  ): CertificateEvent {
    return toCertificateEvent(event);
  }

  @FieldResolver(_returns => Certificate, {
    nullable: true,
    description: "The certificate the event is about; null when it no longer exists",
  })
  async certificate(
    @Root() event: CertificateEvent,
    @Ctx() ctx: Context,
  ): Promise<CertificateRef | null> {
    if (event.certificateId === null) {
      return null;
    }
    const row = await ctx.loaders.certificateRowById.load(event.certificateId);
    return row ? { id: event.certificateId } : null;
  }

  @FieldResolver(_returns => CertificateOrder, {
    nullable: true,
    description: "The order of that certificate, when the event names it and it still exists",
  })
  async order(
    @Root() event: CertificateEvent,
    @Ctx() ctx: Context,
  ): Promise<CertificateOrderRef | null> {
    if (event.orderId === null) {
      return null;
    }
    const row = await ctx.loaders.orderRowById.load(event.orderId);
    return row ? { id: event.orderId } : null;
  }
}
