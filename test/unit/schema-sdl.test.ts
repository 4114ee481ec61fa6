import { readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  buildSchema,
  findBreakingChanges,
  type GraphQLSchema,
  isEnumType,
  isInputObjectType,
  isObjectType,
  isScalarType,
} from "graphql";
import { buildGatewaySchema, printGatewaySchema } from "../../src/build-schema";

const COMMITTED = path.join(__dirname, "../../schema/schema.graphql");
const CONTRACT = path.join(__dirname, "../../../shared/docs/api-contract.graphql");

describe("schema/schema.graphql", () => {
  let schema: GraphQLSchema;

  beforeAll(async () => {
    schema = await buildGatewaySchema();
  });

  it("equals the SDL the decorated classes emit", () => {
    const emitted = path.join(tmpdir(), `schema-${process.pid}.graphql`);
    writeFileSync(emitted, printGatewaySchema(schema), "utf8");

    const fresh = readFileSync(emitted, "utf8");
    const committed = readFileSync(COMMITTED, "utf8");

    if (fresh !== committed) {
      throw new Error("schema/schema.graphql is stale: run npm run schema:emit and commit it");
    }
  });

  it("is a compatible superset of the public contract", () => {
    const contract = buildSchema(readFileSync(CONTRACT, "utf8"));
    const committed = buildSchema(readFileSync(COMMITTED, "utf8"));

    expect(findBreakingChanges(contract, schema)).toEqual([]);
    expect(findBreakingChanges(contract, committed)).toEqual([]);
  });

  it("describes every type of its own", () => {
    const undescribed = Object.values(schema.getTypeMap())
      .filter(type => !type.name.startsWith("__"))
      .filter(type => !["String", "Boolean", "Int", "Float", "ID"].includes(type.name))
      .filter(
        type =>
          isObjectType(type) || isEnumType(type) || isInputObjectType(type) || isScalarType(type),
      )
      .filter(type => !["Query", "Mutation", "Subscription"].includes(type.name))
      .filter(type => !type.description)
      .map(type => type.name);

    expect(undescribed).toEqual([]);
  });

  it("describes every root field", () => {
    const fields = [
      ...Object.values(schema.getQueryType()?.getFields() ?? {}),
      ...Object.values(schema.getMutationType()?.getFields() ?? {}),
      ...Object.values(schema.getSubscriptionType()?.getFields() ?? {}),
    ];

    expect(fields.filter(field => !field.description).map(field => field.name)).toEqual([]);
  });
});
