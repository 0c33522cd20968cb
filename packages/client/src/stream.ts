import type { AnyEnvelope, ResetReason, StreamPosition } from '@repopulse/events-core';
import { computeBackoff, parseRetryAfter } from './backoff';
import { EventStreamError, type EventStreamErrorCode } from './errors';
import { createSseParser, type SseMessage } from './sse-parser';
import type {
  EventHandler,
  EventStream,
  EventStreamOptions,
  EventStreamState,
  FetchLike,
  ResetNotice,
  StreamItem,
} from './types';

/** A connection that delivered an event or stayed open this long resets the retry counter. */
const HEALTHY_MS = 5000;

/** Statuses that stop the stream, with their error codes; other 4xx but 408/429 are fatal too. */
const FATAL: Record<number, EventStreamErrorCode> = {
  204: 'no_content',
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
};

// Abort reason of the watchdog, and markers thrown inside the loop (never escape it).
const TIMEOUT = {};
const RETRY_NOW = {};
const ENDED = {};

/** The JSON long-poll answer (see DESIGN.md "One URL, two transports"). */
interface PollBody {
  events: { position: StreamPosition; event: AnyEnvelope }[];
  position?: StreamPosition;
  reset?: { reason: ResetReason; position: StreamPosition };
}

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
export function createEventStream(url: string | URL, options: EventStreamOptions = {}): EventStream {
  let endpoint: URL;
  try {
    endpoint = new URL(url, globalThis.location?.href);
  } catch {
    throw new EventStreamError('invalid_argument', true, 0, `url ${url}`);
  }
  const href = String(endpoint);
  const fetchFn: FetchLike = options.fetch ?? ((input, init) => fetch(input, init));
  const heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? 37_500;
  const maxRetries = options.maxRetries ?? 1 / 0; // Infinity
  let toldForeign = false;
  // Logs what is not retried, and the first answer that is not the protocol (a wrong URL).
  const onError =
    options.onError ??
    ((error: EventStreamError) => {
      const foreign = error.code === 'bad_response';
      if (error.fatal || error.code === 'handler' || error.code === 'bad_event' || (foreign && !toldForeign))
        console.error(error);
      toldForeign ||= foreign;
    });
  const backoff = { initialMs: 1000, maxMs: 30_000, factor: 2, ...options.backoff };
  const fallback =
    options.fallback === false
      ? undefined
      : {
          afterFailures: 3,
          probeTimeoutMs: 5000,
          upgradeIntervalMs: 60_000,
          waitSeconds: 25,
          ...options.fallback,
        };
  for (const [name, value] of Object.entries({ heartbeatTimeoutMs, maxRetries, ...backoff, ...fallback })) {
    if (!(value >= 0)) throw new EventStreamError('invalid_argument', true, 0, name);
  }
  const doc = globalThis.document as Document | undefined; // undefined in Node

  let cursor = options.lastEventId ?? '';
  let state: EventStreamState = 'connecting';
  let closed = false;
  let failure: EventStreamError | undefined;
  let offline = globalThis.navigator?.onLine === false;
  let attempt = 0; // consecutive failures since the last healthy connection or successful poll
  let sseFailures = 0; // consecutive failed SSE attempts, for fallback.afterFailures
  let base = backoff.initialMs; // the server's `retry:` replaces it
  let pollingSince = 0; // 0: SSE mode; else when polling started or the last upgrade probe failed
  let retest = false; // polling after afterFailures: probe SSE right after the first good poll
  let refresh = false; // the one credential refresh after a 401 is in progress
  let retryAfter = 0;
  let foreign = 0; // consecutive 200 answers that were neither SSE nor the long-poll JSON
  let ctl: AbortController | undefined; // the one connection or poll in flight (never two)
  // One timer at a time: the watchdog while a request is in flight, the backoff sleep between.
  let timer: ReturnType<typeof setTimeout> | undefined;
  let wake: (() => void) | undefined;
  let lastByte = 0;
  let limit = 0;
  const handlers = new Map<string, Set<EventHandler>>();
  const stateListeners = new Set<(state: EventStreamState) => void>();
  const sinks = new Set<(item?: StreamItem) => void>();

  // biome-ignore lint/complexity/noBannedTypes: calls any user callback with its own arguments
  const call = (fn: Function | undefined, a?: unknown, b?: unknown) => {
    try {
      fn?.(a, b);
    } catch (cause) {
      if (fn !== onError) report(new EventStreamError('handler', false, 0, '', { cause }));
    }
  };
  const report = (error: EventStreamError) => call(onError, error);

  const setState = (next: EventStreamState) => {
    if (state === next || state === 'closed') return;
    state = next;
    for (const fn of stateListeners) call(fn, next);
  };

  const deliver = (item: StreamItem) => {
    if (closed) return;
    if (item.reset) call(options.onReset, item);
    else
      for (const key of [item.event.type, '*'])
        for (const fn of handlers.get(key) ?? []) call(fn, item.event, item.position);
    for (const sink of sinks) sink(item);
  };

  const onMessage = (message: SseMessage) => {
    // WHATWG: the last event id persists across events; an empty `id:` clears it.
    cursor = message.id;
    if (message.data === undefined) return;
    let data: { type?: unknown } | undefined;
    try {
      data = JSON.parse(message.data);
    } catch {}
    const position = cursor as StreamPosition;
    if (message.event === 'reset' && data) deliver({ ...(data as ResetNotice), reset: true });
    else if (typeof data?.type === 'string') deliver({ position, event: data as AnyEnvelope });
    else report(new EventStreamError('bad_event', false, 0, message.data.slice(0, 80)));
  };

  // Wall-clock watchdog: aborts the request in flight once no byte arrived for `limit` ms. It
  // compares Date.now() at each check, so a timer that fires late (throttled background tab,
  // sleeping laptop) still sees the real silence; it wakes at most once per `limit` ms.
  const watch = (c: AbortController, ms: number) => {
    lastByte = Date.now();
    limit = ms;
    const check = () => {
      const now = Date.now();
      if (now < lastByte) lastByte = now; // the clock was set back: measure from now
      const idle = now - lastByte;
      if (idle >= limit) c.abort(TIMEOUT);
      else timer = setTimeout(check, limit - idle);
    };
    timer = setTimeout(check, ms);
  };

  const request = async (c: AbortController, target: string, accept: string): Promise<Response> => {
    let headers: Headers;
    try {
      const init = options.headers;
      headers = new Headers(typeof init === 'function' ? await init({ refresh }) : init);
    } catch (cause) {
      throw new EventStreamError('headers', false, 0, '', { cause });
    }
    headers.set('Accept', accept);
    // A header value is a ByteString: send the id's UTF-8 bytes, as EventSource does.
    if (cursor && accept[0] === 't')
      headers.set('Last-Event-ID', String.fromCharCode(...new TextEncoder().encode(cursor)));
    const res = await fetchFn(target, {
      headers,
      signal: c.signal,
      credentials: options.credentials,
      cache: 'no-store',
    });
    const status = res.status;
    // Only a 200 carries a stream (or a poll answer); 204 and any other 2xx stop, as in EventSource.
    if (status === 200) {
      refresh = false;
      return res;
    }
    const detail: string = await res
      .json()
      .then((body) => body.error.message)
      .catch(() => '');
    if (status === 401 && !refresh) {
      refresh = true;
      throw RETRY_NOW;
    }
    const retryable = status === 408 || status === 429 || status > 499;
    retryAfter = parseRetryAfter(res.headers.get('retry-after'));
    throw new EventStreamError(
      retryable ? 'http_status' : (FATAL[status] ?? 'http_status'),
      !retryable,
      status,
      detail,
    );
  };

  /** One SSE connection, until it fails or ends. Returns (to go on at once) when switching to polling. */
  const connect = async (c: AbortController) => {
    let opened = 0;
    let events = 0;
    watch(c, fallback ? fallback.probeTimeoutMs : heartbeatTimeoutMs);
    try {
      const res = await request(c, href, 'text/event-stream');
      if (!/^text\/event-stream/i.test(res.headers.get('content-type')!)) {
        res.body?.cancel().catch(() => {});
        const type = `not text/event-stream but ${res.headers.get('content-type')}`;
        if (!fallback || ++foreign >= fallback.afterFailures)
          throw new EventStreamError('bad_response', true, 200, type);
        report(new EventStreamError('bad_response', false, 200, type));
        pollingSince = Date.now();
        return;
      }
      foreign = 0;
      const feed = createSseParser(
        (message) => {
          events++;
          onMessage(message);
        },
        (ms) => {
          base = ms;
        },
        cursor,
      );
      const reader = res.body!.getReader();
      const decoder = new TextDecoder(); // strips a leading BOM, decodes UTF-8 across chunks
      for (;;) {
        const { done, value } = await reader.read();
        if (done) throw ENDED;
        lastByte = Date.now();
        if (!opened) {
          opened = lastByte;
          limit = heartbeatTimeoutMs;
          pollingSince = 0;
          setState('open');
        }
        feed(decoder.decode(value, { stream: true }));
      }
    } catch (error) {
      // Headers but no first byte within the probe window: a buffering proxy. Poll instead.
      if (!opened && fallback && c.signal.reason === TIMEOUT) {
        pollingSince = Date.now();
        return;
      }
      throw error;
    } finally {
      if (opened && (events || Date.now() - opened >= HEALTHY_MS)) attempt = sseFailures = 0;
    }
  };

  /** One long-poll request on the same URL with the same cursor. */
  const poll = async (c: AbortController, wait: number) => {
    const target = new URL(href);
    target.searchParams.set('wait', `${wait}`);
    if (cursor) target.searchParams.set('after', cursor);
    watch(c, wait * 1000 + heartbeatTimeoutMs);
    const res = await request(c, `${target}`, 'application/json');
    const body: PollBody | undefined = await res.json().catch(() => undefined);
    if (!Array.isArray(body?.events)) {
      const fatal = ++foreign >= fallback!.afterFailures; // a URL that speaks neither transport
      throw new EventStreamError('bad_response', fatal, 200, 'not the long-poll JSON');
    }
    attempt = foreign = 0;
    setState('polling');
    // The SSE failures may have been the server restarting, not SSE being blocked: retry it now.
    if (retest) {
      retest = false;
      pollingSince = 1; // long ago: the upgrade probe is due
    }
    const { reset, events, position } = body;
    if (reset) {
      cursor = reset.position;
      deliver({ ...reset, reset: true });
    }
    for (const delivery of events) {
      cursor = delivery.position;
      deliver(delivery);
    }
    if (position) cursor = position;
  };

  const paused = () => offline || (!!options.pauseWhenHidden && doc?.visibilityState === 'hidden');

  // Waits `ms` (forever when omitted) or until woken by online/visible/close.
  const sleep = (ms?: number) =>
    new Promise<void>((resolve) => {
      wake = () => {
        wake = undefined;
        clearTimeout(timer);
        resolve();
      };
      if (ms !== undefined) timer = setTimeout(wake, ms);
    });

  const run = async () => {
    let error: EventStreamError | undefined;
    while (!closed) {
      if (paused()) {
        setState('connecting');
        await sleep();
        continue;
      }
      const c = new AbortController();
      ctl = c;
      retryAfter = 0;
      try {
        // pollingSince is only ever set when fallback is on
        if (pollingSince && Date.now() - pollingSince < fallback!.upgradeIntervalMs) {
          await poll(c, fallback!.waitSeconds);
        } else {
          try {
            await connect(c);
          } catch (e) {
            // A failed upgrade probe: back to polling at once, probe again after the interval.
            if (!pollingSince || closed || (e instanceof EventStreamError && e.fatal)) throw e;
            pollingSince = Date.now();
          }
        }
        continue;
      } catch (e) {
        if (closed || paused() || e === RETRY_NOW) continue;
        error =
          c.signal.reason === TIMEOUT
            ? new EventStreamError('heartbeat_timeout')
            : e instanceof EventStreamError
              ? e
              : e === ENDED
                ? error
                : new EventStreamError('network', false, 0, '', { cause: e });
        if (error?.fatal) return fail(error);
        if (error && e !== ENDED) report(error);
        if (fallback && !pollingSince && ++sseFailures >= fallback.afterFailures) {
          pollingSince = Date.now();
          sseFailures = 0;
          retest = true;
          continue;
        }
      } finally {
        clearTimeout(timer);
      }
      if (attempt >= maxRetries)
        return fail(new EventStreamError('retries_exhausted', true, 0, '', { cause: error }));
      setState('connecting');
      await sleep(retryAfter + computeBackoff(attempt++, { ...backoff, initialMs: base }));
    }
  };

  const fail = (error: EventStreamError) => {
    failure = error;
    report(error);
    close();
  };

  // Browser niceties: pause while offline (and, opt-in, while hidden); resume at once.
  const onVisibility = (event: Event) => {
    if (event.type !== 'visibilitychange') offline = event.type === 'offline';
    if (paused()) {
      ctl?.abort();
      setState('connecting');
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
    ctl?.abort();
    clearTimeout(timer);
    wake?.();
    listen(false);
    setState('closed');
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
    get lastEventId() {
      return cursor;
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
    run().catch((cause) => fail(new EventStreamError('network', true, 0, '', { cause })));
  }
  return stream;
}
