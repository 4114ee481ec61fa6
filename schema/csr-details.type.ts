import { Field, Int, ObjectType } from "type-graphql";
import { CacheControl } from "./cache-control.directive";

@CacheControl({ inheritMaxAge: true })
@ObjectType({ description: "Fields parsed from a PEM certificate signing request" })
export class CsrDetails {
  @Field(_type => String, { nullable: true, description: "The subject's CN, if any" })
  commonName!: string | null;

  @Field(_type => String, {
    description: 'The subject as a distinguished name: "CN=example.com, O=…"',
  })
  subject!: string;

  @Field(_type => [String], { description: "DNS names of the subjectAltName extension" })
  subjectAltNames!: string[];

  @Field(_type => String, { description: 'Public key algorithm: "RSA", "EC", …' })
  keyAlgorithm!: string;

  @Field(_type => Int, {
    nullable: true,
    description: "Key size in bits (RSA modulus, EC curve size); null when unknown",
  })
  keySize!: number | null;

  @Field(_type => String, { description: 'Signature algorithm: "sha256WithRSAEncryption", …' })
  signatureAlgorithm!: string;

  @Field(_type => String, { nullable: true, description: "The subject's O, if any" })
  organization!: string | null;

  @Field(_type => String, {
    nullable: true,
    description: "The subject's C (ISO country code), if any",
  })
  country!: string | null;

  @Field(_type => Boolean, {
    nullable: true,
    description: "The request's self-signature verifies; null when it was not checked",
  })
  signatureValid!: boolean | null;
}
