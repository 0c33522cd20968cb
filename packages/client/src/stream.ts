import { EventStreamError } from './errors';
import { createMachine } from './machine';
import { resolveSettings } from './options';
import type { EventHandler, EventStream, EventStreamOptions, EventStreamState, StreamItem } from './types';

/**
 * Opens a resilient event stream on `url` (SSE over `fetch`, JSON long-poll fallback on the same
 * URL) and keeps it open: exponential backoff with full jitter, resume from the last position on
 * every reconnect and poll, heartbeat watchdog, `reset` handling, pause while offline. It connects
 * at once; attach handlers right away (nothing is delivered before the first `await`).
 *
 * @example
 * ```ts
 * const stream = createEventStream(`/api/repositories/${id}/events`, {
 *   lastEventId: snapshot.position,
 *   onReset: () => reloadSnapshot(),
 * });
 * stream.on('task.progress', (event) => render(event.payload.percent));
 * stream.onState((state) => badge.textContent = state);
 * // later
 * stream.close();
 * ```
 */
export function createEventStream(input: string | URL, options: EventStreamOptions = {}): EventStream {
  let endpoint: URL;
  try {
    endpoint = new URL(input, globalThis.location?.href);
  } catch {
    throw new EventStreamError('invalid_argument', true, 0, `url ${input}`);
  }
  const settings = resolveSettings(options);
  const doc = globalThis.document as Document | undefined; // undefined in Node
  let failure: EventStreamError | undefined;
  let offline = globalThis.navigator?.onLine === false;
  let timer: ReturnType<typeof setTimeout> | undefined; // the backoff sleep
  let wake: (() => void) | undefined;
  let toldForeign = false;
  const handlers = new Map<string, Set<EventHandler>>();
  const stateListeners = new Set<(state: EventStreamState, reason?: EventStreamError) => void>();
  const sinks = new Set<(item?: StreamItem) => void>();

  // The default: log what is not retried, and the first answer that is not the protocol (a wrong URL).
  // Rate-limited per code: the first of a minute is logged, the rest counted into the next line.
  const quiet: Record<string, [until: number, suppressed: number]> = {};
  const onError =
    options.onError ??
    ((error: EventStreamError) => {
      const foreign = error.code === 'bad_response';
      if (
        error.fatal ||
        error.code === 'handler' ||
        error.code === 'bad_event' ||
        (foreign && !toldForeign)
      ) {
        const now = Date.now();
        const quieted = quiet[error.code];
        if (quieted && now < quieted[0]) quieted[1]++;
        else {
          console.error(error, ...(quieted?.[1] ? [`(${quieted[1]} more like it in the last minute)`] : []));
          quiet[error.code] = [now + 6e4, 0];
        }
      }
      toldForeign ||= foreign;
    });
  // biome-ignore lint/complexity/noBannedTypes: calls any user callback with its own arguments
  const call = (fn: Function | undefined, a?: unknown, b?: unknown) => {
    try {
      fn?.(a, b);
    } catch (cause) {
      if (fn !== onError)
        report(
          new EventStreamError('handler', false, 0, '', { cause, url: endpoint.origin + endpoint.pathname }),
        );
    }
  };
  const report = (error: EventStreamError) => call(onError, error);
  const paused = () => offline || (!!options.pauseWhenHidden && doc?.visibilityState === 'hidden');

  const machine = createMachine(endpoint, settings, options, {
    onState(state, reason) {
      for (const listener of stateListeners) call(listener, state, reason);
    },
    deliver(item) {
      if (machine.state === 'closed') return;
      if (item.reset) call(options.onReset, item);
      else
        for (const key of [item.event.type, '*'])
          for (const handler of handlers.get(key) ?? []) call(handler, item.event, item.position);
      for (const sink of sinks) sink(item);
    },
    report,
    fail(error) {
      failure = error;
      report(error);
      close();
    },
    paused,
    sleep: (ms) =>
      new Promise<void>((resolve) => {
        wake = () => {
          wake = undefined;
          clearTimeout(timer);
          resolve();
        };
        if (ms !== undefined) timer = setTimeout(wake, ms);
      }),
  });

  // Browser niceties: pause while offline (and, opt-in, while hidden); resume at once.
  const onVisibility = (event: Event) => {
    if (event.type !== 'visibilitychange') offline = event.type === 'offline';
    if (paused()) machine.pause();
    else wake?.();
  };
  const listen = (on: boolean) => {
    const method = on ? 'addEventListener' : 'removeEventListener';
    for (const type of ['online', 'offline']) globalThis[method]?.(type, onVisibility); // no-op in Node
    if (options.pauseWhenHidden) doc?.[method]('visibilitychange', onVisibility);
    options.signal?.[method]('abort', close);
  };

  const close = () => {
    if (machine.state === 'closed') return;
    wake?.();
    listen(false);
    machine.stop(failure);
    for (const sink of sinks) sink();
  };

  const stream: EventStream = {
    on: ((type: string, handler: EventHandler) => {
      const set = handlers.get(type) ?? new Set();
      handlers.set(type, set.add(handler));
      return () => {
        set.delete(handler);
      };
    }) as EventStream['on'],
    onState(listener) {
      stateListeners.add(listener);
      return () => {
        stateListeners.delete(listener);
      };
    },
    get state() {
      return machine.state;
    },
    get reason() {
      return machine.reason;
    },
    get lastEventId() {
      return machine.lastEventId;
    },
    get error() {
      return failure;
    },
    close,
    async *[Symbol.asyncIterator]() {
      const queue: StreamItem[] = [];
      let notify = () => {};
      const sink = (item?: StreamItem) => {
        if (item) queue.push(item);
        notify();
      };
      sinks.add(sink);
      try {
        for (;;) {
          while (queue.length) yield queue.shift()!;
          if (machine.state === 'closed') {
            if (failure) throw failure;
            return;
          }
          await new Promise<void>((resolve) => {
            notify = resolve;
          });
        }
      } finally {
        sinks.delete(sink);
        close();
      }
    },
  };

  if (options.signal?.aborted) close();
  else {
    listen(true);
    void machine.run();
  }
  return stream;
}
