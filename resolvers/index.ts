import { CertificateCheckResolver } from "./certificate-check.resolver";
import { CertificateClassResolver } from "./certificate-class.resolver";
import { CertificateContactResolver } from "./certificate-contact.resolver";
import { CertificateOrderResolver } from "./certificate-order.resolver";
import { CertificateQuoteResolver } from "./certificate-quote.resolver";
import { CertificateResolver } from "./certificate.resolver";

/** Every resolver class of the schema, in the order their root fields appear. */
export const resolvers = [
  CertificateResolver,
  CertificateOrderResolver,
  CertificateContactResolver,
  CertificateClassResolver,
  CertificateCheckResolver,
  CertificateQuoteResolver,
] as const;
