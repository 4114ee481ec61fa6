import { Arg, Ctx, FieldResolver, ID, Int, Query, Resolver, Root } from "type-graphql";
import { CertificateClass } from "../schema/certificate-class.type";
import { ContactRequirement } from "../schema/contact-requirement.enum";
import { DcvMethod } from "../schema/dcv-method.enum";
import { ValidationType } from "../schema/validation-type.enum";
import { type Context } from "../src/context";
import { NotFoundError } from "../src/errors";
import { type ClassRecord } from "../src/upstream/types";
import { type CertificateClassRef, toCertificateClass } from "./mappers";

/**
 * Classes resolve lazily: a certificate's `class { name }` comes from the certificate itself,
 * every other field loads the class once per request (GetCertificateInfo CLASS=...).
 */
@Resolver(_of => CertificateClass)
export class CertificateClassResolver {
  @Query(_returns => CertificateClass, {
    nullable: true,
    description: 'Look up one class by name ("ssl123dv", any case); null when there is none',
  })
  async certificateClass(
    @Arg("name", _type => ID) name: string,
    @Ctx() ctx: Context,
  ): Promise<CertificateClassRef | null> {
    const record = await ctx.loaders.classByName.load(name);
    return record ? { name: record.name, record } : null;
  }

  @Query(_returns => [CertificateClass], {
    description: "Every class the upstream sells, with its ordering rules",
  })
  async certificateClasses(@Ctx() ctx: Context): Promise<CertificateClassRef[]> {
    const names = await ctx.loaders.classNames.load("all");
    const records = await ctx.loaders.classByName.loadMany(names);
    const refs: CertificateClassRef[] = [];
    for (const record of records) {
      if (record instanceof Error) {
        throw record;
      }
      if (record !== null) {
        refs.push({ name: record.name, record });
      }
    }
    return refs;
  }

  private async load(ref: CertificateClassRef, ctx: Context): Promise<CertificateClass> {
    const record: ClassRecord | null = ref.record ?? (await ctx.loaders.classByName.load(ref.name));
    if (!record) {
      throw new NotFoundError("CertificateClass", ref.name);
    }
    return toCertificateClass(record);
  }

  @FieldResolver(_returns => String)
  async displayName(@Root() ref: CertificateClassRef, @Ctx() ctx: Context): Promise<string> {
    return (await this.load(ref, ctx)).displayName;
  }

  @FieldResolver(_returns => String)
  async brand(@Root() ref: CertificateClassRef, @Ctx() ctx: Context): Promise<string> {
    return (await this.load(ref, ctx)).brand;
  }

  @FieldResolver(_returns => ValidationType)
  async validationType(
    @Root() ref: CertificateClassRef,
    @Ctx() ctx: Context,
  ): Promise<ValidationType> {
    return (await this.load(ref, ctx)).validationType;
  }

  @FieldResolver(_returns => Boolean)
  async wildcard(@Root() ref: CertificateClassRef, @Ctx() ctx: Context): Promise<boolean> {
    return (await this.load(ref, ctx)).wildcard;
  }

  @FieldResolver(_returns => Boolean)
  async multiDomain(@Root() ref: CertificateClassRef, @Ctx() ctx: Context): Promise<boolean> {
    return (await this.load(ref, ctx)).multiDomain;
  }

  @FieldResolver(_returns => Int)
  async includedDomains(@Root() ref: CertificateClassRef, @Ctx() ctx: Context): Promise<number> {
    return (await this.load(ref, ctx)).includedDomains;
  }

  @FieldResolver(_returns => Int)
  async maxDomains(@Root() ref: CertificateClassRef, @Ctx() ctx: Context): Promise<number> {
    return (await this.load(ref, ctx)).maxDomains;
  }

  @FieldResolver(_returns => Int)
  async maxFreeAlternatives(
    @Root() ref: CertificateClassRef,
    @Ctx() ctx: Context,
  ): Promise<number> {
    return (await this.load(ref, ctx)).maxFreeAlternatives;
  }

  @FieldResolver(_returns => [DcvMethod])
  async dcvMethods(@Root() ref: CertificateClassRef, @Ctx() ctx: Context): Promise<DcvMethod[]> {
    return (await this.load(ref, ctx)).dcvMethods;
  }

  @FieldResolver(_returns => ContactRequirement)
  async techContact(
    @Root() ref: CertificateClassRef,
    @Ctx() ctx: Context,
  ): Promise<ContactRequirement> {
    return (await this.load(ref, ctx)).techContact;
  }

  @FieldResolver(_returns => ContactRequirement)
  async organizationContact(
    @Root() ref: CertificateClassRef,
    @Ctx() ctx: Context,
  ): Promise<ContactRequirement> {
    return (await this.load(ref, ctx)).organizationContact;
  }

  @FieldResolver(_returns => ContactRequirement)
  async evApproverContact(
    @Root() ref: CertificateClassRef,
    @Ctx() ctx: Context,
  ): Promise<ContactRequirement> {
    return (await this.load(ref, ctx)).evApproverContact;
  }

  @FieldResolver(_returns => [String])
  async periods(@Root() ref: CertificateClassRef, @Ctx() ctx: Context): Promise<string[]> {
    return (await this.load(ref, ctx)).periods;
  }

  @FieldResolver(_returns => Boolean)
  async immediateIssuance(@Root() ref: CertificateClassRef, @Ctx() ctx: Context): Promise<boolean> {
    return (await this.load(ref, ctx)).immediateIssuance;
  }

  @FieldResolver(_returns => Boolean)
  async refundOnCancel(@Root() ref: CertificateClassRef, @Ctx() ctx: Context): Promise<boolean> {
    return (await this.load(ref, ctx)).refundOnCancel;
  }

  @FieldResolver(_returns => [String])
  async serverTypes(@Root() ref: CertificateClassRef, @Ctx() ctx: Context): Promise<string[]> {
    return (await this.load(ref, ctx)).serverTypes;
  }

  @FieldResolver(_returns => String)
  async idPrefix(@Root() ref: CertificateClassRef, @Ctx() ctx: Context): Promise<string> {
    return (await this.load(ref, ctx)).idPrefix;
  }

  @FieldResolver(_returns => Int)
  async maxDomainsIncludingAlternatives(
    @Root() ref: CertificateClassRef,
    @Ctx() ctx: Context,
  ): Promise<number> {
    return (await this.load(ref, ctx)).maxDomainsIncludingAlternatives;
  }

  @FieldResolver(_returns => Int)
  async maxWildcardDomains(@Root() ref: CertificateClassRef, @Ctx() ctx: Context): Promise<number> {
    return (await this.load(ref, ctx)).maxWildcardDomains;
  }

  @FieldResolver(_returns => Int)
  async maxNonWildcardDomains(
    @Root() ref: CertificateClassRef,
    @Ctx() ctx: Context,
  ): Promise<number> {
    return (await this.load(ref, ctx)).maxNonWildcardDomains;
  }

  @FieldResolver(_returns => String)
  async supplier(@Root() ref: CertificateClassRef, @Ctx() ctx: Context): Promise<string> {
    return (await this.load(ref, ctx)).supplier;
  }
}
