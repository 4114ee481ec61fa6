/**
 * The SDK at work on a certificate's whole life (manual chapter 5): list, quote, order (DNS
 * validation, with an idempotency key), follow until issued, download, reissue with a new key,
 * revoke the old certificate, and cancel an order placed by mistake. Run it against the gateway
 * on the embedded sandbox (`npm start`), where no money moves; `test/integration/sdk.test.ts`
 * runs it on every CI build.
 */
import {
  CancelCertificateOrderDocument,
  CertificateDocument,
  type CertificateQuery,
  type ContactInput,
  createGatewayClient,
  DashboardDocument,
  type GatewayClient,
  GatewayRequestError,
  idempotencyKey,
  OrderWithDnsValidationDocument,
  QuoteCertificateDocument,
  ReissueCertificateDocument,
  ResendValidationDocument,
  RevokeCertificateDocument,
} from "./src/index";

/** Options of {@link runExample}. */
export interface ExampleOptions {
  /** The gateway's GraphQL endpoint: `http://localhost:4000/graphql`. */
  url: string;
  /** An API key with the read, order and manage scopes, if the gateway has keys. */
  apiKey?: string;
  /** The domain to order for; the class adds `www.` for free. */
  domain: string;
  /** The CSR of the certificate (PEM): `openssl req -new -newkey rsa:2048 -nodes ...`. */
  csr: string;
  /** A CSR for a new key, for the reissue. */
  reissueCsr: string;
  techContact: ContactInput;
  /** Publishes the DNS records the CA asks for (your DNS automation). Default: does nothing. */
  publishDnsRecords?: (records: { domain: string; dnsRecord: string }[]) => Promise<void> | void;
  /** Time between two looks at a certificate that is not issued yet; default 5000 ms. */
  pollIntervalMs?: number;
  /** Gives up waiting for issuance after this long; default 10 minutes. */
  issuanceTimeoutMs?: number;
  /** Where progress goes; default nowhere. `console.log` prints it. */
  log?: (line: string) => void;
}

/** What {@link runExample} did. */
export interface ExampleResult {
  certificatesBefore: number;
  quote: { domains: string[]; price: string; vat: string };
  /** The certificate ordered, as issued. */
  certificate: NonNullable<CertificateQuery["certificate"]>;
  /** The certificate of the reissue, as issued; the original was revoked. */
  reissued: NonNullable<CertificateQuery["certificate"]>;
  revokedStatus: string;
  /** The order placed by mistake and canceled, with its status afterwards. */
  canceled: { orderId: string; status: string };
  /** What the gateway answered when the issued order was to be canceled too. */
  refusedCancel: { code: string; message: string };
}

const sleep = (ms: number) => new Promise<void>(resolve => setTimeout(resolve, ms));

/** Publishes the records of a certificate, asks the CA to look now, and waits until issued. */
async function validateAndWait(
  client: GatewayClient,
  id: string,
  options: ExampleOptions,
): Promise<NonNullable<CertificateQuery["certificate"]>> {
  const { certificate } = await client.request(CertificateDocument, { id });
  if (!certificate) {
    throw new Error(`certificate ${id} does not exist`);
  }
  const records = certificate.validations.flatMap(v =>
    v.dnsRecord ? [{ domain: v.validationDomain, dnsRecord: v.dnsRecord }] : [],
  );
  await options.publishDnsRecords?.(records);
  // The CA looks on its own from time to time; this makes it look now.
  await client.request(ResendValidationDocument, { id });
  const deadline = Date.now() + (options.issuanceTimeoutMs ?? 600_000);
  for (;;) {
    const { certificate: current } = await client.request(CertificateDocument, { id });
    if (current?.status === "ACTIVE") {
      return current;
    }
    if (current?.status !== "PROCESSING" || Date.now() > deadline) {
      throw new Error(`certificate ${id} is ${current?.status ?? "gone"}, not issued`);
    }
    await sleep(options.pollIntervalMs ?? 5000);
  }
}

/** Runs the whole example; rejects with {@link GatewayRequestError} when a step fails. */
export async function runExample(options: ExampleOptions): Promise<ExampleResult> {
  const log = options.log ?? (() => undefined);
  const client = createGatewayClient({
    url: options.url,
    ...(options.apiKey === undefined ? {} : { apiKey: options.apiKey }),
  });
  const order = {
    class: "ssl123dv",
    domains: [options.domain],
    csr: options.csr,
    techContact: options.techContact,
  };

  // List: what the account holds.
  const { certificates } = await client.request(DashboardDocument, { first: 10 });
  log(`${certificates.totalCount} certificates in the account`);

  // Quote: the domains and the price, nothing ordered.
  const { quoteCertificate: quote } = await client.request(QuoteCertificateDocument, order);
  log(`${quote.domains.join(", ")}: ${quote.price} + ${quote.vat} VAT`);

  // Order, once per key: after a timeout, send it again with the same key, never a new one.
  const key = idempotencyKey();
  const { orderCertificate: ordered } = await client.request(OrderWithDnsValidationDocument, {
    ...order,
    idempotencyKey: key,
  });
  log(`ordered ${ordered.id} (order ${ordered.order.id}), ${ordered.status}`);

  // Follow until issued, then download: `chain` goes into the web server with the key.
  const certificate = await validateAndWait(client, ordered.id, options);
  log(`${certificate.id} issued, valid until ${certificate.expiresAt ?? "?"}`);

  // Reissue with a new key; the new certificate has its own id in the same order.
  const { reissueCertificate: reissue } = await client.request(ReissueCertificateDocument, {
    id: certificate.id,
    csr: options.reissueCsr,
    idempotencyKey: idempotencyKey(),
  });
  const reissued = await validateAndWait(client, reissue.id, options);
  log(`reissued as ${reissued.id}`);

  // Revoke the original once the replacement is installed.
  const { revokeCertificate: revoked } = await client.request(RevokeCertificateDocument, {
    id: certificate.id,
  });
  log(`${revoked.id} ${revoked.status}`);

  // Cancel: an order placed by mistake, withdrawn while it is still being validated.
  const { orderCertificate: mistake } = await client.request(OrderWithDnsValidationDocument, {
    ...order,
    idempotencyKey: idempotencyKey(),
  });
  const { cancelCertificateOrder: canceled } = await client.request(
    CancelCertificateOrderDocument,
    { orderId: mistake.order.id },
  );
  log(`order ${canceled.id} ${canceled.status}`);

  // Errors carry the gateway's code: an order with an issued certificate cannot be canceled.
  let refusedCancel = { code: "", message: "" };
  try {
    await client.request(CancelCertificateOrderDocument, { orderId: certificate.order.id });
  } catch (error) {
    if (!(error instanceof GatewayRequestError)) {
      throw error;
    }
    refusedCancel = { code: error.code, message: error.message };
    log(`cancel refused: ${error.code}, revoke instead`);
  }

  return {
    certificatesBefore: certificates.totalCount,
    quote: { domains: quote.domains, price: quote.price, vat: quote.vat },
    certificate,
    reissued,
    revokedStatus: revoked.status,
    canceled: { orderId: canceled.id, status: canceled.status },
    refusedCancel,
  };
}
