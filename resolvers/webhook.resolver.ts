import { Arg, Args, Ctx, ID, Mutation, Query, Resolver } from "type-graphql";
import { NO_STORE, CacheControl } from "../schema/cache-control.directive";
import { CertificateEventType } from "../schema/certificate-event-type.enum";
import { CreatedWebhook } from "../schema/created-webhook.type";
import { WebhookDeliveriesArgs } from "../schema/webhook-deliveries.args";
import { WebhookDeliveryConnection } from "../schema/webhook-delivery-connection.type";
import { type WebhookDelivery } from "../schema/webhook-delivery.type";
import { Webhook } from "../schema/webhook.type";
import { type Context } from "../src/context";
import { BadUserInputError, NotFoundError } from "../src/errors";
import { toPageRecord, toWebhook, toWebhookDelivery } from "./live-mappers";
import { type ConnectionShape, toConnection, toPageRequest } from "./mappers";

@Resolver(_of => Webhook)
export class WebhookResolver {
  @Query(_returns => [Webhook], {
    description: "The webhooks registered with the caller's API key, oldest first",
  })
  async webhooks(@Ctx() ctx: Context): Promise<Webhook[]> {
    const records = await ctx.live.webhooks.list(ctx.owner);
    return records.map(toWebhook);
  }

  @Query(_returns => WebhookDeliveryConnection, {
    description:
      "The deliveries of one of the caller's webhooks, newest first, each with its last " +
      "outcome; NOT_FOUND when the caller has no such webhook",
  })
  async webhookDeliveries(
    @Args(_type => WebhookDeliveriesArgs) args: WebhookDeliveriesArgs,
    @Ctx() ctx: Context,
  ): Promise<ConnectionShape<WebhookDelivery>> {
    const request = toPageRequest(args, ctx.settings.maxPageSize);
    if (Array.isArray(request)) {
      throw new BadUserInputError(request);
    }
    const page = await ctx.live.webhooks.deliveries(
      ctx.owner,
      args.webhookId,
      request.offset,
      request.size,
    );
    if (!page) {
      throw new NotFoundError("Webhook", args.webhookId);
    }
    return toConnection(
      toPageRecord(page, request.offset, request.size),
      request.offset,
      request.size,
      toWebhookDelivery,
    );
  }

  @CacheControl(NO_STORE)
  @Mutation(_returns => CreatedWebhook, {
    description:
      "Registers an endpoint that receives the account's certificate events as signed POSTs " +
      "(retried for a day). Answers its signing secret, which is never shown again. The URL " +
      "must be http(s) on a public address (WEBHOOK_URL_REFUSED otherwise)",
  })
  async createWebhook(
    @Arg("url", _type => String, { description: "Where to POST the events" }) url: string,
    @Arg("events", _type => [CertificateEventType], {
      nullable: true,
      description: "The kinds to receive; left out or empty: every kind",
    })
    events: CertificateEventType[] | null | undefined,
    @Ctx() ctx: Context,
  ): Promise<CreatedWebhook> {
    const { webhook, secret } = await ctx.live.webhooks.create(ctx.owner, ctx.account, url, [
      ...new Set(events ?? []),
    ]);
    return { webhook: toWebhook(webhook), secret };
  }

  @CacheControl(NO_STORE)
  @Mutation(_returns => Boolean, {
    description:
      "Deletes one of the caller's webhooks and drops its pending deliveries; NOT_FOUND when " +
      "the caller has no such webhook",
  })
  async deleteWebhook(@Arg("id", _type => ID) id: string, @Ctx() ctx: Context): Promise<boolean> {
    if (!(await ctx.live.webhooks.delete(ctx.owner, id))) {
      throw new NotFoundError("Webhook", id);
    }
    return true;
  }
}
