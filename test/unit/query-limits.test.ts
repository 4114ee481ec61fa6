import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ApolloServer } from "@apollo/server";
import {
  buildSchema,
  type GraphQLFormattedError,
  Kind,
  parse,
  specifiedRules,
  validate,
} from "graphql";
import { createFormatError } from "../../src/errors";
import {
  analyzeOperation,
  checkBatchSize,
  createCostLimitPlugin,
  createQueryLimitRules,
  estimateCost,
  QUERY_LIMIT_CODES,
  QUERY_LIMIT_DEFAULTS,
  QueryLimitError,
  withTokenLimitCode,
} from "../../src/query-limits";

const typeDefs = `
  type Query {
    certificates(first: Int = 20, after: String): CertificateConnection!
    certificate(id: ID!): Certificate
    certificateClasses: [CertificateClass!]!
    tags: [String!]!
  }
  type Mutation { revokeCertificate(id: ID!): Certificate! }
  type CertificateConnection {
    totalCount: Int!
    edges: [CertificateEdge!]!
    nodes: [Certificate!]!
  }
  type CertificateEdge { cursor: String! node: Certificate! }
  type Certificate {
    id: ID!
    domains: [String!]!
    class: CertificateClass!
    order: CertificateOrder!
  }
  type CertificateOrder { id: ID! certificates: [Certificate!]! }
  type CertificateClass { name: ID! }
`;
const schema = buildSchema(typeDefs);

function errorsOf(query: string, rules = createQueryLimitRules()) {
  return validate(schema, parse(query), rules);
}

function cost(query: string, variables?: Record<string, unknown>, operationName?: string) {
  return estimateCost(parse(query), operationName, variables, schema);
}

describe("createQueryLimitRules depth", () => {
  const deep = (levels: number): string =>
    `{ certificate(id: "1") ${"{ order { certificates ".repeat(levels)}{ id }${" } }".repeat(levels)} }`;

  it("accepts an operation as deep as the limit", () => {
    // certificate(1) + 2 per level + id(1): 5 levels are 12 deep.
    expect(errorsOf(deep(5))).toEqual([]);
  });

  it("refuses a deeper one with QUERY_DEPTH_LIMIT", () => {
    const [error, ...rest] = errorsOf(deep(6));

    expect(rest).toEqual([]);
    expect(error).toBeInstanceOf(QueryLimitError);
    expect(error?.extensions).toMatchObject({ code: "QUERY_DEPTH_LIMIT", limit: 12, actual: 14 });
    expect(error?.message).toMatch(/14 levels deep; at most 12/);
  });

  it("follows fragments and inline fragments", () => {
    const query = `
      query { certificate(id: "1") { ...A } }
      fragment A on Certificate { order { ... on CertificateOrder { certificates { ...B } } } }
      fragment B on Certificate { class { name } }
    `;

    expect(errorsOf(query, createQueryLimitRules({ maxDepth: 5 }))).toEqual([]);
    expect(errorsOf(query, createQueryLimitRules({ maxDepth: 4 }))[0]?.extensions.actual).toBe(5);
  });

  it("does not count introspection", () => {
    const query =
      "{ __schema { types { fields { type { ofType { ofType { ofType { name } } } } } } } }";

    expect(errorsOf(query, [...createQueryLimitRules({ maxDepth: 1 })])).toEqual([]);
  });

  it("survives fragment cycles (graphql-js reports them)", () => {
    const query = `{ certificate(id: "1") { ...A } }
      fragment A on Certificate { order { certificates { ...A } } }`;

    const errors = validate(schema, parse(query), [...specifiedRules, ...createQueryLimitRules()]);

    expect(errors.map(e => e.message)).toEqual([
      expect.stringMatching(/Cannot spread fragment "A"/),
    ]);
  });
});

describe("createQueryLimitRules aliases and directives", () => {
  it("refuses more aliases than allowed with ALIAS_LIMIT", () => {
    const aliases = Array.from({ length: 4 }, (_, i) => `a${i}: tags`).join(" ");

    expect(errorsOf(`{ ${aliases} }`, createQueryLimitRules({ maxAliases: 4 }))).toEqual([]);
    expect(
      errorsOf(`{ ${aliases} }`, createQueryLimitRules({ maxAliases: 3 }))[0]?.extensions,
    ).toMatchObject({
      code: "ALIAS_LIMIT",
      limit: 3,
      actual: 4,
    });
  });

  it("refuses more directives than allowed with DIRECTIVE_LIMIT", () => {
    const query = "query($s: Boolean!) { tags @skip(if: $s) a: tags @include(if: $s) }";

    expect(errorsOf(query, createQueryLimitRules({ maxDirectives: 2 }))).toEqual([]);
    expect(
      errorsOf(query, createQueryLimitRules({ maxDirectives: 1 }))[0]?.extensions,
    ).toMatchObject({
      code: "DIRECTIVE_LIMIT",
      actual: 2,
    });
  });

  it("refuses a literal first outside the page size as the resolvers do", () => {
    expect(errorsOf("{ certificates(first: 100) { totalCount } }")).toEqual([]);
    expect(errorsOf("{ certificates(first: 101) { totalCount } }")[0]?.extensions).toMatchObject({
      code: "BAD_USER_INPUT",
      field: "first",
      rule: "PAGE_SIZE_OUT_OF_RANGE",
      limit: 100,
      actual: 101,
    });
    expect(errorsOf("{ certificates(first: -1) { totalCount } }")[0]?.extensions.code).toBe(
      "BAD_USER_INPUT",
    );
  });
});

describe("estimateCost", () => {
  it("counts every field once", () => {
    expect(cost('{ certificate(id: "1") { id domains class { name } } }')).toBe(5);
  });

  it("multiplies a connection's nodes and edges by first", () => {
    expect(cost("{ certificates(first: 10) { totalCount nodes { id } } }")).toBe(1 + 1 + (1 + 10));
    expect(cost("{ certificates(first: 10) { edges { cursor node { id } } } }")).toBe(
      1 + (1 + 10 * (1 + 2)),
    );
  });

  it("takes first from variables and from the schema's default", () => {
    const query = "query($n: Int) { certificates(first: $n) { nodes { id } } }";

    expect(cost(query, { n: 50 })).toBe(1 + 1 + 50);
    expect(cost(query, {})).toBe(1 + 1 + 20);
    expect(cost("{ certificates { nodes { id } } }")).toBe(1 + 1 + 20);
  });

  it("multiplies nested lists (an order's certificates count as 10 each)", () => {
    const query = "{ certificates(first: 100) { nodes { order { certificates { id } } } } }";

    // certificates 1 + nodes (1 + 100 * order (1 + certificates (1 + 10 * id)))
    expect(cost(query)).toBe(1 + 1 + 100 * (1 + 1 + 10));
  });

  it("counts lists of scalars as one field and ignores introspection", () => {
    expect(cost("{ tags __typename }")).toBe(1);
  });

  it("counts each fragment spread, and follows inline fragments", () => {
    const query = `
      query { a: certificate(id: "1") { ...F } b: certificate(id: "2") { ... on Certificate { ...F } } }
      fragment F on Certificate { id class { name } }
    `;

    expect(cost(query)).toBe(2 * (1 + 3));
  });

  it("stays fast on documents whose fragments fan out exponentially", () => {
    const levels = 30;
    const fragments = Array.from(
      { length: levels },
      (_, i) =>
        `fragment F${i} on Certificate { a: order { certificates { ...F${i + 1} } } b: order { certificates { ...F${i + 1} } } }`,
    ).join("\n");
    const query = `{ certificate(id: "1") { ...F0 } }\n${fragments}\nfragment F${levels} on Certificate { id }`;

    const started = Date.now();
    const value = cost(query);

    expect(Date.now() - started).toBeLessThan(1000);
    expect(value).toBeGreaterThan(QUERY_LIMIT_DEFAULTS.maxCost);
  });

  it("picks the named operation and counts 0 for an unknown one", () => {
    const query = 'query A { tags } query B { certificate(id: "1") { id } }';

    expect(cost(query, undefined, "B")).toBe(2);
    expect(cost(query, undefined, "C")).toBe(0);
    expect(cost(query)).toBe(0);
  });

  it("treats a negative first as an empty page", () => {
    expect(cost("{ certificates(first: -5) { nodes { id } } }")).toBe(2);
  });
});

describe("analyzeOperation", () => {
  const query = "query($n: Int) { certificates(first: $n) { totalCount } }";

  it("reports explicit first values outside the page size", () => {
    expect(
      analyzeOperation(parse(query), undefined, { n: 500 }, schema).pageSizeViolations,
    ).toEqual([500]);
    expect(analyzeOperation(parse(query), undefined, { n: -1 }, schema).pageSizeViolations).toEqual(
      [-1],
    );
  });

  it("clamps a left-out first to a smaller page size, as the resolvers do", () => {
    const analysis = analyzeOperation(
      parse("{ certificates { nodes { id } } }"),
      undefined,
      {},
      schema,
      { maxPageSize: 5 },
    );

    expect(analysis).toEqual({ cost: 1 + 1 + 5, pageSizeViolations: [] });
  });

  it("ignores variables of the wrong type (execution refuses them)", () => {
    expect(analyzeOperation(parse(query), undefined, { n: "many" }, schema)).toEqual({
      cost: 2,
      pageSizeViolations: [],
    });
  });
});

describe("createCostLimitPlugin", () => {
  async function run(
    query: string,
    variables: Record<string, unknown> = {},
    options: Parameters<typeof createCostLimitPlugin>[0] = {},
  ) {
    const server = new ApolloServer({
      typeDefs,
      resolvers: {
        Query: {
          certificates: () => ({ totalCount: 0, edges: [], nodes: [] }),
          tags: () => ["a"],
        },
      },
      plugins: [createCostLimitPlugin(options)],
    });
    await server.start();
    try {
      const response = await server.executeOperation({ query, variables });
      const result = response.body.kind === "single" ? response.body.singleResult : undefined;
      return { status: response.http.status, result };
    } finally {
      await server.stop();
    }
  }

  it("refuses an operation over the cost limit with 400 COST_LIMIT, before executing", async () => {
    const { status, result } = await run(
      "query($n: Int) { certificates(first: $n) { nodes { id domains } } }",
      { n: 100 },
      { maxCost: 100 },
    );

    expect(status).toBe(400);
    expect(result?.data).toBeUndefined();
    expect(result?.errors).toEqual([
      expect.objectContaining({
        extensions: { code: "COST_LIMIT", limit: 100, actual: 202, cost: 202 },
      }),
    ]);
  });

  it("refuses first from a variable above the page size with 400 BAD_USER_INPUT", async () => {
    const { status, result } = await run(
      "query($n: Int) { certificates(first: $n) { totalCount } }",
      { n: 1000 },
    );

    expect(status).toBe(400);
    expect(result?.errors?.[0]?.extensions).toMatchObject({
      code: "BAD_USER_INPUT",
      rule: "PAGE_SIZE_OUT_OF_RANGE",
      actual: 1000,
    });
  });

  it("lets an operation within the limits run", async () => {
    const { status, result } = await run("{ certificates(first: 100) { totalCount } tags }");

    expect(status).toBeUndefined();
    expect(result).toEqual({ data: { certificates: { totalCount: 0 }, tags: ["a"] } });
  });
});

describe("Apollo with the limits", () => {
  async function run(query: string) {
    const formatError = createFormatError(false);
    const server = new ApolloServer({
      typeDefs,
      resolvers: { Query: { tags: () => ["a"] } },
      parseOptions: { maxTokens: 20 },
      validationRules: createQueryLimitRules({ maxDepth: 3 }),
      formatError: (formatted: GraphQLFormattedError, error: unknown) =>
        withTokenLimitCode(formatError(formatted, error)),
    });
    await server.start();
    try {
      const response = await server.executeOperation({ query });
      const result = response.body.kind === "single" ? response.body.singleResult : undefined;
      return { status: response.http.status, errors: result?.errors };
    } finally {
      await server.stop();
    }
  }

  it("answers a document over the token limit with 400, never 500", async () => {
    const { status, errors } = await run(
      `{ ${Array.from({ length: 30 }, () => "tags").join(" ")} }`,
    );

    expect(status).toBe(400);
    expect(errors).toEqual([
      expect.objectContaining({
        message: expect.stringMatching(/Document contains more tha[nt] 20 tokens/),
        extensions: { code: "TOKEN_LIMIT" },
      }),
    ]);
  });

  it("keeps an ordinary syntax error GRAPHQL_PARSE_FAILED", async () => {
    const { status, errors } = await run("{ tags ");

    expect(status).toBe(400);
    expect(errors?.[0]?.extensions?.code).toBe("GRAPHQL_PARSE_FAILED");
  });

  it("answers a rule's violation with 400 and the rule's own code", async () => {
    const { status, errors } = await run(
      '{ certificate(id: "1") { order { certificates { id } } } }',
    );

    expect(status).toBe(400);
    expect(errors?.[0]?.extensions?.code).toBe("QUERY_DEPTH_LIMIT");
  });
});

describe("checkBatchSize", () => {
  it("lets a single operation through", () => {
    expect(checkBatchSize({ query: "{ tags }" })).toBeUndefined();
    expect(checkBatchSize("text")).toBeUndefined();
  });

  it("refuses any batch by default with 400 BATCH_LIMIT", () => {
    const error = checkBatchSize([{ query: "{ tags }" }]);

    expect(error?.extensions).toMatchObject({
      code: "BATCH_LIMIT",
      limit: 1,
      http: { status: 400 },
    });
  });

  it("refuses batches above a configured size", () => {
    expect(checkBatchSize([{}, {}], 2)).toBeUndefined();
    expect(checkBatchSize([{}, {}, {}], 2)?.extensions).toMatchObject({ limit: 2, actual: 3 });
  });
});

describe("withTokenLimitCode", () => {
  it("changes only the parser's token-limit error", () => {
    const tokens = {
      message: "Syntax Error: Document contains more that 5 tokens. Parsing aborted.",
      extensions: { code: "GRAPHQL_PARSE_FAILED" },
    };
    const other = {
      message: "Syntax Error: Expected Name",
      extensions: { code: "GRAPHQL_PARSE_FAILED" },
    };

    expect(withTokenLimitCode(tokens).extensions?.code).toBe(QUERY_LIMIT_CODES.tokens);
    expect(withTokenLimitCode(other)).toBe(other);
  });
});

describe("the defaults against the gateway's schema", () => {
  const root = join(__dirname, "../..");
  const gatewaySchema = buildSchema(readFileSync(join(root, "schema/schema.graphql"), "utf8"));
  const fragments = readFileSync(join(root, "test/operations/fragments.graphql"), "utf8");
  const files = readdirSync(join(root, "test/operations")).filter(
    name => name.endsWith(".graphql") && name !== "fragments.graphql",
  );

  it.each(files)("accept the example operation %s at the largest page", file => {
    const text = `${readFileSync(join(root, "test/operations", file), "utf8")}\n${fragments}`;
    const document = parse(text, { maxTokens: QUERY_LIMIT_DEFAULTS.maxTokens });
    const limitErrors = validate(gatewaySchema, document, createQueryLimitRules());

    expect(limitErrors).toEqual([]);
    for (const definition of document.definitions) {
      if (definition.kind === Kind.OPERATION_DEFINITION) {
        const analysis = analyzeOperation(
          document,
          definition.name?.value,
          { first: QUERY_LIMIT_DEFAULTS.maxPageSize },
          gatewaySchema,
        );
        expect(analysis.pageSizeViolations).toEqual([]);
        expect(analysis.cost).toBeLessThanOrEqual(QUERY_LIMIT_DEFAULTS.maxCost);
      }
    }
  });
});
