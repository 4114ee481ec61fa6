/** Runs `task` when a slot is free; resolves or rejects with the task's outcome. */
export type Limiter = <T>(task: () => Promise<T>) => Promise<T>;

/**
 * A counting semaphore: at most `max` tasks run at once, the others wait in arrival order.
 * One per request (see `createLoaders`), so a list of N certificates that needs full records
 * sends its N reads `max` at a time, never one after another and never all at once.
 *
 * @param max - concurrent tasks, at least 1 (smaller values are raised to 1)
 */
export function createLimiter(max: number): Limiter {
  const slots = Math.max(1, Math.floor(max));
  let running = 0;
  const waiting: (() => void)[] = [];

  const release = (): void => {
    running -= 1;
    const next = waiting.shift();
    if (next) {
      running += 1;
      next();
    }
  };

  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (running < slots) {
      running += 1;
    } else {
      await new Promise<void>(resolve => waiting.push(resolve));
    }
    try {
      return await task();
    } finally {
      release();
    }
  };
}
