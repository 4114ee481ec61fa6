/**
 * CertificateContacts (manual 6.4, 8.3): creation from data or from the reseller's P-/O-handles,
 * and the contacts of an order, which may be existing `CC-` ids, handles (each creating a new
 * CertificateContact) or inline data (`techfirstname0`, `organizationname`, ...). Resolution is
 * split from creation so a dry run (`checkonly=1`) or a failing order creates nothing.
 */
import { createHash } from "node:crypto";
import { type CertificateClass, type ContactRole } from "./catalog";
import { indexed, optional, type Params } from "./params";
import { fail } from "./reply";
import { isEmail, isPhone } from "./rules";
import {
  type AccountState,
  type CertificateContacts,
  type ContactRecord,
  type ContactType,
  type SandboxStore,
} from "./store";

/** The data of a contact to create (every field a string, empty when not given). */
export type ContactData = Omit<ContactRecord, "id" | "status" | "createdAt" | "createdBy">;

/** A contact of an order: an existing CertificateContact, or one to create when the order is placed. */
export type ContactRef = { existing: string } | { create: ContactData };

/** The contacts of an order before creation, by role. */
export type ContactPlan = Record<ContactRole, ContactRef[]>;

const ROLES: readonly ContactRole[] = ["tech", "organization", "evapprover"];

/** How many contacts of each role an order takes (8.1.2: `techcontact0..1`, ...). */
const MAX_PER_ROLE: Readonly<Record<ContactRole, number>> = {
  tech: 2,
  organization: 1,
  evapprover: 2,
};

/** An empty contact of `type`; fields are filled by the caller. */
export function emptyContact(type: ContactType): ContactData {
  return {
    type,
    firstName: "",
    lastName: "",
    jobTitle: "",
    phone: "",
    email: "",
    organizationName: "",
    organizationDba: "",
    organizationStreet: "",
    organizationCity: "",
    organizationState: "",
    organizationZip: "",
    organizationCountry: "",
    organizationPhone: "",
    organizationEmail: "",
    organizationCategory: "",
  };
}

const FIRST_NAMES = ["Max", "Erika", "John", "Jane", "Alex", "Sam", "Robin", "Kim"];
const LAST_NAMES = ["Mustermann", "Musterfrau", "Doe", "Roe", "Smith", "Miller", "Schmidt"];
const ORGANIZATIONS = ["Example Corp", "Example GmbH", "Example Ltd", "Sample Inc", "Demo AG"];

function hashNumber(text: string): number {
  return createHash("sha256").update(text.toUpperCase()).digest().readUInt32BE(0);
}

/** `true` for a reseller handle: `P-ABC123` (person) or `O-ABC456` (organization). */
export function isHandle(text: string): boolean {
  return /^[PO]-[A-Z0-9]{2,}$/i.test(text);
}

/**
 * The data of a contact made from the reseller's handles (9.1.9). The sandbox has no domain
 * contacts, so it derives stable sample data from the handle names: the same handle always
 * gives the same person or organization.
 */
export function contactFromHandles(
  type: ContactType,
  phandle?: string,
  ohandle?: string,
): ContactData {
  const data = emptyContact(type);
  const person = phandle ?? (type === "organization" ? undefined : ohandle);
  if (person) {
    const n = hashNumber(person);
    data.firstName = FIRST_NAMES[n % FIRST_NAMES.length] ?? "Max";
    data.lastName = LAST_NAMES[(n >>> 8) % LAST_NAMES.length] ?? "Mustermann";
    data.email = `${data.firstName}.${data.lastName}@example.com`.toLowerCase();
    data.phone = `+1.555${String(n % 10_000_000).padStart(7, "0")}`;
    data.jobTitle = type === "evapprover" ? "Chief Executive Officer" : "";
  }
  const organization = ohandle ?? (type === "organization" ? phandle : undefined);
  if (organization) {
    const n = hashNumber(organization);
    data.organizationName = ORGANIZATIONS[n % ORGANIZATIONS.length] ?? "Example Corp";
    data.organizationStreet = `Example Street ${(n % 98) + 1}`;
    data.organizationCity = "Exampletown";
    data.organizationState = "EX";
    data.organizationZip = String(10000 + (n % 89999));
    data.organizationCountry = "DE";
    data.organizationPhone = `+49.30${String(n % 10_000_000).padStart(7, "0")}`;
    data.organizationEmail = "info@example.com";
    if (!person) {
      data.email = data.organizationEmail;
      data.phone = data.organizationPhone;
    }
  }
  return data;
}

/**
 * Checks the data of a new contact: the fields each type needs (504, named as the command's
 * parameter via `names`) and the syntax of e-mail addresses, phones and the country (505).
 */
export function checkContactData(
  data: ContactData,
  names: Partial<Record<keyof ContactData, string>>,
): void {
  const need: (keyof ContactData)[] =
    data.type === "organization"
      ? [
          "organizationName",
          "organizationStreet",
          "organizationCity",
          "organizationCountry",
          "organizationPhone",
        ]
      : ["firstName", "lastName", "email", "phone"];
  for (const field of need) {
    if (data[field] === "") {
      throw fail.missing(names[field] ?? field.toLowerCase());
    }
  }
  const checks: [keyof ContactData, (text: string) => boolean, string][] = [
    ["email", isEmail, "not an e-mail address"],
    ["organizationEmail", isEmail, "not an e-mail address"],
    ["phone", isPhone, "not a phone number like +1.5552345678"],
    ["organizationPhone", isPhone, "not a phone number like +1.5552345678"],
    ["organizationCountry", t => /^[A-Z]{2}$/.test(t), "not a two-letter country code"],
  ];
  for (const [field, valid, problem] of checks) {
    if (data[field] !== "" && !valid(data[field])) {
      throw fail.syntax(`${names[field] ?? field.toLowerCase()}: "${data[field]}" is ${problem}`);
    }
  }
}

/** Stores a new contact (status `unverified`, 9.1.7) under a fresh `CC-` id. */
export function createContact(
  store: SandboxStore,
  account: AccountState,
  data: ContactData,
  now: Date,
): ContactRecord {
  const contact: ContactRecord = {
    ...data,
    id: store.ids.contact(),
    status: "unverified",
    createdAt: now,
    createdBy: account.login,
  };
  account.contacts.set(contact.id, contact);
  return contact;
}

function field(params: Params, name: string): string {
  return optional(params, name) ?? "";
}

function inlineContact(params: Params, role: ContactRole, index: number): ContactData | undefined {
  const at = (name: string) => {
    // Indexed fields (`techfirstname0`) fall back to the bare name for the first contact.
    const own = optional(params, `${role}${name}${index}`);
    return own ?? (index === 0 ? field(params, `${role}${name}`) : "");
  };
  const data = emptyContact(role);
  if (role === "organization") {
    data.organizationName = field(params, "organizationname");
    data.organizationDba = field(params, "organizationdba");
    data.organizationStreet = field(params, "organizationstreet");
    data.organizationZip = field(params, "organizationzip");
    data.organizationCity = field(params, "organizationcity");
    data.organizationState = field(params, "organizationstate");
    data.organizationCountry = field(params, "organizationcountry").toUpperCase();
    data.organizationPhone = field(params, "organizationphone");
    data.organizationEmail = field(params, "organizationemail");
    data.email = data.organizationEmail;
    data.phone = data.organizationPhone;
  } else {
    data.firstName = at("firstname");
    data.lastName = at("lastname");
    data.phone = at("phone");
    data.email = at("email");
  }
  const given = Object.entries(data).some(([key, value]) => key !== "type" && value !== "");
  if (!given) {
    return undefined;
  }
  if (role !== "organization") {
    // One job title for every inline contact of the role (8.1.2 has no index on it).
    data.jobTitle = field(params, `${role}jobtitle`);
  }
  const suffix = role === "organization" ? "" : String(index);
  checkContactData(data, {
    firstName: `${role}firstname${suffix}`,
    lastName: `${role}lastname${suffix}`,
    email: role === "organization" ? "organizationemail" : `${role}email${suffix}`,
    phone: role === "organization" ? "organizationphone" : `${role}phone${suffix}`,
    organizationName: "organizationname",
    organizationStreet: "organizationstreet",
    organizationCity: "organizationcity",
    organizationCountry: "organizationcountry",
    organizationPhone: "organizationphone",
    organizationEmail: "organizationemail",
  });
  return data;
}

function referencedContact(
  account: AccountState,
  role: ContactRole,
  parameter: string,
  value: string,
): ContactRef {
  if (/^CC-\d+$/i.test(value)) {
    const id = value.toUpperCase();
    const contact = account.contacts.get(id);
    if (!contact) {
      throw fail.notFound("certificatecontact", id);
    }
    if (contact.type !== role) {
      throw fail.policy(`${parameter}: ${id} is a ${contact.type} contact, not a ${role} contact`);
    }
    return { existing: id };
  }
  if (isHandle(value)) {
    const upper = value.toUpperCase();
    return {
      create: contactFromHandles(
        role,
        upper.startsWith("P-") ? upper : undefined,
        upper.startsWith("O-") ? upper : undefined,
      ),
    };
  }
  throw fail.syntax(
    `${parameter}: "${value}" is neither a CertificateContact (CC-...) nor a P-/O-handle`,
  );
}

/**
 * Works out the contacts of an order (8.1.2) without creating any: per role the handles or ids
 * given (`techcontact0..1`, `organizationcontact`, `evapprovercontact0..1`), else inline data,
 * else `defaults` (a renewal keeps the renewed certificate's contacts). A MANDATORY role left
 * empty answers 504, a role the class takes NO contact for answers 541 when one is given, an
 * unknown `CC-` id 545.
 */
export function planContacts(
  account: AccountState,
  cls: CertificateClass,
  params: Params,
  defaults?: CertificateContacts,
): ContactPlan {
  const plan: ContactPlan = { tech: [], organization: [], evapprover: [] };
  for (const role of ROLES) {
    const refs: ContactRef[] = [];
    const handles = indexed(params, `${role}contact`).slice(0, MAX_PER_ROLE[role]);
    for (const { index, value } of handles) {
      refs.push(referencedContact(account, role, `${role}contact${index < 0 ? "" : index}`, value));
    }
    if (refs.length === 0) {
      const count = role === "tech" ? 2 : 1;
      for (let i = 0; i < count; i++) {
        const data = inlineContact(params, role, i);
        if (data) {
          refs.push({ create: data });
        }
      }
    }
    if (refs.length > 0 && !cls.contacts[role]) {
      throw fail.policy(`${role}contact: class ${cls.id} takes no ${role} contact`);
    }
    if (refs.length === 0 && cls.contacts[role]) {
      const fallback = defaults?.[role] ?? [];
      if (fallback.length === 0) {
        throw fail.missing(
          role === "organization" ? "organizationcontact" : `${role}contact0`,
          `class ${cls.id} requires a ${role} contact (a CC- id, a P-/O-handle or the contact's data)`,
        );
      }
      refs.push(...fallback.map(existing => ({ existing })));
    }
    plan[role] = refs;
  }
  return plan;
}

/** Creates the contacts a plan still needs and returns the ids by role. */
export function commitContacts(
  store: SandboxStore,
  account: AccountState,
  plan: ContactPlan,
  now: Date,
): CertificateContacts {
  const resolve = (refs: ContactRef[]) =>
    refs.map(ref =>
      "existing" in ref ? ref.existing : createContact(store, account, ref.create, now).id,
    );
  return {
    tech: resolve(plan.tech),
    organization: resolve(plan.organization),
    evapprover: resolve(plan.evapprover),
  };
}
