import { Arg, Args, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from "type-graphql";
import { CACHE_HINT_SECONDS, CacheControl, NO_STORE } from "../schema/cache-control.directive";
import { CertificateContactConnection } from "../schema/certificate-contact-connection.type";
import { CertificateContact } from "../schema/certificate-contact.type";
import { CertificateContactsArgs } from "../schema/certificate-contacts.args";
import { CertificateOrganization } from "../schema/certificate-organization.type";
import { ContactType } from "../schema/contact-type.enum";
import { CreateCertificateContactInput } from "../schema/create-certificate-contact.input";
import { DateTimeScalar } from "../schema/date-time.scalar";
import { type Context } from "../src/context";
import {
  assertNoViolations,
  BadUserInputError,
  type InputViolation,
  NotFoundError,
} from "../src/errors";
import { decodeCreatedContact } from "../src/upstream/records";
import { type ContactRowRecord } from "../src/upstream/types";
import {
  type CertificateContactRef,
  type ConnectionShape,
  fromContactType,
  toCertificateOrganization,
  toConnection,
  toContactType,
  toPageRequest,
} from "./mappers";

/**
 * What a new contact lacks (manual 8.3.1): without a person handle, an email and a phone, and for
 * a person (tech, EV approver) a first and last name; an organization contact needs the
 * organization's data or an organization handle.
 */
function createViolations(input: CreateCertificateContactInput): InputViolation[] {
  const violations: InputViolation[] = [];
  const blank = (text: string | null | undefined) =>
    text === undefined || text === null || text.trim() === "";
  const type = fromContactType(input.type);
  if (type === "organization" && !input.organization && blank(input.organizationHandle)) {
    violations.push({
      field: "organization",
      rule: "CONTACT_FIELD_REQUIRED",
      message: "organization (or organizationHandle) is required for an organization contact",
    });
  }
  if (blank(input.personHandle)) {
    const required =
      type === "organization"
        ? (["email", "phone"] as const)
        : (["firstName", "lastName", "email", "phone"] as const);
    for (const name of required) {
      if (blank(input[name])) {
        violations.push({
          field: name,
          rule: "CONTACT_FIELD_REQUIRED",
          message: `${name} is required for a new ${type} contact (or give personHandle)`,
        });
      }
    }
  }
  return violations;
}

@Resolver(_of => CertificateContact)
export class CertificateContactResolver {
  @Query(_returns => CertificateContact, {
    nullable: true,
    description: "Look up one certificate contact by id; null when there is none",
  })
  async certificateContact(
    @Arg("id", _type => ID) id: string,
    @Ctx() ctx: Context,
  ): Promise<CertificateContactRef | null> {
    const row = await ctx.loaders.contactRowById.load(id);
    return row ? { id } : null;
  }

  @CacheControl({ maxAge: CACHE_HINT_SECONDS.list, scope: "PRIVATE" })
  @Query(_returns => CertificateContactConnection, {
    description: "A page of certificate contacts, optionally filtered",
  })
  async certificateContacts(
    @Args(_type => CertificateContactsArgs) args: CertificateContactsArgs,
    @Ctx() ctx: Context,
  ): Promise<ConnectionShape<CertificateContactRef>> {
    const request = toPageRequest(args, ctx.settings.maxPageSize);
    if (Array.isArray(request)) {
      throw new BadUserInputError(request);
    }
    const page = await ctx.loaders.contactPage.load({
      offset: request.offset,
      limit: Math.max(request.size, 1),
      type: args.filter?.type ? fromContactType(args.filter.type) : undefined,
      email: args.filter?.email ?? undefined,
    });
    return toConnection(page, request.offset, request.size, row => ({ id: row.id }));
  }

  @CacheControl(NO_STORE)
  @Mutation(_returns => CertificateContact, {
    description:
      "Creates a contact for later orders, from its data or from existing P-/O- handles. " +
      "Contacts are immutable; orders may also create them inline",
  })
  async createCertificateContact(
    @Arg("input", _type => CreateCertificateContactInput) input: CreateCertificateContactInput,
    @Ctx() ctx: Context,
  ): Promise<CertificateContactRef> {
    assertNoViolations(createViolations(input));
    const org = input.organization;
    const reply = await ctx.upstream.call("AddCertificateContact", {
      type: fromContactType(input.type),
      phandle: input.personHandle ?? undefined,
      ohandle: input.organizationHandle ?? undefined,
      firstname: input.firstName ?? undefined,
      lastname: input.lastName ?? undefined,
      email: input.email ?? undefined,
      phone: input.phone ?? undefined,
      jobtitle: input.jobTitle ?? undefined,
      organizationname: org?.name,
      organizationdba: org?.dba ?? undefined,
      organizationstreet: org?.street,
      organizationzip: org?.zip ?? undefined,
      organizationcity: org?.city,
      organizationstate: org?.state ?? undefined,
      organizationcountry: org?.country,
      organizationphone: org?.phone,
      organizationemail: org?.email,
    });
    const created = decodeCreatedContact(reply);
    await ctx.forget({ contacts: true });
    return { id: created.id };
  }

  private async row(ref: CertificateContactRef, ctx: Context): Promise<ContactRowRecord> {
    const row = await ctx.loaders.contactRowById.load(ref.id);
    if (!row) {
      throw new NotFoundError("CertificateContact", ref.id);
    }
    return row;
  }

  @FieldResolver(_returns => ContactType)
  async type(@Root() ref: CertificateContactRef, @Ctx() ctx: Context): Promise<ContactType> {
    return toContactType((await this.row(ref, ctx)).type);
  }

  @FieldResolver(_returns => String)
  async status(@Root() ref: CertificateContactRef, @Ctx() ctx: Context): Promise<string | null> {
    const row = await this.row(ref, ctx);
    if (row.status !== undefined) {
      return row.status;
    }
    // The list had no status column: the contact's own record has it.
    const record = await ctx.loaders.contactById.load(ref.id);
    return record?.status ?? null;
  }

  @FieldResolver(_returns => String)
  async firstName(@Root() ref: CertificateContactRef, @Ctx() ctx: Context): Promise<string | null> {
    return (await this.row(ref, ctx)).firstName;
  }

  @FieldResolver(_returns => String)
  async lastName(@Root() ref: CertificateContactRef, @Ctx() ctx: Context): Promise<string | null> {
    return (await this.row(ref, ctx)).lastName;
  }

  @FieldResolver(_returns => String)
  async jobTitle(@Root() ref: CertificateContactRef, @Ctx() ctx: Context): Promise<string | null> {
    return (await this.row(ref, ctx)).jobTitle;
  }

  @FieldResolver(_returns => String)
  async email(@Root() ref: CertificateContactRef, @Ctx() ctx: Context): Promise<string | null> {
    return (await this.row(ref, ctx)).email;
  }

  @FieldResolver(_returns => String)
  async phone(@Root() ref: CertificateContactRef, @Ctx() ctx: Context): Promise<string | null> {
    return (await this.row(ref, ctx)).phone;
  }

  @FieldResolver(_returns => CertificateOrganization)
  async organization(
    @Root() ref: CertificateContactRef,
    @Ctx() ctx: Context,
  ): Promise<CertificateOrganization | null> {
    return toCertificateOrganization((await this.row(ref, ctx)).organization);
  }

  @FieldResolver(_returns => DateTimeScalar)
  async createdAt(@Root() ref: CertificateContactRef, @Ctx() ctx: Context): Promise<Date | null> {
    return (await this.row(ref, ctx)).createdAt;
  }

  @FieldResolver(_returns => DateTimeScalar)
  async updatedAt(@Root() ref: CertificateContactRef, @Ctx() ctx: Context): Promise<Date | null> {
    return (await this.row(ref, ctx)).updatedAt;
  }
}
