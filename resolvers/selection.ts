import { type FieldNode, type GraphQLResolveInfo, Kind, type SelectionSetNode } from "graphql";

/**
 * Looking ahead at what the client asked for below the current field, so that a resolver can
 * start an upstream read its children will need before they ask (one list command in parallel
 * with the page, instead of one command per row after it). Only a hint: fields under
 * `@skip`/`@include` count as selected, and a prefetch that turns out unneeded costs one read.
 */

/** The fields selected directly in `sets`, fragments (named and inline) flattened. */
function fieldsOf(sets: readonly SelectionSetNode[], info: GraphQLResolveInfo): FieldNode[] {
  const fields: FieldNode[] = [];
  const visit = (set: SelectionSetNode, seen: Set<string>): void => {
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        fields.push(selection);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        visit(selection.selectionSet, seen);
      } else if (!seen.has(selection.name.value)) {
        seen.add(selection.name.value);
        const fragment = info.fragments[selection.name.value];
        if (fragment) {
          visit(fragment.selectionSet, seen);
        }
      }
    }
  };
  for (const set of sets) {
    visit(set, new Set());
  }
  return fields;
}

/**
 * The names of the fields selected at `path` below the current field (`[]`: directly below it;
 * `["nodes"]`: below its `nodes`), fragments and aliases resolved. Several paths are merged:
 * `[["nodes"], ["edges", "node"]]` for both shapes of a connection.
 */
export function selectedFieldNames(
  info: GraphQLResolveInfo,
  paths: readonly (readonly string[])[],
): Set<string> {
  const roots = info.fieldNodes
    .map((node: FieldNode) => node.selectionSet)
    .filter((set): set is SelectionSetNode => set !== undefined);
  const names = new Set<string>();
  for (const path of paths) {
    let sets = roots;
    for (const step of path) {
      sets = fieldsOf(sets, info)
        .filter(field => field.name.value === step)
        .flatMap(field => (field.selectionSet ? [field.selectionSet] : []));
    }
    for (const field of fieldsOf(sets, info)) {
      names.add(field.name.value);
    }
  }
  return names;
}
