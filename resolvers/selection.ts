import { type FieldNode, type GraphQLResolveInfo, Kind, type SelectionSetNode } from "graphql";

/**
 * Looking ahead at what the client asked for below the current field, so that a resolver can
 * start an upstream read its children will need before they ask (one list command in parallel
 * with the page, instead of one command per row after it). Only a hint: fields under
 * `@skip`/`@include` count as selected, and a prefetch that turns out unneeded costs one read.
 */

function childSelections(
  sets: readonly SelectionSetNode[],
  name: string,
  info: GraphQLResolveInfo,
): SelectionSetNode[] {
  const found: SelectionSetNode[] = [];
  const visit = (set: SelectionSetNode, seen: Set<string>): void => {
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        if (selection.name.value === name && selection.selectionSet) {
          found.push(selection.selectionSet);
        }
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
  return found;
}

function fieldNames(sets: readonly SelectionSetNode[], info: GraphQLResolveInfo): Set<string> {
  const names = new Set<string>();
  const visit = (set: SelectionSetNode, seen: Set<string>): void => {
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        names.add(selection.name.value);
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
  return names;
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
      sets = childSelections(sets, step, info);
    }
    for (const name of fieldNames(sets, info)) {
      names.add(name);
    }
  }
  return names;
}
