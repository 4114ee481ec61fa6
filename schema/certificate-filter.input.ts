import { Field, ID, InputType, Int } from "type-graphql";
import { CertificateStatus } from "./certificate-status.enum";

@InputType({ description: "Narrows a certificate list; every given criterion must match" })
export class CertificateFilter {
  @Field(_type => CertificateStatus, { nullable: true })
  status?: CertificateStatus;

  @Field(_type => ID, { nullable: true, description: 'Class name: "ssl123dv"' })
  class?: string;

  @Field(_type => ID, { nullable: true, description: "Only the certificates of this order" })
  orderId?: string;

  @Field(_type => Int, {
    nullable: true,
    description:
      "Only certificates whose expiry is within this many days from now (1 to 3650), soonest " +
      "first; without a status, only active ones. Renewal stays a deliberate mutation",
  })
  expiringWithinDays?: number;
}
