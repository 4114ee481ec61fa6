/**
 * The example operation Apollo Sandbox opens with: the certificates of the account with what a
 * dashboard shows, and the products on sale. Kept small enough to read at a glance.
 */
export const EXPLORER_DOCUMENT = `# Welcome to the RRPproxy SSL gateway.
# Run "Dashboard" to see your certificates, or "Products" for the classes on sale.
# The Documentation panel on the left lists every query and mutation (orderCertificate, ...).

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
`;
