import { ArgsType, Field } from "type-graphql";
import { CertificateContactFilter } from "./certificate-contact-filter.input";
import { PageArgs } from "./page.args";

@ArgsType()
export class CertificateContactsArgs extends PageArgs {
  @Field(_type => CertificateContactFilter, { nullable: true })
  filter?: CertificateContactFilter;
}
