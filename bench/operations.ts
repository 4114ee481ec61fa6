/**
 * The GraphQL operations the bench sends, written against the public contract
 * (`../shared/docs/api-contract.graphql`), and the mapping of their results into the normalised
 * shapes of `page-data.ts`.
 */
import {
  type CertificateDetail,
  compactHex,
  compactPem,
  type DashboardRow,
  type OrderCertificate,
} from "./page-data";

/** The dashboard: a page of certificates with status, class, paid-until, tech email, expiry. */
export const DASHBOARD_QUERY = /* GraphQL */ `
  query BenchDashboard($first: Int!, $after: String) {
    certificates(first: $first, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        id
        status
        expiresAt
        class {
          name
        }
        order {
          id
          paidUntil
        }
        techContact {
          id
          email
        }
      }
    }
  }
`;

/** The detail page: one certificate with chain, x509, its order with all certificates, contacts. */
export const DETAIL_QUERY = /* GraphQL */ `
  query BenchCertificateDetail($id: ID!) {
    certificate(id: $id) {
      id
      status
      commonName
      domains
      expiresAt
      chain
      x509 {
        subject
        issuer
        serialNumber
        notBefore
        notAfter
        fingerprintSha256
      }
      class {
        name
      }
      order {
        id
        status
        paidUntil
        certificates {
          id
          status
          expiresAt
        }
      }
      techContact {
        id
        firstName
        lastName
        email
        phone
      }
      organizationContact {
        id
        organization {
          name
          country
        }
      }
      evApproverContact {
        id
        firstName
        lastName
        email
      }
    }
  }
`;

/** The overhead scenario's warm cached query: small, one cached record. */
export const SMALL_QUERY = /* GraphQL */ `
  query BenchCertificateSummary($id: ID!) {
    certificate(id: $id) {
      id
      status
      expiresAt
      class {
        name
      }
    }
  }
`;

/** The catalogue: every class with a few of its rules. */
export const CLASSES_QUERY = /* GraphQL */ `
  query BenchClasses {
    certificateClasses {
      name
      displayName
      validationType
      maxDomains
    }
  }
`;

/** A page of contacts. */
export const CONTACTS_QUERY = /* GraphQL */ `
  query BenchContacts {
    certificateContacts(first: 10) {
      totalCount
      nodes {
        id
        type
        email
      }
    }
  }
`;

/** A page of orders. */
export const ORDERS_QUERY = /* GraphQL */ `
  query BenchOrders {
    certificateOrders(first: 20) {
      totalCount
      nodes {
        id
        status
        paidUntil
        class {
          name
        }
      }
    }
  }
`;

/** A document the gateway must refuse (validation error): part of the memory scenario's mix. */
export const INVALID_QUERY = "query BenchInvalid { certificates { nodes { noSuchField } } }";

interface DashboardData {
  certificates: {
    totalCount: number;
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
    nodes: {
      id: string;
      status: string;
      expiresAt: string | null;
      class: { name: string };
      order: { id: string; paidUntil: string | null };
      techContact: { id: string; email: string | null } | null;
    }[];
  };
}

interface DetailData {
  certificate: {
    id: string;
    status: string;
    commonName: string;
    domains: string[];
    expiresAt: string | null;
    chain: string | null;
    x509: { fingerprintSha256: string } | null;
    class: { name: string };
    order: {
      id: string;
      status: string;
      paidUntil: string | null;
      certificates: OrderCertificate[];
    };
    techContact: { email: string | null } | null;
    organizationContact: { organization: { name: string | null } | null } | null;
    evApproverContact: { email: string | null } | null;
  } | null;
}

/** The dashboard rows of a `DASHBOARD_QUERY` result. */
export function dashboardRows(data: unknown): DashboardRow[] {
  return (data as DashboardData).certificates.nodes.map(node => ({
    id: node.id,
    status: node.status,
    className: node.class.name,
    orderId: node.order.id,
    paidUntil: node.order.paidUntil,
    techEmail: node.techContact?.email ?? null,
    expiresAt: node.expiresAt,
  }));
}

/** The end cursor and whether more pages follow, of a `DASHBOARD_QUERY` result. */
export function dashboardPageInfo(data: unknown): { endCursor: string | null; more: boolean } {
  const info = (data as DashboardData).certificates.pageInfo;
  return { endCursor: info.endCursor, more: info.hasNextPage };
}

/** The detail of a `DETAIL_QUERY` result; throws when the certificate was not found. */
export function certificateDetail(data: unknown): CertificateDetail {
  const cert = (data as DetailData).certificate;
  if (!cert) {
    throw new Error("the gateway answered certificate: null");
  }
  return {
    id: cert.id,
    status: cert.status,
    commonName: cert.commonName,
    domains: cert.domains,
    expiresAt: cert.expiresAt,
    chain: compactPem(cert.chain),
    fingerprint: compactHex(cert.x509?.fingerprintSha256),
    className: cert.class.name,
    order: {
      id: cert.order.id,
      status: cert.order.status,
      paidUntil: cert.order.paidUntil,
      certificates: cert.order.certificates.map(c => ({
        id: c.id,
        status: c.status,
        expiresAt: c.expiresAt,
      })),
    },
    techEmail: cert.techContact?.email ?? null,
    organizationName: cert.organizationContact?.organization?.name ?? null,
    evApproverEmail: cert.evApproverContact?.email ?? null,
  };
}
