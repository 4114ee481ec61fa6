import { Field, Int, ObjectType } from "type-graphql";
import { CacheControl } from "./cache-control.directive";
import { DateTimeScalar } from "./date-time.scalar";

@CacheControl({ inheritMaxAge: true })
@ObjectType({ description: "Fields parsed from a PEM X.509 certificate" })
export class X509Details {
  @Field(_type => String, { description: "The subject as a distinguished name" })
  subject!: string;

  @Field(_type => String, { description: "The issuer (the CA) as a distinguished name" })
  issuer!: string;

  @Field(_type => String, { description: "Serial number, hexadecimal" })
  serialNumber!: string;

  @Field(_type => DateTimeScalar, { description: "Start of validity" })
  notBefore!: Date;

  @Field(_type => DateTimeScalar, { description: "End of validity" })
  notAfter!: Date;

  @Field(_type => [String], { description: "DNS names of the subjectAltName extension" })
  subjectAltNames!: string[];

  @Field(_type => String, { description: 'Public key algorithm: "RSA", "EC", …' })
  keyAlgorithm!: string;

  @Field(_type => Int, { nullable: true, description: "Key size in bits; null when unknown" })
  keySize!: number | null;

  @Field(_type => String, { description: "Signature algorithm of the issuer's signature" })
  signatureAlgorithm!: string;

  @Field(_type => String, {
    description: "SHA-256 fingerprint of the DER certificate, as the parser writes it (hex)",
  })
  fingerprintSha256!: string;
}
