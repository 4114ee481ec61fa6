import { CertificateCheckResolver } from "./certificate-check.resolver";
import { CertificateClassResolver } from "./certificate-class.resolver";
import { CertificateContactResolver } from "./certificate-contact.resolver";
import { CertificateEventResolver } from "./certificate-event.resolver";
import { CertificateHistoryResolver } from "./certificate-history.resolver";
import { CertificateOrderResolver } from "./certificate-order.resolver";
import { CertificateQuoteResolver } from "./certificate-quote.resolver";
import { CertificateResolver } from "./certificate.resolver";
import { WebhookResolver } from "./webhook.resolver";

/** Every resolver class of the schema, in the order their root fields appear. */
export const resolvers = [
  CertificateResolver,
  CertificateHistoryResolver,
  CertificateOrderResolver,
  CertificateContactResolver,
  CertificateClassResolver,
  CertificateCheckResolver,
  CertificateQuoteResolver,
  CertificateEventResolver,
  WebhookResolver,
] as const;
