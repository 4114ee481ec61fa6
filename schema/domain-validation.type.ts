import { Field, ObjectType } from "type-graphql";
import { CacheControl } from "./cache-control.directive";
import { DcvMethod } from "./dcv-method.enum";

@CacheControl({ inheritMaxAge: true })
@ObjectType({ description: "How control of one domain of a certificate is (to be) proven" })
export class DomainValidation {
  @Field(_type => String, { description: "The domain of the certificate" })
  domain!: string;

  @Field(_type => String, {
    description: "The domain actually validated (dcv domain): a parent of `domain`, or itself",
  })
  validationDomain!: string;

  @Field(_type => DcvMethod)
  method!: DcvMethod;

  @Field(_type => String, { nullable: true, description: "EMAIL: the approver address" })
  email!: string | null;

  @Field(_type => String, {
    nullable: true,
    description: "DNS_TXT/DNS_CNAME: the complete resource record to publish",
  })
  dnsRecord!: string | null;

  @Field(_type => String, {
    nullable: true,
    description: "HTTP/HTTPS: the URL where the file must be served",
  })
  fileUrl!: string | null;

  @Field(_type => String, {
    nullable: true,
    description: "HTTP/HTTPS: what the file must contain",
  })
  fileContents!: string | null;
}
