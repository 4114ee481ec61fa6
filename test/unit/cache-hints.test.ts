import {
  type ConstDirectiveNode,
  type GraphQLSchema,
  isObjectType,
  valueFromASTUntyped,
} from "graphql";
import { CACHE_HINT_SECONDS } from "../../schema/cache-control.directive";
import { buildGatewaySchema } from "../../src/build-schema";
import { CACHE_TTL_MS } from "../../src/cache-policy";

type Hint = { maxAge?: number; scope?: string; inheritMaxAge?: boolean };

function hintOf(node: {
  astNode?: { directives?: readonly ConstDirectiveNode[] } | null;
}): Hint | undefined {
  const directive = node.astNode?.directives?.find(d => d.name.value === "cacheControl");
  if (!directive) {
    return undefined;
  }
  return Object.fromEntries(
    (directive.arguments ?? []).map(arg => [arg.name.value, valueFromASTUntyped(arg.value)]),
  );
}

describe("@cacheControl hints", () => {
  let schema: GraphQLSchema;

  beforeAll(async () => {
    schema = await buildGatewaySchema();
  });

  it("marks every mutation no-store (maxAge 0)", () => {
    const mutations = Object.values(schema.getMutationType()!.getFields());

    expect(mutations.length).toBeGreaterThan(0);
    expect(mutations.filter(field => hintOf(field)?.maxAge !== 0).map(f => f.name)).toEqual([]);
  });

  it("makes only the catalogue public", () => {
    const hints = Object.values(schema.getTypeMap())
      .filter(isObjectType)
      .flatMap(type => [
        [type.name, hintOf(type)] as const,
        ...Object.values(type.getFields()).map(f => [`${type.name}.${f.name}`, hintOf(f)] as const),
      ]);

    expect(hints.filter(([, hint]) => hint?.scope === "PUBLIC").map(([name]) => name)).toEqual([
      "CertificateClass",
    ]);
  });

  it("keeps account data private", () => {
    for (const name of ["Certificate", "CertificateOrder", "CertificateContact"]) {
      expect(hintOf(schema.getType(name)!)).toMatchObject({ scope: "PRIVATE" });
    }
    for (const name of ["certificates", "certificateOrders", "certificateContacts"]) {
      expect(hintOf(schema.getQueryType()!.getFields()[name]!)).toMatchObject({
        scope: "PRIVATE",
      });
    }
  });

  it("never lets HTTP caches keep anything longer than the gateway's own store does", () => {
    expect(CACHE_HINT_SECONDS.catalog * 1000).toBeLessThanOrEqual(CACHE_TTL_MS.catalog);
    expect(CACHE_HINT_SECONDS.record * 1000).toBeLessThanOrEqual(CACHE_TTL_MS.changing);
    expect(CACHE_HINT_SECONDS.contact * 1000).toBeLessThanOrEqual(CACHE_TTL_MS.contactUnverified);
    expect(CACHE_HINT_SECONDS.list * 1000).toBeLessThanOrEqual(CACHE_TTL_MS.list);
  });
});
