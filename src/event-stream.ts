/**
 * A listener-style subscription turned into the async iterator a GraphQL subscription resolves
 * to, with a bounded buffer: a subscriber that does not keep up is ended with an error rather than
 * let the buffer grow (it can read what it missed from the event history).
 */

/** Options of `createEventStream`. */
export interface EventStreamOptions<T> {
  /** Starts listening; returns the function that stops it (called once, on end). */
  readonly listen: (push: (value: T) => void) => () => void;
  /** Most values buffered for a slow consumer; one more ends the stream with `overflowError`. */
  readonly maxBuffered: number;
  /** The error the consumer receives after an overflow. */
  readonly overflowError: () => Error;
}

/**
 * Listens at once and returns the iterator of what arrives from now on. `return()` (the consumer
 * went away: client `complete`, socket closed) stops listening at once, even while a `next()` is
 * waiting, which then resolves `done`. After an overflow the buffered values are dropped, the
 * next `next()` rejects with `overflowError()` and later ones are `done`.
 */
export function createEventStream<T>(options: EventStreamOptions<T>): AsyncIterableIterator<T> {
  const buffer: T[] = [];
  let waiting: ((result: IteratorResult<T>) => void) | undefined;
  let failure: Error | undefined;
  let ended = false;
  let stop: (() => void) | undefined;

  const end = (): void => {
    if (!ended) {
      ended = true;
      stop?.();
      stop = undefined;
    }
  };

  const push = (value: T): void => {
    if (ended) {
      return;
    }
    if (waiting) {
      const resolve = waiting;
      waiting = undefined;
      resolve({ value, done: false });
      return;
    }
    if (buffer.length >= options.maxBuffered) {
      buffer.length = 0;
      failure = options.overflowError();
      end();
      return;
    }
    buffer.push(value);
  };

  stop = options.listen(push);
  if (ended) {
    stop();
  }

  const iterator: AsyncIterableIterator<T> = {
    next() {
      if (buffer.length > 0) {
        return Promise.resolve({ value: buffer.shift() as T, done: false });
      }
      if (failure) {
        const error = failure;
        failure = undefined;
        return Promise.reject(error);
      }
      if (ended) {
        return Promise.resolve({ value: undefined, done: true });
      }
      return new Promise<IteratorResult<T>>(resolve => {
        waiting = resolve;
      });
    },
    return() {
      end();
      buffer.length = 0;
      failure = undefined;
      const resolve = waiting;
      waiting = undefined;
      resolve?.({ value: undefined, done: true });
      return Promise.resolve({ value: undefined, done: true });
    },
    throw(error?: unknown) {
      void iterator.return?.();
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
