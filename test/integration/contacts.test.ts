import {
  CertificateContactDocument,
  CertificateContactsDocument,
  CreateCertificateContactDocument,
  type CreateCertificateContactInput,
} from "../__generated__/graphql";
import { startTestGateway, type TestGateway } from "../helpers/gateway";

const ORGANIZATION = {
  name: "Example Corp",
  dba: "Example DBA",
  street: "Example Street 1",
  zip: "12345",
  city: "Exampletown",
  state: "EX",
  country: "DE",
  phone: "+49.301234567",
  email: "office@example.com",
};

describe("certificate contacts", () => {
  let gateway: TestGateway;

  beforeAll(async () => {
    gateway = await startTestGateway();
  });

  afterAll(async () => {
    await gateway.stop();
  });

  beforeEach(() => {
    gateway.sandbox.resetCalls();
  });

  async function create(input: CreateCertificateContactInput) {
    const result = await gateway.query(CreateCertificateContactDocument, { input });
    expect(result.errors).toBeUndefined();
    return result.data!.createCertificateContact;
  }

  it("creates a tech contact and answers it as the upstream stored it", async () => {
    const contact = await create({
      type: "TECH",
      firstName: "Max",
      lastName: "Mustermann",
      email: "max@example.org",
      phone: "+1.5552345678",
    });

    expect(contact).toMatchObject({
      id: expect.stringMatching(/^CC-/),
      type: "TECH",
      firstName: "Max",
      lastName: "Mustermann",
      email: "max@example.org",
      organization: null,
    });
    expect(contact.status).toEqual(expect.any(String));
    expect(gateway.sandbox.callsTo("AddCertificateContact")[0]?.params).toMatchObject({
      type: "tech",
      firstname: "Max",
    });
  });

  it("creates an organization contact with its organization", async () => {
    const contact = await create({
      type: "ORGANIZATION",
      firstName: "Erika",
      lastName: "Muster",
      email: "erika@example.com",
      phone: "+49.301234567",
      organization: ORGANIZATION,
    });

    expect(contact.type).toBe("ORGANIZATION");
    expect(contact.organization).toMatchObject({
      name: "Example Corp",
      city: "Exampletown",
      country: "DE",
    });
  });

  it("creates a contact from existing handles", async () => {
    const contact = await create({
      type: "ORGANIZATION",
      personHandle: "P-ABC123",
      organizationHandle: "O-ABC456",
    });

    expect(contact).toMatchObject({ id: expect.stringMatching(/^CC-/), type: "ORGANIZATION" });
    expect(gateway.sandbox.callsTo("AddCertificateContact")[0]?.params).toMatchObject({
      phandle: "P-ABC123",
      ohandle: "O-ABC456",
    });
  });

  it("refuses a new organization contact without its organization, without asking the upstream", async () => {
    const result = await gateway.query(CreateCertificateContactDocument, {
      input: { type: "ORGANIZATION", email: "c@example.com", phone: "+1.5550000003" },
    });

    expect(result.errors?.[0]?.extensions).toMatchObject({
      code: "BAD_USER_INPUT",
      field: "organization",
    });
    expect(gateway.sandbox.callsTo("AddCertificateContact")).toEqual([]);
  });

  it("refuses a new person without names, without asking the upstream", async () => {
    const result = await gateway.query(CreateCertificateContactDocument, {
      input: { type: "TECH", email: "max@example.org" },
    });

    expect(result.errors?.[0]?.extensions).toMatchObject({
      code: "BAD_USER_INPUT",
      field: "firstName",
    });
    expect(gateway.sandbox.callsTo("AddCertificateContact")).toEqual([]);
  });

  it("looks a contact up by id, and an unknown one as null", async () => {
    const { id } = await create({
      type: "EV_APPROVER",
      firstName: "Eva",
      lastName: "Approver",
      email: "eva@example.com",
      phone: "+49.301234568",
      jobTitle: "CFO",
    });

    const found = await gateway.query(CertificateContactDocument, { id });
    const unknown = await gateway.query(CertificateContactDocument, { id: "CC-00000000" });

    expect(found.data?.certificateContact).toMatchObject({
      id,
      type: "EV_APPROVER",
      jobTitle: "CFO",
    });
    expect(unknown.errors).toBeUndefined();
    expect(unknown.data?.certificateContact).toBeNull();
  });

  it("pages through contacts and filters them by type and email", async () => {
    await create({
      type: "TECH",
      firstName: "A",
      lastName: "One",
      email: "a@list.example",
      phone: "+1.5550000001",
    });
    await create({
      type: "TECH",
      firstName: "B",
      lastName: "Two",
      email: "b@list.example",
      phone: "+1.5550000002",
    });
    await create({
      type: "ORGANIZATION",
      email: "c@example.com",
      phone: "+1.5550000003",
      organization: ORGANIZATION,
    });
    gateway.sandbox.resetCalls();

    const page = await gateway.query(CertificateContactsDocument, { first: 2 });
    const organizations = await gateway.query(CertificateContactsDocument, {
      filter: { type: "ORGANIZATION" },
    });
    const byEmail = await gateway.query(CertificateContactsDocument, {
      filter: { email: "*@list.example" },
    });

    expect(page.data?.certificateContacts.nodes).toHaveLength(2);
    expect(page.data?.certificateContacts.pageInfo.hasNextPage).toBe(true);
    expect(
      organizations.data?.certificateContacts.nodes.every(c => c.type === "ORGANIZATION"),
    ).toBe(true);
    expect(byEmail.data?.certificateContacts.nodes.map(c => c.email).sort()).toEqual([
      "a@list.example",
      "b@list.example",
    ]);
    // The rows hold every field asked for: three lists, no StatusCertificateContact.
    expect(gateway.sandbox.calls.map(c => c.command)).toEqual([
      "QueryCertificateContactList",
      "QueryCertificateContactList",
      "QueryCertificateContactList",
    ]);
    expect(gateway.sandbox.calls.map(c => c.params.type ?? c.params.email ?? "")).toEqual([
      "",
      "organization",
      "*@list.example",
    ]);
  });
});
