import { Field, ID, InputType } from "type-graphql";
import { CertificateOrderStatus } from "./certificate-order-status.enum";

@InputType({ description: "Narrows a certificate order list; every given criterion must match" })
export class CertificateOrderFilter {
  @Field(_type => CertificateOrderStatus, { nullable: true })
  status?: CertificateOrderStatus;

  @Field(_type => ID, { nullable: true, description: 'Class name: "ssl123dv"' })
  class?: string;
}
