// The SDK's entry point: the client, and the typed documents of every example workflow.
export * from "./client";
export * from "./__generated__/graphql";
