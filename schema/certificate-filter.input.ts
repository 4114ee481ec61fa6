import { Field, ID, InputType } from "type-graphql";
import { CertificateStatus } from "./certificate-status.enum";

@InputType({ description: "Narrows a certificate list; every given criterion must match" })
export class CertificateFilter {
  @Field(_type => CertificateStatus, { nullable: true })
  status?: CertificateStatus;

  @Field(_type => ID, { nullable: true, description: 'Class name: "ssl123dv"' })
  class?: string;

  @Field(_type => ID, { nullable: true, description: "Only the certificates of this order" })
  orderId?: string;
}
