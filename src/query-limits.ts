/**
 * Limits on what one GraphQL request may ask for, each rejected with a 4xx and a stable
 * `extensions.code` before any upstream call is made:
 *
 * | limit | where | code |
 * | --- | --- | --- |
 * | tokens | Apollo's parser: `parseOptions: { maxTokens }` | `GRAPHQL_PARSE_FAILED` (see `withTokenLimitCode`) |
 * | depth, aliases, directives, literal `first` | validation rules (`createQueryLimitRules`) | `QUERY_DEPTH_LIMIT`, `ALIAS_LIMIT`, `DIRECTIVE_LIMIT`, `BAD_USER_INPUT` |
 * | cost, `first` from variables | plugin (`createCostLimitPlugin`), once variables are known | `COST_LIMIT`, `BAD_USER_INPUT` |
 * | batched operations | the HTTP handler (`checkBatchSize`) | `BATCH_LIMIT` |
 *
 * Token limit: graphql-js stops parsing after `maxTokens` tokens with a syntax error ("Document
 * contains more that N tokens. Parsing aborted.", sic), which Apollo answers as
 * `GRAPHQL_PARSE_FAILED` with HTTP 400, never a 500. Pass `parseOptions: { maxTokens }` to
 * `ApolloServer`; put `withTokenLimitCode` into `formatError` to give it the code `TOKEN_LIMIT`.
 *
 * A `first` outside 0..max page size is answered as the resolvers answer it (`BAD_USER_INPUT`,
 * `field: "first"`, `rule: "PAGE_SIZE_OUT_OF_RANGE"`), only earlier: one code for one mistake.
 *
 * Validation errors: Apollo reports every validation error as `GRAPHQL_VALIDATION_FAILED` (HTTP
 * 400) and keeps the rule's error as `originalError`; `createFormatError` (src/errors.ts) puts the
 * rule's code back. Validation results depend on the document only, so Apollo may cache them.
 */
import { type ApolloServerPlugin, type BaseContext, HeaderMap } from "@apollo/server";
import {
  type ASTVisitor,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  getArgumentValues,
  getNamedType,
  getNullableType,
  getVariableValues,
  type GraphQLCompositeType,
  type GraphQLField,
  GraphQLError,
  type GraphQLFormattedError,
  type GraphQLSchema,
  isCompositeType,
  isInterfaceType,
  isListType,
  isObjectType,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from "graphql";

/** The stable `extensions.code` of each limit. */
export const QUERY_LIMIT_CODES = Object.freeze({
  depth: "QUERY_DEPTH_LIMIT",
  aliases: "ALIAS_LIMIT",
  directives: "DIRECTIVE_LIMIT",
  cost: "COST_LIMIT",
  tokens: "TOKEN_LIMIT",
  /** The resolvers' own answer to a bad `first` (see `PAGE_SIZE_RULE`). */
  pageSize: "BAD_USER_INPUT",
  batch: "BATCH_LIMIT",
});

/** `extensions.rule` of a `first` outside 0..max page size, as the resolvers give it. */
export const PAGE_SIZE_RULE = "PAGE_SIZE_OUT_OF_RANGE";

/** A code of `QUERY_LIMIT_CODES`. */
export type QueryLimitCode = (typeof QUERY_LIMIT_CODES)[keyof typeof QUERY_LIMIT_CODES];

/**
 * Defaults of the limits (the config's `GATEWAY_MAX_*` defaults are the same numbers).
 * - `maxDepth` 12: a page of certificates with their order's certificates' contacts' organization
 *   is 8 deep.
 * - `maxCost` 10 000: a full page (100) of items with about 99 fields each, nested lists included.
 * - `maxTokens` 2 000: the largest example operation, shared fragments included, has about 210;
 *   an order with 250 domains written inline about 400.
 * - `defaultListSize` 10: the size assumed for a list without `first` (an order's certificates,
 *   a check's approver addresses).
 * - `maxBatchSize` 1: one operation per HTTP request (Apollo's `allowBatchedHttpRequests` off).
 */
export const QUERY_LIMIT_DEFAULTS = Object.freeze({
  maxDepth: 12,
  maxAliases: 30,
  maxDirectives: 20,
  maxCost: 10_000,
  maxTokens: 2_000,
  maxPageSize: 100,
  defaultListSize: 10,
  maxBatchSize: 1,
});

/**
 * A request over one of the limits: a `GraphQLError` with `extensions.code` (a `QueryLimitCode`),
 * `limit`, the measured `actual` value when known, and `http.status` 400 (Apollo applies it and
 * strips `http` from the response).
 */
export class QueryLimitError extends GraphQLError {
  constructor(
    code: QueryLimitCode,
    message: string,
    details: { limit: number; actual?: number; nodes?: readonly FieldNode[] } & Record<
      string,
      unknown
    >,
  ) {
    const { nodes, ...rest } = details;
    super(message, {
      nodes,
      extensions: { code, ...rest, http: { status: 400, headers: new HeaderMap() } },
    });
    this.name = "QueryLimitError";
  }
}

/** Options of `createQueryLimitRules`; every field defaults to `QUERY_LIMIT_DEFAULTS`. */
export interface QueryLimitRuleOptions {
  /** Deepest field of an operation (root fields are depth 1; introspection is not counted). */
  readonly maxDepth?: number;
  /** Most aliased fields in the document. */
  readonly maxAliases?: number;
  /** Most directive uses in the document (`@skip`, `@include`, ...). */
  readonly maxDirectives?: number;
  /** Largest literal `first` argument anywhere in the document. */
  readonly maxPageSize?: number;
}

/**
 * The validation rules of the document-only limits, for `validationRules`: depth, aliases,
 * directives and literal `first` values. Never throw; each violation is one `QueryLimitError`.
 */
export function createQueryLimitRules(options: QueryLimitRuleOptions = {}): ValidationRule[] {
  return [
    createDepthLimitRule(options.maxDepth ?? QUERY_LIMIT_DEFAULTS.maxDepth),
    createAliasLimitRule(options.maxAliases ?? QUERY_LIMIT_DEFAULTS.maxAliases),
    createDirectiveLimitRule(options.maxDirectives ?? QUERY_LIMIT_DEFAULTS.maxDirectives),
    createPageSizeRule(options.maxPageSize ?? QUERY_LIMIT_DEFAULTS.maxPageSize),
  ];
}

/**
 * Rejects an operation whose deepest field (following fragments) is deeper than `maxDepth`
 * (`QUERY_DEPTH_LIMIT`). Root fields are at depth 1. Fields of introspection (`__schema`,
 * `__type`, `__typename`) are not counted: their depth is bounded by the token limit.
 */
export function createDepthLimitRule(maxDepth: number): ValidationRule {
  return (context: ValidationContext): ASTVisitor => {
    const fragmentDepths = new Map<string, number>();
    const depthOf = (set: SelectionSetNode, visiting: Set<string>): number => {
      let deepest = 0;
      for (const selection of set.selections) {
        if (selection.kind === Kind.FIELD) {
          if (selection.name.value.startsWith("__")) {
            continue;
          }
          const inner = selection.selectionSet ? depthOf(selection.selectionSet, visiting) : 0;
          deepest = Math.max(deepest, 1 + inner);
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          deepest = Math.max(deepest, depthOf(selection.selectionSet, visiting));
        } else {
          const name = selection.name.value;
          const known = fragmentDepths.get(name);
          if (known !== undefined) {
            deepest = Math.max(deepest, known);
            continue;
          }
          const fragment = context.getFragment(name);
          // Unknown fragments and cycles are reported by graphql-js's own rules.
          if (!fragment || visiting.has(name)) {
            continue;
          }
          visiting.add(name);
          const depth = depthOf(fragment.selectionSet, visiting);
          visiting.delete(name);
          fragmentDepths.set(name, depth);
          deepest = Math.max(deepest, depth);
        }
      }
      return deepest;
    };
    return {
      OperationDefinition(operation) {
        const depth = depthOf(operation.selectionSet, new Set());
        if (depth > maxDepth) {
          context.reportError(
            new QueryLimitError(
              QUERY_LIMIT_CODES.depth,
              `${operationLabel(operation)} is ${depth} levels deep; at most ${maxDepth} are ` +
                "allowed. Ask for less nesting, or fetch the inner objects in a second request.",
              { limit: maxDepth, actual: depth },
            ),
          );
        }
        return false;
      },
    };
  };
}

/** Rejects a document with more than `maxAliases` aliased fields (`ALIAS_LIMIT`). */
export function createAliasLimitRule(maxAliases: number): ValidationRule {
  return (context: ValidationContext): ASTVisitor => {
    let count = 0;
    return {
      Field(node) {
        if (node.alias) {
          count += 1;
        }
      },
      Document: {
        leave() {
          if (count > maxAliases) {
            context.reportError(
              new QueryLimitError(
                QUERY_LIMIT_CODES.aliases,
                `The document uses ${count} aliases; at most ${maxAliases} are allowed.`,
                { limit: maxAliases, actual: count },
              ),
            );
          }
        },
      },
    };
  };
}

/** Rejects a document with more than `maxDirectives` directive uses (`DIRECTIVE_LIMIT`). */
export function createDirectiveLimitRule(maxDirectives: number): ValidationRule {
  return (context: ValidationContext): ASTVisitor => {
    let count = 0;
    return {
      Directive() {
        count += 1;
      },
      Document: {
        leave() {
          if (count > maxDirectives) {
            context.reportError(
              new QueryLimitError(
                QUERY_LIMIT_CODES.directives,
                `The document uses ${count} directives; at most ${maxDirectives} are allowed.`,
                { limit: maxDirectives, actual: count },
              ),
            );
          }
        },
      },
    };
  };
}

/**
 * Rejects a literal `first` argument outside 0..`maxPageSize` anywhere in the document
 * (`BAD_USER_INPUT`, rule `PAGE_SIZE_OUT_OF_RANGE`). `first` from a variable is checked by
 * `createCostLimitPlugin`.
 */
export function createPageSizeRule(maxPageSize: number): ValidationRule {
  return (context: ValidationContext): ASTVisitor => ({
    Argument(node) {
      if (node.name.value !== "first" || node.value.kind !== Kind.INT) {
        return;
      }
      const value = Number(node.value.value);
      if (value < 0 || value > maxPageSize) {
        context.reportError(pageSizeError(value, maxPageSize));
      }
    },
  });
}

/** What `analyzeOperation` measured. */
export interface OperationAnalysis {
  /** Estimated cost (see `estimateCost`); 0 when the operation was not found. */
  readonly cost: number;
  /** The `first` values given explicitly that fall outside 0..`maxPageSize` (empty: none). */
  readonly pageSizeViolations: readonly number[];
}

/** Options of `estimateCost` and `analyzeOperation`. */
export interface CostOptions {
  /** Size assumed for a list field without `first`; default `QUERY_LIMIT_DEFAULTS.defaultListSize`. */
  readonly defaultListSize?: number;
  /** Largest page; default `QUERY_LIMIT_DEFAULTS.maxPageSize`. */
  readonly maxPageSize?: number;
}

/**
 * Estimates what executing one operation of `document` costs: every field costs 1 (introspection
 * fields 0), and the fields under a list are counted once per item:
 * `cost(field) = 1 + size(field) * cost(selections)`. The size of a list is its `first` argument
 * (literal, variable or the schema's default; negative counts as 0); a connection field
 * (`certificates(first: 100)`, not a list itself) passes its `first` to the lists right under it
 * (`edges`, `nodes`). A list without `first` counts as `defaultListSize` items. Fragments and
 * inline fragments are followed (each spread counted); `@skip`/`@include` are ignored, so the
 * estimate is an upper bound that depends on the variables only through `first`.
 *
 * `variables` are the request's raw variables; invalid ones are ignored (execution would refuse
 * them before any resolver ran). Returns 0 when the operation is not in the document. Pure;
 * never throws.
 */
export function estimateCost(
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Readonly<Record<string, unknown>> | null | undefined,
  schema: GraphQLSchema,
  options: CostOptions = {},
): number {
  return analyzeOperation(document, operationName, variables, schema, options).cost;
}

/**
 * `estimateCost` plus the explicit `first` values outside 0..`maxPageSize`. A `first` that is
 * left out, or equal to the argument's default, is clamped to `maxPageSize` rather than refused,
 * as the resolvers do. Pure; never throws.
 */
export function analyzeOperation(
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Readonly<Record<string, unknown>> | null | undefined,
  schema: GraphQLSchema,
  options: CostOptions = {},
): OperationAnalysis {
  const defaultListSize = options.defaultListSize ?? QUERY_LIMIT_DEFAULTS.defaultListSize;
  const maxPageSize = options.maxPageSize ?? QUERY_LIMIT_DEFAULTS.maxPageSize;
  const fragments = new Map<string, FragmentDefinitionNode>();
  const operations: OperationDefinitionNode[] = [];
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) {
      fragments.set(definition.name.value, definition);
    } else if (definition.kind === Kind.OPERATION_DEFINITION) {
      operations.push(definition);
    }
  }
  const operation = operationName
    ? operations.find(candidate => candidate.name?.value === operationName)
    : operations.length === 1
      ? operations[0]
      : undefined;
  const rootType = operation ? schema.getRootType(operation.operation) : undefined;
  if (!operation || !rootType) {
    return { cost: 0, pageSizeViolations: [] };
  }
  let variableValues: Record<string, unknown> = {};
  try {
    const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], {
      ...(variables ?? {}),
    });
    variableValues = coerced.coerced ?? {};
  } catch {
    // Unknown variable types: validation reports them.
  }

  const violations: number[] = [];
  // A fragment's cost depends on the size handed to its lists: memoised per (fragment, size).
  const memo = new Map<string, number>();
  const visiting = new Set<string>();

  const sizeOf = (
    field: GraphQLField<unknown, unknown>,
    node: FieldNode,
  ): { first: number | undefined } => {
    const argument = field.args.find(arg => arg.name === "first");
    if (!argument) {
      return { first: undefined };
    }
    let values: Record<string, unknown>;
    try {
      values = getArgumentValues(field, node, variableValues);
    } catch {
      return { first: undefined };
    }
    const raw = values.first;
    if (typeof raw !== "number") {
      return { first: undefined };
    }
    const explicit = node.arguments?.some(arg => arg.name.value === "first") ?? false;
    const isDefault = !explicit || raw === argument.defaultValue;
    if (isDefault) {
      return { first: Math.min(Math.max(raw, 0), maxPageSize) };
    }
    if (raw < 0 || raw > maxPageSize) {
      violations.push(raw);
    }
    return { first: Math.min(Math.max(raw, 0), maxPageSize) };
  };

  const costOf = (
    set: SelectionSetNode,
    parent: GraphQLCompositeType,
    pending: number | undefined,
  ): number => {
    let total = 0;
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        const name = selection.name.value;
        if (name.startsWith("__")) {
          continue;
        }
        const field =
          isObjectType(parent) || isInterfaceType(parent) ? parent.getFields()[name] : undefined;
        if (!field) {
          continue;
        }
        const { first } = sizeOf(field, selection);
        const named = getNamedType(field.type);
        const isList = isListType(getNullableType(field.type));
        if (!selection.selectionSet || !isCompositeType(named)) {
          total += 1;
          continue;
        }
        let size = 1;
        let handed: number | undefined;
        if (first !== undefined) {
          if (isList) {
            size = first;
          } else {
            handed = first;
          }
        } else if (isList) {
          size = pending ?? defaultListSize;
        }
        total += 1 + size * costOf(selection.selectionSet, named, handed);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const condition = selection.typeCondition
          ? schema.getType(selection.typeCondition.name.value)
          : parent;
        if (condition && isCompositeType(condition)) {
          total += costOf(selection.selectionSet, condition, pending);
        }
      } else {
        const name = selection.name.value;
        const key = `${name}\u0000${pending ?? ""}`;
        const known = memo.get(key);
        if (known !== undefined) {
          total += known;
          continue;
        }
        const fragment = fragments.get(name);
        const condition = fragment ? schema.getType(fragment.typeCondition.name.value) : undefined;
        if (!fragment || !condition || !isCompositeType(condition) || visiting.has(name)) {
          continue;
        }
        visiting.add(name);
        const cost = costOf(fragment.selectionSet, condition, pending);
        visiting.delete(name);
        memo.set(key, cost);
        total += cost;
      }
    }
    return total;
  };

  const cost = costOf(operation.selectionSet, rootType, undefined);
  return { cost, pageSizeViolations: [...new Set(violations)] };
}

/** Options of `createCostLimitPlugin`. */
export interface CostLimitOptions extends CostOptions {
  /** Highest accepted `estimateCost`; default `QUERY_LIMIT_DEFAULTS.maxCost`. */
  readonly maxCost?: number;
}

/**
 * An Apollo plugin that, once the operation is resolved (variables known, before execution),
 * refuses `first` values outside 0..`maxPageSize` (`BAD_USER_INPUT`) and operations whose
 * `estimateCost` exceeds `maxCost` (`COST_LIMIT`, with `extensions.cost` and `limit`). Both are
 * HTTP 400 and no resolver runs. Stateless; one per server.
 */
export function createCostLimitPlugin<TContext extends BaseContext>(
  options: CostLimitOptions = {},
): ApolloServerPlugin<TContext> {
  // Documents come from Apollo's document store: the same object for the same query text. An
  // operation that passed with the same variables passes again; only passes are remembered (a
  // refused one is answered with a fresh error, and is rare).
  const passed = new WeakMap<DocumentNode, Set<string>>();
  return {
    requestDidStart() {
      return Promise.resolve({
        didResolveOperation(requestContext) {
          const { document, operationName, request, schema } = requestContext;
          const key = `${operationName ?? ""}\u0000${JSON.stringify(request.variables ?? {})}`;
          const known = passed.get(document);
          if (known?.has(key)) {
            return Promise.resolve();
          }
          const error = checkCost(document, operationName, request.variables, schema, options);
          if (error) {
            return Promise.reject(error);
          }
          const keys = known ?? new Set<string>();
          if (keys.size >= PASSED_VARIABLES_KEPT) {
            keys.clear();
          }
          keys.add(key);
          passed.set(document, keys);
          return Promise.resolve();
        },
      });
    },
  };
}

/** Variable sets remembered per document as within the limits (see `createCostLimitPlugin`). */
const PASSED_VARIABLES_KEPT = 64;

/**
 * What `createCostLimitPlugin` checks, for transports without Apollo's plugins (subscriptions
 * over WebSocket): the `QueryLimitError` for a `first` out of range (`BAD_USER_INPUT`) or a cost
 * over `maxCost` (`COST_LIMIT`), else `undefined`. Pure; never throws.
 */
export function checkCost(
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Readonly<Record<string, unknown>> | null | undefined,
  schema: GraphQLSchema,
  options: CostLimitOptions = {},
): QueryLimitError | undefined {
  const maxCost = options.maxCost ?? QUERY_LIMIT_DEFAULTS.maxCost;
  const maxPageSize = options.maxPageSize ?? QUERY_LIMIT_DEFAULTS.maxPageSize;
  const analysis = analyzeOperation(document, operationName, variables, schema, {
    defaultListSize: options.defaultListSize,
    maxPageSize,
  });
  const [tooLarge] = analysis.pageSizeViolations;
  if (tooLarge !== undefined) {
    return pageSizeError(tooLarge, maxPageSize);
  }
  if (analysis.cost > maxCost) {
    return new QueryLimitError(
      QUERY_LIMIT_CODES.cost,
      `The operation would cost about ${analysis.cost} (fields times list sizes); at most ` +
        `${maxCost} is allowed. Ask for smaller pages (first) or fewer fields.`,
      { limit: maxCost, actual: analysis.cost, cost: analysis.cost },
    );
  }
  return undefined;
}

/**
 * For the HTTP handler, before Apollo: a JSON array body (a batch) with more than `maxOperations`
 * operations is refused with `BATCH_LIMIT` (HTTP 400). With `maxOperations` 1 (the default:
 * Apollo's `allowBatchedHttpRequests` off) any array is refused, with a clearer code than
 * Apollo's own `BAD_REQUEST`. Returns `undefined` when the body may go on.
 */
export function checkBatchSize(
  body: unknown,
  maxOperations: number = QUERY_LIMIT_DEFAULTS.maxBatchSize,
): QueryLimitError | undefined {
  if (!Array.isArray(body)) {
    return undefined;
  }
  if (maxOperations <= 1) {
    return new QueryLimitError(
      QUERY_LIMIT_CODES.batch,
      "Batched requests are not accepted: send one operation per request.",
      { limit: 1, actual: body.length },
    );
  }
  if (body.length > maxOperations) {
    return new QueryLimitError(
      QUERY_LIMIT_CODES.batch,
      `The batch holds ${body.length} operations; at most ${maxOperations} are allowed.`,
      { limit: maxOperations, actual: body.length },
    );
  }
  return undefined;
}

// graphql-js 16 spells it "more that"; later versions may fix the typo.
const TOKEN_LIMIT_MESSAGE = /Document contains more tha[nt] \d+ tokens/;

/**
 * For `formatError`: gives the parser's token-limit error the code `TOKEN_LIMIT` instead of
 * `GRAPHQL_PARSE_FAILED` (the HTTP status stays 400). Returns other errors unchanged. Pure.
 */
export function withTokenLimitCode(formatted: GraphQLFormattedError): GraphQLFormattedError {
  if (
    formatted.extensions?.code !== "GRAPHQL_PARSE_FAILED" ||
    !TOKEN_LIMIT_MESSAGE.test(formatted.message)
  ) {
    return formatted;
  }
  return { ...formatted, extensions: { ...formatted.extensions, code: QUERY_LIMIT_CODES.tokens } };
}

/** The error `toPageRequest` (resolvers/mappers.ts) gives, with HTTP 400 and the limit. */
function pageSizeError(value: number, maxPageSize: number): QueryLimitError {
  const message = `first must be from 0 to ${maxPageSize} (got ${value})`;
  return new QueryLimitError(
    QUERY_LIMIT_CODES.pageSize,
    `Invalid input: ${message} [${PAGE_SIZE_RULE}]`,
    {
      limit: maxPageSize,
      actual: value,
      field: "first",
      rule: PAGE_SIZE_RULE,
      violations: [{ field: "first", rule: PAGE_SIZE_RULE, message }],
    },
  );
}

function operationLabel(operation: OperationDefinitionNode): string {
  return operation.name ? `Operation "${operation.name.value}"` : "The operation";
}
