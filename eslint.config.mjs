// ESLint 9 flat config: type-checked typescript-eslint plus the project's layering rules.
import js from "@eslint/js";
import importPlugin from "eslint-plugin-import";
import tseslint from "typescript-eslint";

const layers = [
  // schema/ holds GraphQL types only: no I/O, no knowledge of the rest.
  { target: "./schema", from: "./src" },
  { target: "./schema", from: "./resolvers" },
  // The upstream client knows nothing of GraphQL, loaders, caches or the sandbox.
  { target: "./src/upstream", from: "./src", except: ["./upstream"] },
  { target: "./src/upstream", from: "./resolvers" },
  { target: "./src/upstream", from: "./schema" },
  // The sandbox shares the codec and command table, never the client.
  { target: "./src/sandbox", from: "./src/upstream/client.ts" },
  { target: "./src/sandbox", from: "./src/loaders" },
  { target: "./src/sandbox", from: "./resolvers" },
  { target: "./src/sandbox", from: "./schema" },
  // PKI parsing is a leaf shared by the sandbox and the resolvers.
  { target: "./src/pki", from: "./src", except: ["./pki"] },
  { target: "./src/pki", from: "./resolvers" },
  { target: "./src/pki", from: "./schema" },
  // Loaders sit on the client and the cache only.
  { target: "./src/loaders", from: "./resolvers" },
  { target: "./src/loaders", from: "./schema" },
  { target: "./src/loaders", from: "./src/sandbox" },
  // Live status (events, webhooks) works on the client, the cache and its own stores: never on
  // GraphQL types, resolvers, loaders or the sandbox.
  { target: "./src/live", from: "./resolvers" },
  { target: "./src/live", from: "./schema" },
  { target: "./src/live", from: "./src/loaders" },
  { target: "./src/live", from: "./src/sandbox" },
  // Resolvers never reach the sandbox or build clients themselves.
  { target: "./resolvers", from: "./src/sandbox" },
  { target: "./resolvers", from: "./src/upstream/client.ts" },
  // Nothing but the composition root (and test helpers) imports the composition root.
  {
    target: [
      "./schema",
      "./resolvers",
      "./src/upstream",
      "./src/loaders",
      "./src/sandbox",
      "./src/live",
    ],
    from: ["./src/main.ts", "./src/gateway.ts", "./src/build-schema.ts", "./src/emit-schema.ts"],
  },
];

export default tseslint.config(
  { ignores: ["dist/", "coverage/", "node_modules/", "test/__generated__/", "eslint.config.mjs"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { project: ["./test/tsconfig.json"], tsconfigRootDir: import.meta.dirname },
    },
    plugins: { import: importPlugin },
    settings: {
      "import/resolver": { typescript: { project: "./test/tsconfig.json" }, node: true },
    },
    rules: {
      curly: ["error", "all"],
      "no-console": "error",
      "no-restricted-properties": [
        "error",
        { object: "process", property: "env", message: "Only src/config.ts reads process.env." },
      ],
      "@typescript-eslint/consistent-type-imports": [
        "error",
        { fixStyle: "inline-type-imports", prefer: "type-imports" },
      ],
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_" },
      ],
      "import/no-default-export": "error",
      "import/order": [
        "error",
        { alphabetize: { order: "asc", caseInsensitive: true }, "newlines-between": "never" },
      ],
      "import/no-restricted-paths": ["error", { zones: layers }],
    },
  },
  {
    files: ["src/config.ts"],
    rules: { "no-restricted-properties": "off" },
  },
  {
    files: ["src/main.ts", "src/sandbox/main.ts", "src/emit-schema.ts", "bench/**/*.ts"],
    rules: { "no-console": "off" },
  },
  {
    files: ["test/**/*.ts", "bench/**/*.ts"],
    rules: {
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-non-null-assertion": "off",
      // Raw HTTP bodies in tests are inspected loosely on purpose.
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/unbound-method": "off",
    },
  },
);
