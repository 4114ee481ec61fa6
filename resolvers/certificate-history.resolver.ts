import { Args, Ctx, FieldResolver, Resolver, Root } from "type-graphql";
import { CertificateEventConnection } from "../schema/certificate-event-connection.type";
import { type CertificateEvent } from "../schema/certificate-event.type";
import { CertificateHistoryArgs } from "../schema/certificate-history.args";
import { Certificate } from "../schema/certificate.type";
import { type Context } from "../src/context";
import { eventHistory } from "./certificate-event.resolver";
import { type CertificateRef, type ConnectionShape } from "./mappers";

/**
 * `Certificate.events`: a field of Certificate kept apart from `CertificateResolver` because it
 * reads the gateway's event history, not the upstream (type-graphql merges the field resolvers
 * of every class for one type).
 */
@Resolver(_of => Certificate)
export class CertificateHistoryResolver {
  @FieldResolver(_returns => CertificateEventConnection, {
    description: "What happened to this certificate, newest first (see Query.certificateEvents)",
  })
  async events(
    @Root() certificate: CertificateRef,
    @Args(_type => CertificateHistoryArgs) args: CertificateHistoryArgs,
    @Ctx() ctx: Context,
  ): Promise<ConnectionShape<CertificateEvent>> {
    return eventHistory(
      ctx,
      {
        certificateId: certificate.id,
        ...(args.types && args.types.length > 0 ? { types: args.types } : {}),
      },
      args,
    );
  }
}
