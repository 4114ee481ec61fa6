import { Field, ObjectType } from "type-graphql";
import { CertificateClass } from "./certificate-class.type";
import { DecimalScalar } from "./decimal.scalar";
import { PriceLine } from "./price-line.type";

@ObjectType({
  description: "What an order would cost and which domains it would cover (nothing is ordered)",
})
export class CertificateQuote {
  @Field(_type => CertificateClass)
  class!: CertificateClass;

  @Field(_type => [String], { description: "The domains after free alternatives were added" })
  domains!: string[];

  @Field(_type => [PriceLine], { description: "The price components the total is made of" })
  lines!: PriceLine[];

  @Field(_type => DecimalScalar, { description: "Net price in the account's currency" })
  price!: string;

  @Field(_type => DecimalScalar, { description: "VAT on the price, in the account's currency" })
  vat!: string;
}
