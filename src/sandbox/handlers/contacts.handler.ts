/**
 * The CertificateContact commands (manual 8.3): AddCertificateContact,
 * StatusCertificateContact, QueryCertificateContactList. Contacts are immutable once created.
 */
import { formatListDate, wholeSeconds } from "../clock";
import {
  checkContactData,
  type ContactData,
  contactFromHandles,
  createContact,
  emptyContact,
  isHandle,
} from "../contacts";
import { type Handler } from "../context";
import { listReply } from "../lists";
import { oneOf, optional, type Params, required } from "../params";
import { fail, ok, PropertyBag } from "../reply";
import { type ContactRecord } from "../store";
import { CONTACT_COLUMNS, contactProperties } from "../views";

/** Parameter names of the contact fields, as AddCertificateContact takes them (8.3.1). */
const FIELD_PARAMETERS: readonly [Exclude<keyof ContactData, "type">, string][] = [
  ["firstName", "firstname"],
  ["lastName", "lastname"],
  ["phone", "phone"],
  ["email", "email"],
  ["jobTitle", "jobtitle"],
  ["organizationName", "organizationname"],
  ["organizationDba", "organizationdba"],
  ["organizationStreet", "organizationstreet"],
  ["organizationZip", "organizationzip"],
  ["organizationCity", "organizationcity"],
  ["organizationState", "organizationstate"],
  ["organizationCountry", "organizationcountry"],
  ["organizationPhone", "organizationphone"],
  ["organizationEmail", "organizationemail"],
];

function readHandle(params: Params, name: string, prefix: "P" | "O"): string | undefined {
  const handle = optional(params, name);
  if (handle === undefined) {
    return undefined;
  }
  if (!isHandle(handle) || handle[0]?.toUpperCase() !== prefix) {
    throw fail.syntax(`${name}: "${handle}" is not a ${prefix}-handle`);
  }
  return handle.toUpperCase();
}

/**
 * AddCertificateContact (8.3.1, 9.1.7-9.1.9): a new contact from its data, or from P-/O-handles
 * with the data given beside them taking precedence. Tech and EV approver contacts need a first
 * and last name, every contact an e-mail and a phone, organization contacts the organization's
 * name, street, city, country and phone. Answers the id and the status `unverified`.
 */
export const AddCertificateContact: Handler = ctx => {
  const { params } = ctx;
  required(params, "type");
  const type = oneOf(params, "type", ["organization", "tech", "evapprover"] as const) ?? "tech";
  const phandle = readHandle(params, "phandle", "P");
  const ohandle = readHandle(params, "ohandle", "O");
  const data = phandle || ohandle ? contactFromHandles(type, phandle, ohandle) : emptyContact(type);
  for (const [field, parameter] of FIELD_PARAMETERS) {
    const value = optional(params, parameter);
    if (value !== undefined) {
      data[field] = field === "organizationCountry" ? value.toUpperCase() : value;
    }
  }
  checkContactData(
    data,
    Object.fromEntries(FIELD_PARAMETERS.map(([field, parameter]) => [field, parameter])),
  );
  for (const field of ["email", "phone"] as const) {
    if (data[field] === "") {
      throw fail.missing(field);
    }
  }
  const contact = createContact(ctx.store, ctx.account, data, wholeSeconds(ctx.now));
  return ok(new PropertyBag().set("certificatecontact", contact.id).set("status", contact.status));
};

/** StatusCertificateContact (8.3.2, 9.1.12): every field, whatever the contact's type. */
export const StatusCertificateContact: Handler = ctx => {
  const id = required(ctx.params, "certificatecontact").toUpperCase();
  const contact = ctx.account.contacts.get(id);
  if (!contact) {
    throw fail.notFound("certificatecontact", id);
  }
  return ok(contactProperties(contact));
};

/**
 * QueryCertificateContactList (8.3.3, 9.1.10, 9.1.11): the id column, or with `wide=1` the
 * columns of 9.1.11; every field can be filtered with a pattern.
 */
export const QueryCertificateContactList: Handler = ctx => {
  const [idColumn] = CONTACT_COLUMNS;
  const fields: Record<string, (c: ContactRecord) => string> = {
    CERTIFICATECONTACT: c => c.id,
    TYPE: c => c.type,
    JOBTITLE: c => c.jobTitle,
    FIRSTNAME: c => c.firstName,
    LASTNAME: c => c.lastName,
    PHONE: c => c.phone,
    EMAIL: c => c.email,
    ORGANIZATION: c => c.organizationName,
    ORGANIZATIONDBA: c => c.organizationDba,
    ORGANIZATIONSTREET: c => c.organizationStreet,
    ORGANIZATIONCITY: c => c.organizationCity,
    ORGANIZATIONZIP: c => c.organizationZip,
    ORGANIZATIONSTATE: c => c.organizationState,
    ORGANIZATIONCOUNTRY: c => c.organizationCountry,
    ORGANIZATIONPHONE: c => c.organizationPhone,
    ORGANIZATIONCATEGORY: c => c.organizationCategory,
    CREATEDDATE: c => formatListDate(c.createdAt),
    UPDATEDDATE: c => formatListDate(c.createdAt),
  };
  return listReply([...ctx.account.contacts.values()], ctx.params, {
    columns: idColumn ? [idColumn] : [],
    wideColumns: CONTACT_COLUMNS,
    filters: Object.fromEntries(
      Object.entries(fields).map(([name, read]) => [name.toLowerCase(), read]),
    ),
    orderBy: fields,
    defaultOrderBy: "CERTIFICATECONTACT",
  });
};
