import { request } from "undici";
import { GatewayErrorCode } from "../../src/errors";
import { startTestGateway, type TestGateway } from "../helpers/gateway";
import { makeCsr } from "../helpers/pki";

/**
 * Random and malformed requests against the public surface, from a seeded generator (the same
 * cases on every run; change SEED to explore others). Every answer must be an HTTP error (4xx) or
 * a GraphQL answer whose errors carry a known `extensions.code`, never a 5xx, an
 * INTERNAL_SERVER_ERROR or a trace of the gateway's insides.
 */
const SEED = 0x5eed_2026;
const CASES = 420;
const KEY = "fuzz-key-0123456789abcdef";
const AUTH = { authorization: `Bearer ${KEY}` };
const MAX_BODY_BYTES = 2 * 1024 * 1024;

/** mulberry32: a small seeded PRNG with uniform output in [0, 1). */
function prng(seed: number) {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (max: number): number => Math.floor(next() * max);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  const bytes = (length: number): Buffer => {
    const buffer = Buffer.alloc(length);
    for (let i = 0; i < length; i++) {
      buffer[i] = int(256);
    }
    return buffer;
  };
  return { next, int, pick, bytes };
}

type Random = ReturnType<typeof prng>;

const NASTY_STRINGS = [
  "",
  " ",
  "\u0000",
  "\u0000\u0001\u0002\u001f\u007f",
  "\r\nCOMMAND=DeleteCertificate\r\nCERTIFICATE=DK1",
  "x\nS_PW=stolen",
  "%00%0d%0a",
  "*",
  "?",
  "DK*",
  "' OR 1=1 --",
  '"; DROP TABLE certificates; --',
  "<script>alert(1)</script>",
  "${process.exit(1)}",
  "{{7*7}}",
  "../../../../etc/passwd",
  "\ud800",
  "\udfff\ud800",
  "\u202e\u200b\ufeff",
  "💥🔥",
  "Ωmega.example.com",
  "-----BEGIN CERTIFICATE REQUEST-----\n!!!!\n-----END CERTIFICATE REQUEST-----",
  "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----",
  "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
  "b2Zmc2V0Oi0x",
  "b2Zmc2V0Ojk5OTk5OTk5OTk5OTk5OTk5OTk5",
  "b2Zmc2V0OjEuNQ==",
  "=",
  "NaN",
  "-1",
  "1e309",
  "__proto__",
  "constructor",
  "toString",
  "ACTIVE",
  "active",
  "ssl123dv",
  "*.*.example.com",
  "a".repeat(300) + ".example.com",
];

function junkString(random: Random): string {
  switch (random.int(5)) {
    case 0:
      return random.pick(NASTY_STRINGS);
    case 1:
      return random.bytes(random.int(200)).toString("latin1");
    case 2:
      // Random code points, including control characters and lone surrogates.
      return String.fromCharCode(
        ...Array.from({ length: random.int(64) }, () => random.int(0xffff)),
      );
    case 3:
      return random.pick(NASTY_STRINGS).repeat(1 + random.int(2000));
    default:
      return `${random.pick(NASTY_STRINGS)}${random.bytes(16).toString("base64")}`;
  }
}

function junkValue(random: Random, depth = 0): unknown {
  switch (random.int(depth > 2 ? 7 : 9)) {
    case 0:
      return null;
    case 1:
      return random.next() < 0.5;
    case 2:
      return random.pick([0, -1, 1.5, 2 ** 31, 2 ** 53 + 1, -(2 ** 63), 1e308, -0]);
    case 3:
    case 4:
    case 5:
      return junkString(random);
    case 6:
      return random.int(1000);
    case 7:
      return Array.from({ length: random.int(5) }, () => junkValue(random, depth + 1));
    default:
      return Object.fromEntries(
        Array.from({ length: random.int(5) }, () => [
          random.pick(["id", "csr", "class", "domains", "__proto__", "query", junkString(random)]),
          junkValue(random, depth + 1),
        ]),
      );
  }
}

const TOKENS = [
  "{",
  "}",
  "(",
  ")",
  "[",
  "]",
  ":",
  "!",
  "=",
  "$",
  "$id",
  "...",
  "@",
  "@include",
  "@skip(if: true)",
  "|",
  "&",
  "query",
  "mutation",
  "subscription",
  "fragment",
  "on",
  "Certificate",
  "certificate",
  "certificates",
  "orderCertificate",
  "revokeCertificate",
  "certificateClasses",
  "__schema",
  "__typename",
  "id",
  "status",
  "edges",
  "node",
  "first",
  "after",
  "input",
  "true",
  "null",
  "-1",
  "1e400",
  "0x10",
  '"str"',
  '"""block"""',
  '"unterminated',
  "#comment\n",
  "\u0000",
  ",",
  "\n",
  "\t",
];

function tokenSoup(random: Random): string {
  return Array.from({ length: 1 + random.int(80) }, () => random.pick(TOKENS)).join(" ");
}

const TECH = {
  firstName: "Max",
  lastName: "Mustermann",
  email: "max@example.org",
  phone: "+1.5552345678",
};

/** A valid operation, and the paths into its variables the fuzzer fills with junk. */
interface FuzzOperation {
  readonly query: string;
  readonly variables: Record<string, unknown>;
  readonly fields: readonly (readonly (string | number)[])[];
}

/** Valid operations whose variables the fuzzer replaces, fully or one field at a time. */
function operations(csr: string): FuzzOperation[] {
  const order = {
    class: "ssl123dv",
    domains: ["fuzz.example.com"],
    csr,
    dcvMethod: "DNS_TXT",
    techContact: TECH,
  };
  return [
    {
      query: "query Q($id: ID!) { certificate(id: $id) { id status domains } }",
      variables: { id: "DK00000001" },
      fields: [["id"]],
    },
    {
      query:
        "query Q($first: Int, $after: String, $filter: CertificateFilter) { certificates(first: $first, after: $after, filter: $filter) { totalCount edges { cursor node { id } } } }",
      variables: { first: 2, after: null, filter: { status: "ACTIVE", class: "ssl123dv" } },
      fields: [["first"], ["after"], ["filter"], ["filter", "status"], ["filter", "class"]],
    },
    {
      query:
        "query Q($after: String, $filter: CertificateContactFilter) { certificateContacts(first: 2, after: $after, filter: $filter) { totalCount } }",
      variables: { after: null, filter: { type: "TECH" } },
      fields: [["after"], ["filter", "type"], ["filter", "email"]],
    },
    {
      query: "query Q($id: ID!) { certificateOrder(id: $id) { id status } }",
      variables: { id: "O-1" },
      fields: [["id"]],
    },
    {
      query: "query Q($id: ID!) { certificateContact(id: $id) { id email } }",
      variables: { id: "CC-1" },
      fields: [["id"]],
    },
    {
      query: "query Q($name: ID!) { certificateClass(name: $name) { name maxDomains } }",
      variables: { name: "ssl123dv" },
      fields: [["name"]],
    },
    {
      query:
        "query Q($input: CheckCertificateInput!) { checkCertificate(input: $input) { dcvToken } }",
      variables: { input: { csr, domains: ["fuzz.example.com"], class: "ssl123dv" } },
      fields: [
        ["input", "csr"],
        ["input", "domains"],
        ["input", "class"],
        ["input", "crt"],
      ],
    },
    {
      query:
        "query Q($input: OrderCertificateInput!) { quoteCertificate(input: $input) { price } }",
      variables: { input: order },
      fields: [
        ["input", "csr"],
        ["input", "domains"],
        ["input", "dcvMethod"],
        ["input", "class"],
      ],
    },
    {
      query:
        "mutation M($input: OrderCertificateInput!, $key: String) { orderCertificate(input: $input, idempotencyKey: $key) { id } }",
      variables: { input: order, key: null },
      fields: [
        ["input"],
        ["input", "class"],
        ["input", "domains"],
        ["input", "domains", 0],
        ["input", "csr"],
        ["input", "dcvMethod"],
        ["input", "approverEmails"],
        ["input", "periodYears"],
        ["input", "autofillDomains"],
        ["input", "techContact"],
        ["input", "techContact", "id"],
        ["input", "techContact", "email"],
        ["input", "techContact", "phone"],
        ["input", "organizationContact"],
        ["key"],
      ],
    },
    {
      query:
        "mutation M($input: RenewCertificateInput!) { renewCertificate(input: $input) { id } }",
      variables: { input: { id: "DK00000001", csr } },
      fields: [
        ["input", "id"],
        ["input", "csr"],
        ["input", "dcvMethod"],
        ["input", "periodYears"],
      ],
    },
    {
      query:
        "mutation M($input: ReissueCertificateInput!) { reissueCertificate(input: $input) { id } }",
      variables: { input: { id: "DK00000001", csr } },
      fields: [
        ["input", "id"],
        ["input", "csr"],
        ["input", "dcvToken"],
      ],
    },
    {
      query: "mutation M($id: ID!) { revokeCertificate(id: $id) { id } }",
      variables: { id: "DK00000001" },
      fields: [["id"]],
    },
    {
      query:
        "mutation M($input: CreateCertificateContactInput!) { createCertificateContact(input: $input) { id } }",
      variables: { input: { type: "TECH", ...TECH } },
      fields: [
        ["input", "type"],
        ["input", "email"],
        ["input", "phone"],
        ["input", "personHandle"],
      ],
    },
  ];
}

/** A copy of `value` with the value at `path` replaced (created where missing). */
function replaceAt(
  value: unknown,
  path: readonly (string | number)[],
  replacement: unknown,
): unknown {
  const copy = structuredClone(value) as Record<string | number, unknown>;
  let target = copy;
  for (const step of path.slice(0, -1)) {
    const inner = target[step];
    target[step] = typeof inner === "object" && inner !== null ? inner : {};
    target = target[step] as Record<string | number, unknown>;
  }
  target[path[path.length - 1]!] = replacement;
  return copy;
}

interface Case {
  readonly label: string;
  readonly method?: "GET" | "POST" | "PUT" | "DELETE" | "PATCH";
  readonly path?: string;
  readonly headers?: Record<string, string>;
  /** Sent as is (a Buffer or a string) or, for anything else, as JSON. */
  readonly body?: unknown;
}

function makeCase(random: Random, ops: readonly FuzzOperation[]): Case {
  const op = random.pick(ops);
  const json = { "content-type": "application/json", ...AUTH };
  switch (random.int(16)) {
    case 0:
      return { label: "random bytes as JSON", headers: json, body: random.bytes(random.int(2000)) };
    case 1:
      return {
        label: "random bytes, other content type",
        headers: {
          ...AUTH,
          "content-type": random.pick([
            "text/plain",
            "application/graphql",
            "multipart/form-data; boundary=x",
            "application/x-www-form-urlencoded",
            "application/octet-stream",
          ]),
        },
        body: random.bytes(random.int(2000)),
      };
    case 2: {
      const text = JSON.stringify({ query: op.query, variables: op.variables });
      return {
        label: "truncated JSON",
        headers: json,
        body: text.slice(0, random.int(text.length)),
      };
    }
    case 3:
      return {
        label: "JSON of a wrong shape",
        headers: json,
        body: JSON.stringify(junkValue(random)),
      };
    case 4:
      return {
        label: "request fields of wrong types",
        headers: json,
        body: JSON.stringify({
          query: random.next() < 0.5 ? op.query : junkValue(random),
          variables: junkValue(random),
          operationName: junkValue(random),
          extensions:
            random.next() < 0.5 ? junkValue(random) : { persistedQuery: junkValue(random) },
        }),
      };
    case 5:
      return {
        label: "token soup",
        headers: json,
        body: JSON.stringify({ query: tokenSoup(random) }),
      };
    case 6:
    case 7:
    case 8:
    case 9:
    case 10:
    case 11:
    case 12: {
      const path = random.pick(op.fields);
      // Mostly strings, the type of most fields, so that the junk gets past variable coercion.
      const junk = random.next() < 0.7 ? junkString(random) : junkValue(random);
      const variables = replaceAt(op.variables, path, junk);
      return {
        label: `junk in ${path.join(".")} of ${op.query.slice(0, 40)}`,
        headers: json,
        body: JSON.stringify({ query: op.query, variables }),
      };
    }
    case 13:
      return {
        label: "all variables replaced",
        headers: json,
        body: JSON.stringify({ query: op.query, variables: junkValue(random) }),
      };
    case 14: {
      const params = new URLSearchParams({
        query: random.next() < 0.5 ? op.query : tokenSoup(random),
        variables: random.next() < 0.5 ? JSON.stringify(op.variables) : junkString(random),
      });
      return {
        label: "GET with junk parameters",
        method: "GET",
        path: `/graphql?${params.toString()}`,
        headers: { ...AUTH, ...(random.next() < 0.5 ? { "apollo-require-preflight": "1" } : {}) },
      };
    }
    default:
      return random.pick<Case>([
        {
          label: "junk bearer",
          headers: { ...json, authorization: `Bearer ${junkString(random)}` },
          body: "{}",
        },
        {
          label: "junk basic",
          headers: { ...json, authorization: `Basic ${junkString(random)}` },
          body: "{}",
        },
        {
          label: "junk scheme",
          headers: { ...json, authorization: junkString(random).replace(/[\r\n]/g, "") },
          body: "{}",
        },
        { label: "PUT", method: "PUT", headers: json, body: "{}" },
        { label: "DELETE", method: "DELETE", headers: json },
        { label: "PATCH", method: "PATCH", headers: json, body: "{}" },
        {
          label: "other path",
          path: `/${encodeURIComponent(junkString(random).replace(/[\ud800-\udfff]/g, "?"))}`,
          headers: json,
          body: "{}",
        },
        {
          label: "batch",
          headers: json,
          body: JSON.stringify([{ query: op.query }, { query: op.query }]),
        },
      ]);
  }
}

/** Header values undici refuses to send (not the gateway's business): made printable. */
function sendable(headers: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers ?? {}).map(([key, value]) => [key, value.replace(/[^\x20-\x7e]/g, "?")]),
  );
}

const STACK_FRAME = /\bat [^\s()]+ \(?[^()\s]+:\d+:\d+\)?/;
const INSIDES = [
  /stacktrace/i,
  /node_modules/,
  /node:internal/,
  /\/src\/[\w/-]+\.ts/,
  /\.js:\d+:\d+/,
];
const KNOWN_CODES: ReadonlySet<string> = new Set(Object.values(GatewayErrorCode));

describe("fuzzing the public surface", () => {
  let gateway: TestGateway;

  beforeAll(async () => {
    gateway = await startTestGateway({
      GATEWAY_API_KEYS: `fuzz:read+order+manage:${KEY}`,
      GATEWAY_RATE_LIMIT: "1000000",
      GATEWAY_MAX_BODY_BYTES: String(MAX_BODY_BYTES),
      GATEWAY_EXPOSE_ERROR_DETAILS: "0",
    });
  });

  afterAll(async () => {
    await gateway.stop();
  });

  async function send(testCase: Case): Promise<{ status: number; text: string }> {
    const url = new URL(testCase.path ?? "/graphql", gateway.url);
    const response = await request(url, {
      method: testCase.method ?? "POST",
      headers: sendable(testCase.headers),
      body:
        testCase.body === undefined
          ? undefined
          : Buffer.isBuffer(testCase.body) || typeof testCase.body === "string"
            ? testCase.body
            : JSON.stringify(testCase.body),
    });
    return { status: response.statusCode, text: await response.body.text() };
  }

  /** Every way an answer may be wrong, as texts (empty when it is fine). */
  function problemsOf(status: number, text: string): string[] {
    const problems: string[] = [];
    if (status >= 500) {
      problems.push(`HTTP ${status}`);
    }
    if (STACK_FRAME.test(text) || INSIDES.some(pattern => pattern.test(text))) {
      problems.push("the body shows the gateway's insides");
    }
    let body: { data?: unknown; errors?: { extensions?: { code?: unknown } }[] };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      return [...problems, "the body is not JSON"];
    }
    const errors = body.errors ?? [];
    if (status !== 200 && errors.length === 0) {
      problems.push(`HTTP ${status} without errors`);
    }
    if (status === 200 && errors.length === 0 && body.data === undefined) {
      problems.push("neither data nor errors");
    }
    for (const error of errors) {
      const code = error.extensions?.code;
      if (typeof code !== "string" || !KNOWN_CODES.has(code)) {
        problems.push(`unknown code ${JSON.stringify(code)}`);
      } else if (code === String(GatewayErrorCode.INTERNAL_SERVER_ERROR)) {
        problems.push("INTERNAL_SERVER_ERROR");
      }
    }
    return problems;
  }

  it(`answers ${CASES} random and malformed requests with 4xx or GraphQL errors, never a crash`, async () => {
    const random = prng(SEED);
    const ops = operations(makeCsr({ commonName: "fuzz.example.com", keyType: "ec" }).csrPem);
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    for (let i = 0; i < CASES; i++) {
      const testCase = makeCase(random, ops);
      const { status, text } = await send(testCase);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      const problems = problemsOf(status, text);
      if (problems.length > 0) {
        failures.push(
          `#${i} ${testCase.label}: HTTP ${status}: ${problems.join(", ")}: ${text.slice(0, 300)}`,
        );
      }
    }

    expect(failures).toEqual([]);
    // The generator reaches both the HTTP edge and the resolvers.
    expect(statuses.get(200)).toBeGreaterThan(CASES / 4);
    expect(statuses.get(400)).toBeGreaterThan(CASES / 10);
  }, 60_000);

  it.each([
    ["a 1 MB CSR", "csr", "x".repeat(1024 * 1024)],
    [
      "a 1 MB CSR of PEM junk",
      "csr",
      `-----BEGIN CERTIFICATE REQUEST-----\n${"QUFB\n".repeat(200_000)}-----END CERTIFICATE REQUEST-----`,
    ],
    ["a 1 MB domain", "domains", ["d".repeat(1024 * 1024)]],
    ["50 000 domains", "domains", Array.from({ length: 50_000 }, (_, i) => `d${i}.example.com`)],
  ])("refuses %s within the body limit as BAD_USER_INPUT", async (_name, field, value) => {
    const csr = makeCsr({ commonName: "huge.example.com", keyType: "ec" }).csrPem;
    const input = {
      class: "ssl123dv",
      domains: ["huge.example.com"],
      csr,
      dcvMethod: "DNS_TXT",
      techContact: TECH,
      [field]: value,
    };

    const response = await gateway.queryRaw(
      {
        query:
          "mutation M($input: OrderCertificateInput!) { orderCertificate(input: $input) { id } }",
        variables: { input },
      },
      AUTH,
    );

    expect(response.status).toBe(200);
    expect(response.body.errors[0].extensions.code).toBe("BAD_USER_INPUT");
    expect(problemsOf(response.status, JSON.stringify(response.body))).toEqual([]);
  });

  it("refuses a body over the limit with 413 PAYLOAD_TOO_LARGE", async () => {
    const response = await gateway.queryRaw(
      { query: "{ certificateClasses { name } }", variables: { junk: "x".repeat(MAX_BODY_BYTES) } },
      AUTH,
    );

    expect(response.status).toBe(413);
    expect(response.body.errors[0].extensions.code).toBe("PAYLOAD_TOO_LARGE");
  });

  it("still answers a normal query afterwards", async () => {
    const response = await gateway.queryRaw({ query: "{ certificateClasses { name } }" }, AUTH);

    expect(response.status).toBe(200);
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data.certificateClasses.length).toBeGreaterThan(0);
  });
});
