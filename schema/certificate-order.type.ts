import { Field, ID, ObjectType } from "type-graphql";
import { CACHE_HINT_SECONDS, CacheControl } from "./cache-control.directive";
import { CertificateClass } from "./certificate-class.type";
import { CertificateOrderStatus } from "./certificate-order-status.enum";
import { Certificate } from "./certificate.type";
import { DateTimeScalar } from "./date-time.scalar";

@CacheControl({ maxAge: CACHE_HINT_SECONDS.record, scope: "PRIVATE" })
@ObjectType({
  description:
    "The administrative container of a certificate and all its reissues, with the paid period",
})
export class CertificateOrder {
  @Field(_type => ID, { description: "DK012345678" })
  id!: string;

  @Field(_type => CertificateOrderStatus)
  status!: CertificateOrderStatus;

  @Field(_type => CertificateClass, { description: "The product that was ordered" })
  class!: CertificateClass;

  @Field(_type => [Certificate], {
    description: "The original certificate and its reissues, oldest first",
  })
  certificates!: Certificate[];

  @Field(_type => DateTimeScalar, {
    nullable: true,
    description: "The latest date a certificate of this order may be valid",
  })
  paidUntil!: Date | null;

  @Field(_type => DateTimeScalar, { nullable: true })
  createdAt!: Date | null;

  @Field(_type => DateTimeScalar, { nullable: true })
  updatedAt!: Date | null;

  @Field(_type => String, { nullable: true, description: 'The CA: "DigiCert"; null when unknown' })
  ca!: string | null;
}
