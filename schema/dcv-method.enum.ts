import { registerEnumType } from "type-graphql";

/** Domain control validation method (manual 3.5, 7.3). */
export enum DcvMethod {
  EMAIL = "EMAIL",
  DNS_TXT = "DNS_TXT",
  DNS_CNAME = "DNS_CNAME",
  HTTP = "HTTP",
  HTTPS = "HTTPS",
}

registerEnumType(DcvMethod, {
  name: "DcvMethod",
  description: "How control of a domain is proven to the CA",
  valuesConfig: {
    EMAIL: { description: "An approver address of the domain confirms a link the CA mails" },
    DNS_TXT: { description: "A TXT record the CA chose is published in the domain's DNS" },
    DNS_CNAME: { description: "A CNAME record the CA chose is published in the domain's DNS" },
    HTTP: { description: "A file the CA chose is served over http:// (not for wildcards)" },
    HTTPS: { description: "A file the CA chose is served over https:// (not for wildcards)" },
  },
});
