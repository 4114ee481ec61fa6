/**
 * A circuit breaker in front of the upstream client: after `failureThreshold` consecutive
 * transport failures or timeouts it stops sending for `openMs` (calls fail at once), then lets one
 * read through as a probe; an answer closes it again, a failure reopens it.
 *
 * Only `UPSTREAM_UNAVAILABLE` and `UPSTREAM_TIMEOUT` (retryable, so not "client closed") count as
 * failures. Any reply (2xx, or an `UpstreamError` built from a reply code: 4xx, 5xx, 530...) is an
 * answer and resets the count. `UPSTREAM_OUTCOME_UNKNOWN`, `UPSTREAM_PROTOCOL` and aborts by the
 * caller say nothing either way and leave the state as it is.
 *
 * One breaker guards one upstream host; in pass-through mode wrap every per-request client with
 * the same `createCircuitBreaker()` so all accounts share it.
 */
import { type CallOptions, type UpstreamClient } from "./client";
import { COMMANDS, type CommandArgs, type CommandName } from "./commands";
import { UpstreamError } from "./errors";

/** `closed`: calls go through; `open`: calls fail fast; `half-open`: one read probes. */
export type CircuitState = "closed" | "open" | "half-open";

/** A change of state, as `onStateChange` receives it. */
export interface CircuitStateChange {
  readonly from: CircuitState;
  readonly to: CircuitState;
  /** When it changed (epoch ms, the breaker's clock). */
  readonly at: number;
  /** Consecutive failures counted when it changed. */
  readonly failures: number;
}

/** Defaults of `CircuitBreakerOptions`. */
export const CIRCUIT_BREAKER_DEFAULTS = Object.freeze({
  failureThreshold: 5,
  openMs: 10_000,
});

/** Options of `createCircuitBreaker` / `withCircuitBreaker`. */
export interface CircuitBreakerOptions {
  /** Consecutive transport failures or timeouts that open the circuit. Default 5. */
  readonly failureThreshold?: number;
  /** How long the circuit stays open before a probe, in ms. Default 10 000. */
  readonly openMs?: number;
  /** Clock, epoch ms; default `Date.now`. */
  readonly now?: () => number;
  /** Observer of state changes (logs, metrics). Must not throw; errors are ignored. */
  readonly onStateChange?: (change: CircuitStateChange) => void;
}

/** A breaker that can guard several clients of the same upstream (pass-through mode). */
export interface CircuitBreaker {
  /** The state now (`open` turns `half-open` once `openMs` has passed). */
  state(this: void): CircuitState;
  /** `client` behind this breaker; `close` closes `client`. */
  wrap(this: void, client: UpstreamClient): UpstreamClient;
}

type Verdict = "failure" | "answer" | "neutral";

function classify(error: unknown): Verdict {
  if (!(error instanceof UpstreamError)) {
    return "neutral"; // aborted by the caller, or a bug above the transport
  }
  switch (error.code) {
    case "UPSTREAM_UNAVAILABLE":
    case "UPSTREAM_TIMEOUT":
      return error.retryable ? "failure" : "neutral";
    case "UPSTREAM_TEMPORARY":
    case "UPSTREAM_REJECTED":
    case "UPSTREAM_AUTHENTICATION":
      return "answer";
    default:
      return "neutral";
  }
}

/**
 * Creates a breaker. Throws `RangeError` for a threshold below 1 or a negative `openMs`.
 *
 * While open (and while half-open with its probe in flight, or for writes, which must never be a
 * probe), calls reject at once with `UpstreamError` `UPSTREAM_UNAVAILABLE` ("circuit open;
 * upstream unreachable since ..."), `retryable: true`, without sending anything.
 */
export function createCircuitBreaker(options: CircuitBreakerOptions = {}): CircuitBreaker {
  const threshold = options.failureThreshold ?? CIRCUIT_BREAKER_DEFAULTS.failureThreshold;
  const openMs = options.openMs ?? CIRCUIT_BREAKER_DEFAULTS.openMs;
  if (!Number.isInteger(threshold) || threshold < 1) {
    throw new RangeError("createCircuitBreaker: failureThreshold must be a whole number >= 1");
  }
  if (!Number.isFinite(openMs) || openMs < 0) {
    throw new RangeError("createCircuitBreaker: openMs must be a number >= 0");
  }
  const now = options.now ?? Date.now;
  let current: "closed" | "open" = "closed";
  let failures = 0;
  /** When the first failure of the current run happened: "unreachable since". */
  let failingSince = 0;
  let openedAt = 0;
  let probing = false;
  let reportedHalfOpen = false;

  function transition(from: CircuitState, to: CircuitState): void {
    if (from === to || !options.onStateChange) {
      return;
    }
    try {
      options.onStateChange({ from, to, at: now(), failures });
    } catch {
      // An observer must not change the outcome of a call.
    }
  }

  function state(): CircuitState {
    if (current === "open" && now() - openedAt >= openMs) {
      if (!reportedHalfOpen) {
        reportedHalfOpen = true;
        transition("open", "half-open");
      }
      return "half-open";
    }
    return current;
  }

  function open(from: CircuitState): void {
    current = "open";
    openedAt = now();
    reportedHalfOpen = false;
    transition(from, "open");
  }

  function close(from: CircuitState): void {
    failures = 0;
    current = "closed";
    transition(from, "closed");
  }

  function settle(from: CircuitState, verdict: Verdict | "success"): void {
    if (verdict === "success" || verdict === "answer") {
      if (state() !== "closed" || failures > 0) {
        close(state());
      }
      return;
    }
    if (verdict === "neutral") {
      return;
    }
    if (failures === 0) {
      failingSince = now();
    }
    failures += 1;
    if (from === "half-open" || (current === "closed" && failures >= threshold)) {
      open(from);
    }
  }

  function fastFail(command: CommandName, why: string): UpstreamError {
    const since = new Date(failingSince).toISOString();
    const retry = new Date(openedAt + openMs).toISOString();
    return new UpstreamError({
      code: "UPSTREAM_UNAVAILABLE",
      command,
      message:
        `${command}: circuit ${why}; upstream unreachable since ${since} ` +
        `(next probe from ${retry}); nothing was sent`,
      retryable: true,
    });
  }

  function wrap(client: UpstreamClient): UpstreamClient {
    async function call<C extends CommandName>(
      command: C,
      args: CommandArgs<C>,
      callOptions?: CallOptions,
    ) {
      const before = state();
      let isProbe = false;
      if (before === "open") {
        throw fastFail(command, "open");
      }
      if (before === "half-open") {
        if (probing || COMMANDS[command].kind !== "read") {
          throw fastFail(command, "half-open, a probe is under way");
        }
        probing = true;
        isProbe = true;
      }
      try {
        const reply = await client.call(command, args, callOptions);
        settle(before, "success");
        return reply;
      } catch (error) {
        settle(before, classify(error));
        throw error;
      } finally {
        if (isProbe) {
          probing = false;
        }
      }
    }
    return { call, close: () => client.close() };
  }

  return { state, wrap };
}

/**
 * `client` behind a breaker of its own, with `state()` for health checks and metrics. See
 * `createCircuitBreaker` for the rules.
 */
export function withCircuitBreaker(
  client: UpstreamClient,
  options: CircuitBreakerOptions = {},
): UpstreamClient & { state(): CircuitState } {
  const breaker = createCircuitBreaker(options);
  return { ...breaker.wrap(client), state: breaker.state };
}
