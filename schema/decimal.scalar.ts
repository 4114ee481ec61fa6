import { GraphQLError, GraphQLScalarType, Kind, type ValueNode } from "graphql";

const DECIMAL = /^-?\d+(\.\d+)?$/;

function fromText(text: string): string {
  if (!DECIMAL.test(text)) {
    throw new GraphQLError('Decimal must be a decimal number written as a string, e.g. "6.72"');
  }
  return text;
}

/** `Decimal`: an exact amount kept as its decimal text, never a binary float. */
export const DecimalScalar = new GraphQLScalarType<string, string>({
  name: "Decimal",
  description: 'An exact decimal number written as a string, e.g. "6.72"; money amounts use it',
  serialize(value: unknown): string {
    if (typeof value === "string") {
      return fromText(value);
    }
    if (typeof value === "number" && Number.isFinite(value)) {
      return fromText(String(value));
    }
    throw new GraphQLError("Decimal cannot represent this value");
  },
  parseValue(value: unknown): string {
    if (typeof value !== "string") {
      throw new GraphQLError("Decimal must be a string");
    }
    return fromText(value);
  },
  parseLiteral(ast: ValueNode): string {
    if (ast.kind !== Kind.STRING) {
      throw new GraphQLError("Decimal must be a string", { nodes: ast });
    }
    return fromText(ast.value);
  },
});
