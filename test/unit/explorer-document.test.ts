import { parse, validate } from "graphql";
import { buildGatewaySchema } from "../../src/build-schema";
import { EXPLORER_DOCUMENT } from "../../src/explorer-document";

describe("EXPLORER_DOCUMENT", () => {
  it("is valid against the gateway's schema, so the explorer opens on runnable operations", async () => {
    const schema = await buildGatewaySchema();

    expect(validate(schema, parse(EXPLORER_DOCUMENT))).toEqual([]);
  });
});
