import { createEventStream } from "../../src/event-stream";

/** A listener registry like the event bus's, recording whether anyone still listens. */
function source() {
  let listener: ((value: number) => void) | undefined;
  return {
    listen: (push: (value: number) => void) => {
      listener = push;
      return () => {
        listener = undefined;
      };
    },
    emit: (value: number) => listener?.(value),
    listening: () => listener !== undefined,
  };
}

describe("createEventStream", () => {
  it("yields what arrives, buffered or awaited, in order", async () => {
    const events = source();
    const stream = createEventStream({
      listen: events.listen,
      maxBuffered: 10,
      overflowError: () => new Error("overflow"),
    });

    events.emit(1);
    events.emit(2);
    const waiting = stream
      .next()
      .then(() => stream.next())
      .then(() => stream.next());
    events.emit(3);

    expect(await waiting).toEqual({ value: 3, done: false });
  });

  it("stops listening on return(), even while a next() waits, which then ends", async () => {
    const events = source();
    const stream = createEventStream({
      listen: events.listen,
      maxBuffered: 10,
      overflowError: () => new Error("overflow"),
    });
    const waiting = stream.next();

    await stream.return?.();

    expect(await waiting).toEqual({ value: undefined, done: true });
    expect(events.listening()).toBe(false);
    events.emit(1);
    expect(await stream.next()).toEqual({ value: undefined, done: true });
  });

  it("ends a consumer that falls more than maxBuffered behind with the overflow error", async () => {
    const events = source();
    const stream = createEventStream({
      listen: events.listen,
      maxBuffered: 2,
      overflowError: () => new Error("too slow"),
    });

    events.emit(1);
    events.emit(2);
    events.emit(3);

    expect(events.listening()).toBe(false);
    await expect(stream.next()).rejects.toThrow("too slow");
    expect(await stream.next()).toEqual({ value: undefined, done: true });
  });
});
