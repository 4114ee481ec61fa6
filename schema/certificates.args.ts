import { ArgsType, Field } from "type-graphql";
import { CertificateFilter } from "./certificate-filter.input";
import { PageArgs } from "./page.args";

@ArgsType()
export class CertificatesArgs extends PageArgs {
  @Field(_type => CertificateFilter, { nullable: true })
  filter?: CertificateFilter;
}
