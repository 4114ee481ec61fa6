import { type TypedDocumentNode } from "@graphql-typed-document-node/core";
import { type ExecutionResult, print } from "graphql";
import { type Client, createClient } from "graphql-ws";
import WebSocket from "ws";

/** The WebSocket URL of a gateway's HTTP URL (same host, port and path). */
export function wsUrlOf(httpUrl: string): string {
  return httpUrl.replace(/^http/, "ws");
}

/** How a connection ended, as the client saw it. */
export interface Closed {
  readonly code: number;
  readonly reason: string;
}

/** A graphql-ws client on Node's `ws`, that never retries and records how it closed. */
export interface TestWsClient {
  readonly client: Client;
  /** Resolves with the first close of the socket. */
  readonly closed: Promise<Closed>;
  /** Resolves once the server acknowledged the connection (`connection_ack`). */
  readonly connected: Promise<void>;
  dispose(): Promise<void>;
}

/** Options of `openWsClient`. */
export interface WsClientOptions {
  /** `connection_init` payload, e.g. `{ authorization: "Bearer <key>" }`. */
  readonly connectionParams?: Record<string, unknown>;
  /** Headers of the upgrade request (Node clients can send `Authorization` there). */
  readonly headers?: Record<string, string>;
}

/** Opens a graphql-ws connection to `httpUrl` at once (not lazily). */
export function openWsClient(httpUrl: string, options: WsClientOptions = {}): TestWsClient {
  let onClosed: (closed: Closed) => void = () => undefined;
  let onConnected: () => void = () => undefined;
  const closed = new Promise<Closed>(resolve => (onClosed = resolve));
  const connected = new Promise<void>(resolve => (onConnected = resolve));
  const headers = options.headers;
  const client = createClient({
    url: wsUrlOf(httpUrl),
    webSocketImpl: headers
      ? class extends WebSocket {
          constructor(address: string, protocols?: string | string[]) {
            super(address, protocols, { headers });
          }
        }
      : WebSocket,
    connectionParams: options.connectionParams,
    lazy: false,
    retryAttempts: 0,
    onNonLazyError: () => undefined,
    on: {
      connected: () => onConnected(),
      closed: event => {
        const { code, reason } = event as { code: number; reason: string | Buffer };
        onClosed({ code, reason: String(reason) });
      },
    },
  });
  return { client, closed, connected, dispose: () => Promise.resolve(client.dispose()) };
}

/** The results one subscription received, and ways to wait for more. */
export interface TestSubscription<TResult> {
  readonly results: ExecutionResult<TResult>[];
  /** Errors the server ended the subscription with (`error` message), if any. */
  readonly errors: unknown[];
  /** Resolves with the first result (from now on or already received) that `accept` takes. */
  next(
    accept?: (result: ExecutionResult<TResult>) => boolean,
    timeoutMs?: number,
  ): Promise<ExecutionResult<TResult>>;
  /** Resolves when the subscription ended (completed or failed). */
  readonly ended: Promise<void>;
  unsubscribe(): void;
}

/** Subscribes with a typed document and collects what arrives. */
export function subscribeWith<TResult, TVariables>(
  client: Client,
  document: TypedDocumentNode<TResult, TVariables>,
  variables?: TVariables,
): TestSubscription<TResult> {
  const results: ExecutionResult<TResult>[] = [];
  const errors: unknown[] = [];
  const waiters = new Set<() => void>();
  let onEnded: () => void = () => undefined;
  const ended = new Promise<void>(resolve => (onEnded = resolve));
  const wake = (): void => {
    for (const waiter of [...waiters]) {
      waiter();
    }
  };
  const unsubscribe = client.subscribe<TResult>(
    { query: print(document), variables: variables ?? {} },
    {
      next: result => {
        results.push(result as ExecutionResult<TResult>);
        wake();
      },
      error: error => {
        errors.push(error);
        onEnded();
        wake();
      },
      complete: () => {
        onEnded();
        wake();
      },
    },
  );
  return {
    results,
    errors,
    ended,
    unsubscribe,
    next(accept = () => true, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const found = results.find(accept);
          if (found) {
            clearTimeout(timer);
            waiters.delete(check);
            resolve(found);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(
              `no matching result within ${timeoutMs} ms (got ${JSON.stringify(results)}, errors ${JSON.stringify(errors)})`,
            ),
          );
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}

/** Resolves once `condition()` holds, checking every 10 ms; rejects after `timeoutMs`. */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 5_000,
  what = "condition",
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > until) {
      throw new Error(`${what} not met within ${timeoutMs} ms`);
    }
    await new Promise(resolve => setTimeout(resolve, 10));
  }
}
