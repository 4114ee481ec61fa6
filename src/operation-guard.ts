/**
 * A validation rule that keeps costly and destructive mutations one to an operation, so a client
 * cannot place several orders (or an order twice, under two aliases) in a single request, where
 * one idempotency key would have to cover several commands.
 */
import {
  type ASTVisitor,
  type FieldNode,
  GraphQLError,
  Kind,
  OperationTypeNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from "graphql";

/** `extensions.code` of the errors this rule reports. Stable. */
export const OPERATION_LIMIT_CODE = "OPERATION_LIMIT";

/** Mutation root fields that cost money; at most one of them per operation by default. */
export const DEFAULT_MONEY_FIELDS: readonly string[] = Object.freeze([
  "orderCertificate",
  "renewCertificate",
  "reissueCertificate",
]);

/** Mutation root fields that revoke or cancel; at most one of them per operation by default. */
export const DEFAULT_MANAGE_FIELDS: readonly string[] = Object.freeze([
  "revokeCertificate",
  "cancelCertificateOrder",
  "revokeCertificateOrder",
]);

/** Options of {@link createOperationGuardRule}: the field names of each limited category. */
export interface OperationGuardOptions {
  /** Default `DEFAULT_MONEY_FIELDS`. */
  moneyFields?: readonly string[];
  /** Default `DEFAULT_MANAGE_FIELDS`. */
  manageFields?: readonly string[];
}

/** Most fields of one category in one operation. */
const LIMIT = 1;

interface Category {
  readonly label: string;
  readonly fields: ReadonlySet<string>;
}

/** A root field as it will execute: its name and its response key (alias or name). */
interface RootField {
  readonly name: string;
  readonly responseKey: string;
  readonly nodes: FieldNode[];
}

/**
 * Creates a graphql-js `ValidationRule` for `validationRules`. In every mutation operation of
 * the document (each counted on its own), at most one money-moving field and at most one
 * management field may be selected at the root; the two categories are counted separately, so an
 * order and a revoke may share an operation. Fields are counted as they execute: across aliases,
 * fragment spreads and inline fragments, with selections that share a response key counted once
 * (graphql-js merges them into one execution). `@skip`/`@include` are ignored, so a field counts
 * even if a variable might skip it: the rule depends on the document only, which lets servers
 * cache validation per document. Queries and subscriptions are not looked at.
 *
 * Each violation is a `GraphQLError` with `extensions.code = "OPERATION_LIMIT"`, `limit` and
 * `fields`, located at the offending fields. Never throws.
 */
export function createOperationGuardRule(options: OperationGuardOptions = {}): ValidationRule {
  const categories: Category[] = [
    { label: "money-moving", fields: new Set(options.moneyFields ?? DEFAULT_MONEY_FIELDS) },
    {
      label: "revoke/cancel",
      fields: new Set(options.manageFields ?? DEFAULT_MANAGE_FIELDS),
    },
  ];
  return (context: ValidationContext): ASTVisitor => ({
    OperationDefinition(operation) {
      if (operation.operation !== OperationTypeNode.MUTATION) {
        return false;
      }
      const roots = collectRootFields(context, operation.selectionSet);
      const name = operation.name ? `Operation "${operation.name.value}"` : "The operation";
      for (const category of categories) {
        const selected = roots.filter(field => category.fields.has(field.name));
        if (selected.length > LIMIT) {
          const described = selected.map(field =>
            field.responseKey === field.name
              ? field.name
              : `${field.name} as ${JSON.stringify(field.responseKey)}`,
          );
          context.reportError(
            new GraphQLError(
              `${name} selects ${selected.length} ${category.label} mutation fields ` +
                `(${described.join(", ")}); at most ${LIMIT} is allowed per operation. ` +
                "Send each in its own request.",
              {
                nodes: selected.flatMap(field => field.nodes),
                extensions: {
                  code: OPERATION_LIMIT_CODE,
                  limit: LIMIT,
                  fields: selected.map(field => field.name),
                },
              },
            ),
          );
        }
      }
      return false;
    },
  });
}

/**
 * The root fields of an operation, following inline fragments and fragment spreads (each named
 * fragment once, as execution does; unknown fragments and cycles are other rules' business).
 */
function collectRootFields(
  context: ValidationContext,
  selectionSet: SelectionSetNode,
): RootField[] {
  const byKey = new Map<string, RootField>();
  const visited = new Set<string>();
  const visit = (set: SelectionSetNode): void => {
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        const name = selection.name.value;
        const responseKey = selection.alias?.value ?? name;
        // Keyed by both: two names under one key is invalid anyway and must not hide a field.
        const id = `${responseKey}\u0000${name}`;
        const known = byKey.get(id);
        if (known === undefined) {
          byKey.set(id, { name, responseKey, nodes: [selection] });
        } else {
          known.nodes.push(selection);
        }
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        visit(selection.selectionSet);
      } else {
        const fragmentName = selection.name.value;
        const fragment = visited.has(fragmentName) ? null : context.getFragment(fragmentName);
        visited.add(fragmentName);
        if (fragment) {
          visit(fragment.selectionSet);
        }
      }
    }
  };
  visit(selectionSet);
  return [...byKey.values()];
}
