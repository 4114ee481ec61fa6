import { Arg, Ctx, Query, Resolver } from "type-graphql";
import { CertificateQuote } from "../schema/certificate-quote.type";
import { OrderCertificateInput } from "../schema/order-certificate.input";
import { PriceLine } from "../schema/price-line.type";
import { type Context } from "../src/context";
import { assertNoViolations } from "../src/errors";
import { decodeQuote } from "../src/upstream/records";
import {
  type CertificateClassRef,
  orderViolations,
  toAddCertificateArgs,
  unknownClassViolations,
} from "./mappers";

/** A quote in the schema's shape, its class resolving lazily like any other. */
type QuoteShape = Omit<CertificateQuote, "class"> & { class: CertificateClassRef };

@Resolver(_of => CertificateQuote)
export class CertificateQuoteResolver {
  @Query(_returns => CertificateQuote, {
    description:
      "What an order would cost and which domains it would cover (AddCertificate CHECKONLY=1). " +
      "The input is checked against the class exactly as orderCertificate checks it",
  })
  async quoteCertificate(
    @Arg("input", _type => OrderCertificateInput) input: OrderCertificateInput,
    @Ctx() ctx: Context,
  ): Promise<QuoteShape> {
    const klass = await ctx.loaders.classByName.load(input.class);
    assertNoViolations(klass ? orderViolations(input, klass) : unknownClassViolations(input.class));
    const reply = await ctx.upstream.call("AddCertificate", toAddCertificateArgs(input, true));
    const quote = decodeQuote(reply);
    return {
      class: klass ? { name: klass.name, record: klass } : { name: input.class.toLowerCase() },
      domains: quote.domains,
      lines: quote.lines.map(line => Object.assign(new PriceLine(), line)),
      price: quote.price,
      vat: quote.vat,
    };
  }
}
