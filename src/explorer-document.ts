/**
 * The example operation Apollo Sandbox opens with: the certificates of the account with what a
 * dashboard shows, and the products on sale. Kept small enough to read at a glance.
 */
export const EXPLORER_DOCUMENT = `# Welcome to the RRPproxy SSL gateway.
# Run "Dashboard" to see your certificates, or "Products" for the classes on sale.
# "OrderDemo" orders shop.example.com with the sample CSR in the Variables panel (on the
# sandbox no money moves; the same idempotencyKey never orders twice). Put the id it answers
# into "id" and run "Certificate": after validation (a few seconds) it is ACTIVE and "chain"
# holds the PEM to install. The Documentation panel lists every query and mutation.

query Dashboard($first: Int = 20, $after: String) {
  certificates(first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes {
      id
      status
      commonName
      domains
      expiresAt
      class { name displayName brand validationType }
      order { id status paidUntil }
      techContact { id email }
    }
  }
}

query Products {
  certificateClasses {
    name
    displayName
    brand
    validationType
    wildcard
    multiDomain
    maxDomains
    dcvMethods
    immediateIssuance
  }
}

query Certificate($id: ID!) {
  certificate(id: $id) {
    id
    status
    domains
    validations { domain method email dnsRecord fileUrl fileContents }
    x509 { subject issuer notBefore notAfter fingerprintSha256 }
    chain
  }
}

mutation OrderDemo($input: OrderCertificateInput!, $key: String) {
  orderCertificate(input: $input, idempotencyKey: $key) {
    id
    status
    domains
    validations { domain method dnsRecord }
    order { id paidUntil }
  }
}
`;

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

/** The Variables panel that goes with `EXPLORER_DOCUMENT`. */
export const EXPLORER_VARIABLES = {
  first: 20,
  id: "paste a certificate id here",
  key: "demo-order-1",
  input: {
    class: "ssl123dv",
    domains: ["shop.example.com"],
    csr: DEMO_CSR,
    dcvMethod: "DNS_TXT",
    techContact: {
      firstName: "Ada",
      lastName: "Lovelace",
      email: "ada@example.com",
      phone: "+44.2071234567",
    },
  },
};
