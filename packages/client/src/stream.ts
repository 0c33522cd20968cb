import { EventStreamError } from './errors';
import { runMachine } from './machine';
import { resolveSettings } from './options';
import type { Session } from './session';
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
  const url = endpoint.origin + endpoint.pathname; // named in errors; the query may hold a token
  const doc = globalThis.document as Document | undefined; // undefined in Node
  let state: EventStreamState = 'connecting';
  let closed = false;
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
        const q = quiet[error.code];
        if (q && now < q[0]) q[1]++;
        else {
          console.error(error, ...(q?.[1] ? [`(${q[1]} more like it in the last minute)`] : []));
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
      if (fn !== onError) report(s.error('handler', false, 0, '', cause));
    }
  };
  const report = (error: EventStreamError) => call(onError, error);

  const s: Session = {
    href: String(endpoint),
    settings,
    options,
    cursor: options.lastEventId ?? '',
    base: settings.backoff.initialMs,
    retryAfter: 0,
    refresh: false,
    attempt: 0,
    failures: 0,
    foreign: 0,
    reason: undefined,
    ctl: undefined,
    get closed() {
      return closed;
    },
    get state() {
      return state;
    },
    enter(next) {
      if (next === 'open') s.reason = undefined;
      if (state === next || state === 'closed') return;
      state = next;
      for (const fn of stateListeners) call(fn, next, s.reason);
    },
    deliver(item) {
      if (closed) return;
      if (item.reset) call(options.onReset, item);
      else
        for (const key of [item.event.type, '*'])
          for (const fn of handlers.get(key) ?? []) call(fn, item.event, item.position);
      for (const sink of sinks) sink(item);
    },
    report,
    error: (code, fatal = false, status, detail, cause) =>
      new EventStreamError(code, fatal, status, detail, cause ? { cause, url } : { url }),
    fail(error) {
      failure = s.reason = error;
      report(error);
      close();
    },
    paused: () => offline || (!!options.pauseWhenHidden && doc?.visibilityState === 'hidden'),
    sleep: (ms) =>
      new Promise<void>((resolve) => {
        wake = () => {
          wake = undefined;
          clearTimeout(timer);
          resolve();
        };
        if (ms !== undefined) timer = setTimeout(wake, ms);
      }),
  };

  // Browser niceties: pause while offline (and, opt-in, while hidden); resume at once.
  const onVisibility = (event: Event) => {
    if (event.type !== 'visibilitychange') offline = event.type === 'offline';
    if (s.paused()) {
      s.ctl?.abort();
      s.enter('connecting');
    } else wake?.();
  };
  const listen = (on: boolean) => {
    const method = on ? 'addEventListener' : 'removeEventListener';
    for (const type of ['online', 'offline']) globalThis[method]?.(type, onVisibility); // no-op in Node
    if (options.pauseWhenHidden) doc?.[method]('visibilitychange', onVisibility);
    options.signal?.[method]('abort', close);
  };

  const close = () => {
    if (closed) return;
    closed = true;
    s.ctl?.abort();
    wake?.();
    listen(false);
    s.reason = failure; // closed for good: the fatal error, if any, is the only reason left
    s.enter('closed');
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
      return state;
    },
    get reason() {
      return s.reason;
    },
    get lastEventId() {
      return s.cursor;
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
          if (closed) {
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
    runMachine(s).catch((cause) => s.fail(s.error('network', true, 0, '', cause)));
  }
  return stream;
}
