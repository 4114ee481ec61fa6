import { buildSchema, type GraphQLError, parse, specifiedRules, validate } from "graphql";
import { createOperationGuardRule, type OperationGuardOptions } from "../../src/operation-guard";

// The mutation fields of the contract that the guard is about, with simplified arguments.
const schema = buildSchema(`
  type Certificate { id: ID! status: String }
  type CertificateOrder { id: ID! }
  type CertificateContact { id: ID! }
  type Query { certificate(id: ID!): Certificate }
  type Mutation {
    orderCertificate(domain: String!, idempotencyKey: String): Certificate!
    renewCertificate(id: ID!, idempotencyKey: String): Certificate!
    reissueCertificate(id: ID!, idempotencyKey: String): Certificate!
    revokeCertificate(id: ID!): Certificate!
    cancelCertificateOrder(id: ID!): CertificateOrder!
    revokeCertificateOrder(id: ID!): CertificateOrder!
    createCertificateContact(email: String!): CertificateContact!
  }
`);

function check(document: string, options?: OperationGuardOptions): readonly GraphQLError[] {
  return validate(schema, parse(document), [...specifiedRules, createOperationGuardRule(options)]);
}

function limitErrors(document: string, options?: OperationGuardOptions): readonly GraphQLError[] {
  return check(document, options).filter(error => error.extensions.code === "OPERATION_LIMIT");
}

describe("createOperationGuardRule", () => {
  it("accepts one order in an operation", () => {
    expect(check(`mutation { orderCertificate(domain: "example.com") { id } }`)).toEqual([]);
  });

  it("rejects two aliases of orderCertificate, naming them and the limit", () => {
    const errors = check(`
      mutation Twice {
        first: orderCertificate(domain: "example.com") { id }
        second: orderCertificate(domain: "example.com") { id }
      }
    `);

    expect(errors).toHaveLength(1);
    expect(errors[0]?.extensions).toEqual({
      code: "OPERATION_LIMIT",
      limit: 1,
      fields: ["orderCertificate", "orderCertificate"],
    });
    expect(errors[0]?.message).toBe(
      'Operation "Twice" selects 2 money-moving mutation fields (orderCertificate as "first", ' +
        'orderCertificate as "second"); at most 1 is allowed per operation. Send each in its own request.',
    );
    expect(errors[0]?.locations).toEqual([
      { line: 3, column: 9 },
      { line: 4, column: 9 },
    ]);
  });

  it("counts order, renew and reissue together", () => {
    expect(
      limitErrors(
        `mutation { orderCertificate(domain: "a.example") { id } renewCertificate(id: "DK1") { id } }`,
      ),
    ).toHaveLength(1);
    expect(
      limitErrors(
        `mutation { reissueCertificate(id: "DK1") { id } renewCertificate(id: "DK2") { id } }`,
      ),
    ).toHaveLength(1);
  });

  it("counts fields reached through fragments and inline fragments", () => {
    const spread = check(`
      mutation { ...Order ...Renew }
      fragment Order on Mutation { a: orderCertificate(domain: "a.example") { id } }
      fragment Renew on Mutation { renewCertificate(id: "DK1") { id } }
    `);
    const inline = check(`
      mutation {
        orderCertificate(domain: "a.example") { id }
        ... on Mutation { again: orderCertificate(domain: "b.example") { id } }
        ... { ... on Mutation { third: orderCertificate(domain: "c.example") { id } } }
      }
    `);

    expect(spread.map(e => e.extensions.code)).toEqual(["OPERATION_LIMIT"]);
    expect(inline.map(e => e.message)).toEqual([
      expect.stringContaining("selects 3 money-moving mutation fields"),
    ]);
  });

  it("counts selections that execute as one field once", () => {
    // Same response key, same arguments: graphql-js merges them and sends one order.
    const merged = check(`
      mutation {
        orderCertificate(domain: "a.example") { id }
        orderCertificate(domain: "a.example") { status }
        ...Order
        ...Order
      }
      fragment Order on Mutation { orderCertificate(domain: "a.example") { id } }
    `);

    expect(merged).toEqual([]);
  });

  it("allows one order and one revoke in the same operation: each category has its own limit", () => {
    expect(
      check(
        `mutation { orderCertificate(domain: "a.example") { id } revokeCertificate(id: "DK1") { id } }`,
      ),
    ).toEqual([]);
  });

  it("allows at most one revoke or cancel per operation", () => {
    const errors = check(`
      mutation { revokeCertificate(id: "DK1") { id } cancelCertificateOrder(id: "DK2") { id } }
    `);

    expect(errors.map(e => e.message)).toEqual([
      expect.stringContaining(
        "selects 2 revoke/cancel mutation fields (revokeCertificate, cancelCertificateOrder)",
      ),
    ]);
  });

  it("leaves queries and other mutations alone", () => {
    expect(
      check(`{ a: certificate(id: "DK1") { id } b: certificate(id: "DK2") { id } }`, {
        moneyFields: ["certificate"],
      }),
    ).toEqual([]);
    expect(
      check(
        `mutation { a: createCertificateContact(email: "a@example.com") { id } b: createCertificateContact(email: "b@example.com") { id } }`,
      ),
    ).toEqual([]);
  });

  it("counts each operation of a document on its own", () => {
    const errors = check(`
      mutation One { orderCertificate(domain: "a.example") { id } }
      mutation Two { orderCertificate(domain: "b.example") { id } }
      mutation Both { a: orderCertificate(domain: "a.example") { id } b: renewCertificate(id: "DK1") { id } }
    `);

    expect(errors.map(e => e.message)).toEqual([
      expect.stringMatching(/^Operation "Both" selects 2/),
    ]);
  });

  it("takes the limited fields from its options", () => {
    const errors = limitErrors(
      `mutation { a: createCertificateContact(email: "a@example.com") { id } b: createCertificateContact(email: "b@example.com") { id } }`,
      { moneyFields: ["createCertificateContact"] },
    );

    expect(errors).toHaveLength(1);
  });

  it("terminates on fragment cycles, which another rule reports", () => {
    const errors = check(`
      mutation { ...Loop }
      fragment Loop on Mutation {
        ...Loop
        a: orderCertificate(domain: "a.example") { id }
        b: orderCertificate(domain: "b.example") { id }
      }
    `);

    expect(errors.map(e => e.extensions.code ?? "OTHER").sort()).toEqual([
      "OPERATION_LIMIT",
      "OTHER",
    ]);
  });
});
