import {
  CORS_ALLOWED_HEADERS,
  corsHeaders,
  type CorsSettings,
  handlePreflight,
  isPreflight,
  originVerdict,
  parseCorsOrigins,
} from "../../src/cors";

const LISTED: CorsSettings = { origins: ["https://shop.example"], allowLoopback: false };
const DEVELOPMENT: CorsSettings = { origins: [], allowLoopback: true };
const PRODUCTION: CorsSettings = { origins: [], allowLoopback: false };

describe("corsHeaders", () => {
  it("allows a listed origin, with credentials", () => {
    expect(corsHeaders("https://shop.example", LISTED)).toEqual({
      vary: "Origin",
      "access-control-allow-origin": "https://shop.example",
      "access-control-allow-credentials": "true",
      "access-control-expose-headers": "retry-after, x-request-id, www-authenticate",
    });
  });

  it("gives an origin that is not listed nothing but Vary", () => {
    expect(corsHeaders("https://evil.example", LISTED)).toEqual({ vary: "Origin" });
    expect(corsHeaders("https://shop.example.evil.example", LISTED)).toEqual({ vary: "Origin" });
    expect(corsHeaders("http://shop.example", LISTED)).toEqual({ vary: "Origin" });
    expect(corsHeaders(undefined, LISTED)).toEqual({ vary: "Origin" });
    expect(corsHeaders("null", LISTED)).toEqual({ vary: "Origin" });
  });

  it("allows loopback origins in development, without credentials", () => {
    for (const origin of [
      "http://localhost:5173",
      "http://127.0.0.1:3000",
      "http://[::1]:8080",
      "https://localhost",
    ]) {
      const headers = corsHeaders(origin, DEVELOPMENT);

      expect(headers["access-control-allow-origin"]).toBe(origin);
      expect(headers).not.toHaveProperty("access-control-allow-credentials");
    }
    expect(originVerdict("http://localhost.evil.example", DEVELOPMENT)).toBe("denied");
  });

  it("allows no origin at all by default in production", () => {
    expect(corsHeaders("http://localhost:5173", PRODUCTION)).toEqual({ vary: "Origin" });
  });

  it("gives credentials to a listed loopback origin", () => {
    const settings: CorsSettings = { origins: ["http://localhost:5173"], allowLoopback: false };

    expect(originVerdict("http://localhost:5173", settings)).toBe("listed");
    expect(corsHeaders("http://localhost:5173", settings)["access-control-allow-credentials"]).toBe(
      "true",
    );
    expect(originVerdict("http://localhost:5174", settings)).toBe("denied");
  });
});

describe("handlePreflight", () => {
  it("answers 204 with methods, headers and max-age for an allowed origin", () => {
    const answer = handlePreflight("https://shop.example", "POST", LISTED);

    expect(answer.status).toBe(204);
    expect(answer.headers).toMatchObject({
      "access-control-allow-origin": "https://shop.example",
      "access-control-allow-methods": "GET, POST, OPTIONS",
      "access-control-allow-credentials": "true",
      "access-control-max-age": "600",
      vary: "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
    });
    const allowed = answer.headers["access-control-allow-headers"]?.split(", ");
    expect(allowed).toEqual(
      expect.arrayContaining([
        "content-type",
        "authorization",
        "x-request-id",
        "apollo-require-preflight",
        "x-apollo-operation-name",
        "idempotency-key",
      ]),
    );
    expect(allowed).toEqual([...CORS_ALLOWED_HEADERS]);
  });

  it("answers a development loopback preflight without credentials", () => {
    const answer = handlePreflight("http://localhost:3000", "get", DEVELOPMENT);

    expect(answer.status).toBe(204);
    expect(answer.headers).not.toHaveProperty("access-control-allow-credentials");
  });

  it("refuses an unknown origin or another method with 403 and no CORS headers", () => {
    for (const answer of [
      handlePreflight("https://evil.example", "POST", LISTED),
      handlePreflight("https://shop.example", "DELETE", LISTED),
      handlePreflight("https://shop.example", undefined, LISTED),
      handlePreflight(undefined, "POST", LISTED),
    ]) {
      expect(answer.status).toBe(403);
      expect(Object.keys(answer.headers)).toEqual(["vary"]);
    }
  });
});

describe("isPreflight", () => {
  it("recognises OPTIONS with Origin and Access-Control-Request-Method", () => {
    const headers = { origin: "https://shop.example", "access-control-request-method": "POST" };

    expect(isPreflight("OPTIONS", headers)).toBe(true);
    expect(isPreflight("options", headers)).toBe(true);
    expect(isPreflight("POST", headers)).toBe(false);
    expect(isPreflight("OPTIONS", { origin: "https://shop.example" })).toBe(false);
  });
});

describe("parseCorsOrigins", () => {
  it("reads exact origins, normalising case and a trailing slash, without duplicates", () => {
    expect(
      parseCorsOrigins("https://Shop.Example/, http://localhost:5173,https://shop.example"),
    ).toEqual({
      origins: ["https://shop.example", "http://localhost:5173"],
      problems: [],
    });
  });

  it.each([
    ["*", /"\*" is not accepted/],
    ["https://shop.example/app", /scheme:\/\/host\[:port\] only/],
    ["https://shop.example?x=1", /scheme:\/\/host\[:port\] only/],
    ["wss://shop.example", /scheme:\/\/host\[:port\] only/],
    ["https://user:pw@shop.example", /without path or credentials/],
    ["shop.example", /must be an origin like/],
    ["", /must be an origin like/],
  ])("refuses %j", (text, problem) => {
    expect(parseCorsOrigins(text).problems).toEqual([expect.stringMatching(problem)]);
  });
});
