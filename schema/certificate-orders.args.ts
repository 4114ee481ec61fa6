import { ArgsType, Field } from "type-graphql";
import { CertificateOrderFilter } from "./certificate-order-filter.input";
import { PageArgs } from "./page.args";

@ArgsType()
export class CertificateOrdersArgs extends PageArgs {
  @Field(_type => CertificateOrderFilter, { nullable: true })
  filter?: CertificateOrderFilter;
}
