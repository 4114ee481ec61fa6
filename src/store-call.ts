/**
 * The two guards every store call outside the cache needs (rate limits, the live-status stores):
 * a bound on how long a Redis call may take, since its calls can hang while Redis is half dead,
 * and a way to report a failure to a hook that must not break the caller.
 */

/** A store call did not answer within its bound. */
export class StoreTimeoutError extends Error {
  override readonly name = "StoreTimeoutError";
}

/**
 * `promise`, or a `StoreTimeoutError` ("<what> timed out after <ms> ms") once `ms` passed. The
 * timer does not hold the process up, and the losing promise never becomes an unhandled
 * rejection.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, what = "store call"): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StoreTimeoutError(`${what} timed out after ${ms} ms`)), ms);
    timer.unref();
  });
  promise.catch(() => undefined);
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Hands `caught` (as an `Error`) to `listener`; a listener that throws is ignored. */
export function notify(listener: ((error: Error) => void) | undefined, caught: unknown): void {
  try {
    listener?.(caught instanceof Error ? caught : new Error(String(caught)));
  } catch {
    // A broken listener must not break the caller.
  }
}
