import { Arg, Args, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from "type-graphql";
import { CACHE_HINT_SECONDS, CacheControl, NO_STORE } from "../schema/cache-control.directive";
import { CertificateClass } from "../schema/certificate-class.type";
import { CertificateOrderConnection } from "../schema/certificate-order-connection.type";
import { CertificateOrderStatus } from "../schema/certificate-order-status.enum";
import { CertificateOrder } from "../schema/certificate-order.type";
import { CertificateOrdersArgs } from "../schema/certificate-orders.args";
import { Certificate } from "../schema/certificate.type";
import { DateTimeScalar } from "../schema/date-time.scalar";
import { type Context } from "../src/context";
import { BadUserInputError, NotFoundError } from "../src/errors";
import { type CertificateOrderRecord, type CertificateOrderRowRecord } from "../src/upstream/types";
import {
  type CertificateClassRef,
  type CertificateOrderRef,
  type CertificateRef,
  type ConnectionShape,
  toCertificateOrderStatus,
  toConnection,
  toPageRequest,
  toStatusPattern,
} from "./mappers";

/**
 * After a change to a whole order: the request's loaders forget every certificate, the shared
 * store the order and the certificates it lists (it cannot drop "every certificate").
 */
function forgetOrder(ctx: Context, id: string, order: CertificateOrderRecord): Promise<void> {
  return ctx.forget({
    orderIds: [id],
    certificateIds: order.certificates.map(entry => entry.id),
    allCertificates: true,
  });
}

@Resolver(_of => CertificateOrder)
export class CertificateOrderResolver {
  @Query(_returns => CertificateOrder, {
    nullable: true,
    description: "Look up one certificate order by id; null when there is none",
  })
  async certificateOrder(
    @Arg("id", _type => ID) id: string,
    @Ctx() ctx: Context,
  ): Promise<CertificateOrderRef | null> {
    const row = await ctx.loaders.orderRowById.load(id);
    return row ? { id } : null;
  }

  @CacheControl({ maxAge: CACHE_HINT_SECONDS.list, scope: "PRIVATE" })
  @Query(_returns => CertificateOrderConnection, {
    description: "A page of certificate orders, optionally filtered",
  })
  async certificateOrders(
    @Args(_type => CertificateOrdersArgs) args: CertificateOrdersArgs,
    @Ctx() ctx: Context,
  ): Promise<ConnectionShape<CertificateOrderRef>> {
    const request = toPageRequest(args, ctx.settings.maxPageSize);
    if (Array.isArray(request)) {
      throw new BadUserInputError(request);
    }
    const page = await ctx.loaders.orderPage.load({
      offset: request.offset,
      limit: Math.max(request.size, 1),
      status: args.filter?.status ? toStatusPattern(args.filter.status) : undefined,
      className: args.filter?.class ? args.filter.class.toLowerCase() : undefined,
    });
    return toConnection(page, request.offset, request.size, row => ({ id: row.id }));
  }

  @CacheControl(NO_STORE)
  @Mutation(_returns => CertificateOrder, {
    description:
      "Cancels an order before any of its certificates was issued (refunded where the class " +
      "says refundOnCancel); answers the order as it is afterwards",
  })
  async cancelCertificateOrder(
    @Arg("id", _type => ID) id: string,
    @Ctx() ctx: Context,
  ): Promise<CertificateOrderRef> {
    const order = await this.full({ id }, ctx);
    await ctx.upstream.call("CancelCertificateOrder", { certificateorder: id });
    await forgetOrder(ctx, id, order);
    return { id };
  }

  @CacheControl(NO_STORE)
  @Mutation(_returns => CertificateOrder, {
    description: "Revokes an order and every certificate in it; answers the order afterwards",
  })
  async revokeCertificateOrder(
    @Arg("id", _type => ID) id: string,
    @Ctx() ctx: Context,
  ): Promise<CertificateOrderRef> {
    const order = await this.full({ id }, ctx);
    await ctx.upstream.call("RevokeCertificateOrder", { certificateorder: id });
    await forgetOrder(ctx, id, order);
    return { id };
  }

  private async row(ref: CertificateOrderRef, ctx: Context): Promise<CertificateOrderRowRecord> {
    const row = await ctx.loaders.orderRowById.load(ref.id);
    if (!row) {
      throw new NotFoundError("CertificateOrder", ref.id);
    }
    return row;
  }

  private async full(ref: CertificateOrderRef, ctx: Context): Promise<CertificateOrderRecord> {
    const record = await ctx.loaders.orderById.load(ref.id);
    if (!record) {
      throw new NotFoundError("CertificateOrder", ref.id);
    }
    return record;
  }

  @FieldResolver(_returns => CertificateOrderStatus)
  async status(
    @Root() ref: CertificateOrderRef,
    @Ctx() ctx: Context,
  ): Promise<CertificateOrderStatus> {
    return toCertificateOrderStatus((await this.row(ref, ctx)).status);
  }

  @FieldResolver(_returns => CertificateClass)
  async class(@Root() ref: CertificateOrderRef, @Ctx() ctx: Context): Promise<CertificateClassRef> {
    return { name: (await this.row(ref, ctx)).className };
  }

  @FieldResolver(_returns => [Certificate])
  async certificates(
    @Root() ref: CertificateOrderRef,
    @Ctx() ctx: Context,
  ): Promise<CertificateRef[]> {
    const order = await this.full(ref, ctx);
    // The order already says each certificate's status: those fields cost nothing more.
    return order.certificates.map(entry => ({
      id: entry.id,
      known: {
        orderId: order.id,
        ...(entry.status !== null ? { status: entry.status } : {}),
        ...(entry.expiresAt !== null ? { expiresAt: entry.expiresAt } : {}),
      },
    }));
  }

  @FieldResolver(_returns => DateTimeScalar)
  async paidUntil(@Root() ref: CertificateOrderRef, @Ctx() ctx: Context): Promise<Date | null> {
    if (ref.viaCertificate !== undefined) {
      const certificate = await ctx.loaders.certificateById.load(ref.viaCertificate);
      if (certificate?.orderPaidUntil) {
        return certificate.orderPaidUntil;
      }
    }
    return (await this.row(ref, ctx)).paidUntil;
  }

  @FieldResolver(_returns => DateTimeScalar)
  async createdAt(@Root() ref: CertificateOrderRef, @Ctx() ctx: Context): Promise<Date | null> {
    return (await this.row(ref, ctx)).createdAt;
  }

  @FieldResolver(_returns => DateTimeScalar)
  async updatedAt(@Root() ref: CertificateOrderRef, @Ctx() ctx: Context): Promise<Date | null> {
    return (await this.row(ref, ctx)).updatedAt;
  }

  @FieldResolver(_returns => String)
  async ca(@Root() ref: CertificateOrderRef, @Ctx() ctx: Context): Promise<string | null> {
    return (await this.full(ref, ctx)).ca;
  }
}
