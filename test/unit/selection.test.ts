import { buildSchema, execute, type GraphQLResolveInfo, parse } from "graphql";
import { selectedFieldNames } from "../../resolvers/selection";

const schema = buildSchema(`
  type Contact { email: String }
  type Certificate { id: ID!, status: String, techContact: Contact, organizationContact: Contact }
  type Edge { node: Certificate! }
  type Connection { nodes: [Certificate!]!, edges: [Edge!]!, totalCount: Int! }
  type Query { certificates: Connection!, certificate: Certificate }
`);

/** The names `selectedFieldNames` finds at `paths` below the root field of `query`. */
function namesIn(query: string, paths: string[][]): string[] {
  let seen: Set<string> | undefined;
  // Functions on the root value are called with (args, context, info).
  const capture = (_: unknown, __: unknown, info: GraphQLResolveInfo) => {
    seen = selectedFieldNames(info, paths);
    return null;
  };
  const result = execute({
    schema,
    document: parse(query),
    rootValue: { certificates: capture, certificate: capture },
  });
  expect(result).toBeDefined();
  return [...(seen ?? new Set<string>())].sort();
}

describe("selectedFieldNames", () => {
  it("reads both shapes of a connection, through aliases", () => {
    const names = namesIn(
      `{ certificates { totalCount nodes { id } edges { node { t: techContact { email } } } } }`,
      [["nodes"], ["edges", "node"]],
    );
    expect(names).toEqual(["id", "techContact"]);
  });

  it("follows named and inline fragments, each named fragment once", () => {
    const names = namesIn(
      `query {
        certificates { nodes { ...A ... on Certificate { organizationContact { email } } } }
      }
      fragment A on Certificate { status ...B }
      fragment B on Certificate { techContact { email } ...A }`,
      [["nodes"]],
    );
    expect(names).toEqual(["organizationContact", "status", "techContact"]);
  });

  it("names the fields directly below the field with an empty path, and nothing for a missing one", () => {
    expect(namesIn(`{ certificate { id techContact { email } } }`, [[]])).toEqual([
      "id",
      "techContact",
    ]);
    expect(namesIn(`{ certificates { totalCount } }`, [["nodes"]])).toEqual([]);
  });
});
