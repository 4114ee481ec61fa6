import { Arg, Ctx, Query, Resolver } from "type-graphql";
import { CertificateCheck } from "../schema/certificate-check.type";
import { CheckCertificateInput } from "../schema/check-certificate.input";
import { type Context } from "../src/context";
import { assertNoViolations, type InputViolation } from "../src/errors";
import { type CsrInfo, parseCsr } from "../src/pki/csr";
import { PemError } from "../src/pki/errors";
import { type CertificateInfo, parseCertificate } from "../src/pki/x509";
import { decodeCheck } from "../src/upstream/records";
import {
  toApproverEmail,
  toCheckedCsrDetails,
  toCheckedX509Details,
  unknownClassViolations,
} from "./mappers";

function parsed<T>(
  field: string,
  pem: string | null | undefined,
  parse: (pem: string) => T,
  violations: InputViolation[],
): T | null {
  if (pem === undefined || pem === null) {
    return null;
  }
  try {
    return parse(pem);
  } catch (error) {
    if (!(error instanceof PemError)) {
      throw error;
    }
    violations.push({
      field,
      rule: field === "csr" ? "CSR_MALFORMED" : "CRT_MALFORMED",
      message: `${field} cannot be read as PEM (${error.message})`,
    });
    return null;
  }
}

@Resolver(_of => CertificateCheck)
export class CertificateCheckResolver {
  @Query(_returns => CertificateCheck, {
    description:
      "Asks the upstream what it makes of a CSR, a certificate and domains: parsed details, the " +
      "approver addresses of each domain (with class) and a DCV token for immediate issuance. " +
      "Orders nothing",
  })
  async checkCertificate(
    @Arg("input", _type => CheckCertificateInput) input: CheckCertificateInput,
    @Ctx() ctx: Context,
  ): Promise<CertificateCheck> {
    const violations: InputViolation[] = [];
    const csr = parsed<CsrInfo>("csr", input.csr, pem => parseCsr(pem), violations);
    const crt = parsed<CertificateInfo>("crt", input.crt, parseCertificate, violations);
    const domains = input.domains ?? [];
    if (!input.csr && !input.crt && domains.length === 0) {
      violations.push({
        field: "input",
        rule: "NOTHING_TO_CHECK",
        message: "give a csr, a crt or domains to check",
      });
    }
    if (input.generateDcvToken && (!input.csr || !input.class)) {
      violations.push({
        field: "generateDcvToken",
        rule: "DCV_TOKEN_NEEDS_CSR_AND_CLASS",
        message: "generateDcvToken needs both csr and class",
      });
    }
    assertNoViolations(violations);
    if (input.class) {
      const klass = await ctx.loaders.classByName.load(input.class);
      assertNoViolations(klass ? [] : unknownClassViolations(input.class));
    }
    const reply = await ctx.upstream.call("CheckCertificate", {
      csr: input.csr ?? undefined,
      crt: input.crt ?? undefined,
      domain: domains.length > 0 ? domains : undefined,
      class: input.class ? input.class.toLowerCase() : undefined,
      generatedcvtoken: input.generateDcvToken ? 1 : undefined,
    });
    const check = decodeCheck(reply);
    return Object.assign(new CertificateCheck(), {
      csr: input.csr ? toCheckedCsrDetails(check.csr, csr) : null,
      crt: input.crt ? toCheckedX509Details(check.crt, crt) : null,
      approverEmails: check.approverEmails.map(a => toApproverEmail(a.domain, a.email)),
      dcvToken: check.dcvToken,
    });
  }
}
