import { GraphQLError, GraphQLScalarType, Kind, type ValueNode } from "graphql";

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;

function fromText(text: string): Date {
  const date = new Date(text);
  if (!ISO_INSTANT.test(text) || Number.isNaN(date.getTime())) {
    throw new GraphQLError(
      `DateTime must be an ISO-8601 instant with a time zone, e.g. 2022-06-27T13:05:54.000Z`,
    );
  }
  return date;
}

/** `DateTime`: a `Date` inside, an ISO-8601 string in UTC (`toISOString`) on the wire. */
export const DateTimeScalar = new GraphQLScalarType<Date, string>({
  name: "DateTime",
  description: "An instant in UTC, ISO-8601, e.g. 2022-06-27T13:05:54.000Z",
  serialize(value: unknown): string {
    const date = value instanceof Date ? value : typeof value === "string" ? fromText(value) : null;
    if (date === null || Number.isNaN(date.getTime())) {
      throw new GraphQLError("DateTime cannot represent this value");
    }
    return date.toISOString();
  },
  parseValue(value: unknown): Date {
    if (typeof value !== "string") {
      throw new GraphQLError("DateTime must be a string");
    }
    return fromText(value);
  },
  parseLiteral(ast: ValueNode): Date {
    if (ast.kind !== Kind.STRING) {
      throw new GraphQLError("DateTime must be a string", { nodes: ast });
    }
    return fromText(ast.value);
  },
});
