import { EXAMPLE_FILES } from "./explorer-document.generated";

const WELCOME = `# Welcome to the RRPproxy SSL gateway. Below are the workflows of the provider's manual
# (chapter 5), one block per file of examples/; the partners' SDK is made of the same operations.
# Start with "Dashboard" (your certificates) or "Products" (the classes on sale).
# "OrderWithDnsValidation" orders shop.example.com with the sample CSR of the Variables panel (on
# the sandbox no money moves; the same idempotencyKey never orders twice, so change it before
# another order). Put the id it answers into "id" and run "Certificate": after validation (a few
# seconds) it is ACTIVE and "chain" holds the PEM to install. The Documentation panel lists every
# query and mutation.
`;

/**
 * The document Apollo Sandbox opens with: a welcome, then every file of `examples/` as written
 * (comments included), in file-name order. `npm run codegen` copies the files into
 * `explorer-document.generated.ts`, so they need not exist at run time; `codegen:check` fails when
 * the copy is stale.
 */
export const EXPLORER_DOCUMENT = [WELCOME, ...EXAMPLE_FILES.map(file => file.source)].join("\n");

/**
 * A throwaway CSR for shop.example.com (RSA 2048; its private key was discarded), so the explorer
 * can order on the sandbox without the visitor making one. Never use it with a real upstream.
 */
const DEMO_CSR = `-----BEGIN CERTIFICATE REQUEST-----
MIICYDCCAUgCAQAwGzEZMBcGA1UEAwwQc2hvcC5leGFtcGxlLmNvbTCCASIwDQYJ
KoZIhvcNAQEBBQADggEPADCCAQoCggEBAL7FuE1PVUTy4r3BWU7XjghazxMiHynk
0Q0otEtdrx+QktbFoq029GmvPX4rL+xxDd05ZK9reCMhE90VXtka/zS5Hz2A2Q4i
ppkKbmVzC6KPaf6Xhq2Vp84YXFdZZzZ7oExo/7J3NwEqQ8vu5O4BYPDB+1eVt+ay
RCLsb7CWHG4PWtcfnLcVgWGnTfyr8KB/VezO03eprdV5vViF9AjvHIKV6NQGHIXb
XQ0YgLxJ4Z6FZbxq1VyacejBVDnDy7v1Wa4cZC1Et4I1a0/zCxR9x2tFsZP0NxvE
t8cd2GWKVLmYmYNGuu6DQ2Hc1UtEgUBWfTY9wFzWLx9UsDji7NPg8w8CAwEAAaAA
MA0GCSqGSIb3DQEBCwUAA4IBAQBc4PVD3hZ3pUv5VpuU3U9LWuOwsahnSATmMXHu
dCQ639TnKLHOWHVjfp+9dces2GRVEdN1VmGzRwCGw4FhHya8wEfW2H4/tx65XTZd
szuACo9SVj0QJ4Uo2THLrH1IZejjIpOZ6jXfUMBoRlHoZIm8KIK7l3vnNNUyFNlC
R5cqYCKVU4kWuyr997w/XwduRjpMqLWqMo9BkPj0Zju4wkLgMWlHgauTId65JE9j
ZYUjBf63okyyou/T0o20IqK92yTpmK4IGDiIez1Z2hRm9MLxctT+ZExGdUA3jUt7
VdvoMKxi2yrkgAByi6y5pGGIcPll/M9xhZ+p/R/Vq3fbrKng
-----END CERTIFICATE REQUEST-----
`;

/**
 * The Variables panel that goes with `EXPLORER_DOCUMENT`: one value per variable name, shared by
 * every operation (each takes the ones it declares). Runs the order, follow and download examples
 * as they are; ids and the DCV token are placeholders to replace with what earlier steps answer.
 */
export const EXPLORER_VARIABLES = {
  first: 20,
  class: "ssl123dv",
  domains: ["shop.example.com"],
  csr: DEMO_CSR,
  techContact: {
    firstName: "Ada",
    lastName: "Lovelace",
    email: "ada@example.com",
    phone: "+44.2071234567",
  },
  approverEmails: ["admin@example.com"],
  idempotencyKey: "demo-order-1",
  id: "paste a certificate id here",
  orderId: "paste an order id here",
  dcvToken: "paste the dcvToken of GenerateDcvToken here",
  webhookUrl: "https://hooks.example.com/rrpproxy",
  webhookId: "paste the id CreateWebhook answered here",
  contact: {
    type: "TECH",
    firstName: "Ada",
    lastName: "Lovelace",
    email: "ada@example.com",
    phone: "+44.2071234567",
  },
};
