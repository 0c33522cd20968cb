import type { Attempt, Outcome } from './attempt';
import { computeBackoff } from './backoff';
import { EventStreamError } from './errors';
import type { Settings } from './options';
import { pollOnce } from './poll-transport';
import { connectSse } from './sse-transport';
import type { EventStreamOptions, EventStreamState, StreamItem } from './types';

/** What a stream gives its state machine: delivery, error reporting, and the pause it follows. */
export interface MachineHost {
  /** Tells the state listeners: the state changed (`reason`: see `EventStream.reason`). */
  onState(state: EventStreamState, reason: EventStreamError | undefined): void;
  /** Hands an event or reset to handlers, `onReset` and iterators. */
  deliver(item: StreamItem): void;
  /** Reports an error to `onError`. */
  report(error: EventStreamError): void;
  /** Reports a fatal error, then closes the stream with it. */
  fail(error: EventStreamError): void;
  /** True while offline (or hidden, with `pauseWhenHidden`): no request then. */
  paused(): boolean;
  /** Waits `ms`, or until woken (online, visible, close); forever when `ms` is undefined. */
  sleep(ms?: number): Promise<void>;
}

/** A running state machine: its state, read by the stream, and the two ways to stop it. */
export interface Machine {
  readonly state: EventStreamState;
  /** See `EventStream.reason`. */
  readonly reason: EventStreamError | undefined;
  /** The resume position: the last event id received. */
  readonly lastEventId: string;
  /** Runs until closed, one attempt at a time. */
  run(): Promise<void>;
  /** Aborts the request in flight (a pause) and shows `connecting`. */
  pause(): void;
  /** Closes for good; `failure` is the fatal error, if any. */
  stop(failure?: EventStreamError): void;
}

/**
 * The connection state machine of one stream, and the only keeper of its state: runs one attempt
 * (an SSE connection or one long-poll) at a time, deciding from each attempt's outcome what comes
 * next.
 *
 * - `connecting`: an SSE attempt before its first byte, a backoff wait, or a pause (offline, or
 *   hidden with `pauseWhenHidden`).
 * - `open`: SSE bytes flow. When the stream ends or fails: `connecting`, backoff, reconnect.
 * - `polling`: the long-poll fallback, entered when a poll is answered; polls follow each other
 *   at once. The switch comes after `afterFailures` failed SSE attempts in a row, a 200 that is
 *   not an event stream, or no first byte within `probeTimeoutMs`.
 * - `probing`: while polling, every `upgradeIntervalMs` (and once right after the first answered
 *   poll when failures caused the switch), one SSE attempt: its first byte → `open`; anything
 *   else → back to `polling` at once.
 * - `closed`: for good (`close()`, the signal, or a fatal error).
 */
export function createMachine(
  endpoint: URL,
  settings: Settings,
  options: EventStreamOptions,
  host: MachineHost,
): Machine {
  const { fallback, maxRetries, backoff } = settings;
  const href = String(endpoint);
  const url = endpoint.origin + endpoint.pathname; // named in errors; the query may hold a token
  let state: EventStreamState = 'connecting';
  let reason: EventStreamError | undefined;
  let cursor = options.lastEventId ?? '';
  let baseDelay = backoff.initialMs; // replaced by the server's `retry:`
  let refresh = false; // between a 401 and the next 200: ask the headers with `refresh: true`
  let retries = 0; // failed attempts since the last healthy connection or answered poll (the backoff exponent)
  let sseFailures = 0; // failed SSE attempts in a row, for `fallback.afterFailures`
  let foreignAnswers = 0; // 200s in a row that were neither an event stream nor the long-poll JSON
  let inFlight: AbortController | undefined; // the one request in flight, aborted by stop and pauses

  const closed = () => state === 'closed';
  const enter = (next: EventStreamState) => {
    if (next === 'open') reason = undefined;
    if (state === next || closed()) return;
    state = next;
    host.onState(next, reason);
  };

  const error = (
    code: EventStreamError['code'],
    fatal = false,
    status?: number,
    detail?: string,
    cause?: unknown,
  ) => new EventStreamError(code, fatal, status, detail, cause ? { cause, url } : { url });

  // One attempt: SSE, or a poll when `polling`.
  const attemptOnce = (polling: boolean): Promise<Outcome> => {
    const controller = new AbortController();
    inFlight = controller;
    const attempt: Attempt = {
      headers: options.headers,
      credentials: options.credentials,
      ...settings,
      href,
      lastEventId: cursor,
      refresh,
      controller,
      answered() {
        refresh = false; // the 200 after a 401: the refresh worked
        foreignAnswers = 0;
        if (!polling) return;
        retries = 0;
        enter('polling');
      },
      opened: () => enter('open'),
      healthy: () => {
        retries = sseFailures = 0;
      },
      deliver(position, item) {
        cursor = position;
        if (item) host.deliver(item);
      },
      retry: (ms) => {
        baseDelay = ms;
      },
      report: host.report,
      error,
    };
    return polling ? pollOnce(attempt) : connectSse(attempt);
  };

  const run = async () => {
    let pollingSince = 0; // 0: SSE mode; else when polling began or the last probe failed
    let retest = false; // failures caused the switch: probe right after the first answered poll
    let lastError: EventStreamError | undefined; // the cause of retries_exhausted
    while (!closed()) {
      if (host.paused()) {
        enter('connecting');
        await host.sleep();
        continue;
      }
      const probing = !!pollingSince && Date.now() - pollingSince >= fallback!.upgradeIntervalMs;
      if (probing) enter('probing');
      let outcome = await attemptOnce(!!pollingSince && !probing);
      if (state === 'open') pollingSince = 0; // bytes flowed: SSE mode from now on
      if (closed() || host.paused()) continue;
      if (outcome.to === 'bad_response') {
        refresh = false; // a 200 all the same
        // Neither transport got an answer of the protocol that often: the URL is wrong.
        const fatal = !fallback || ++foreignAnswers >= fallback.afterFailures;
        const foreign = error('bad_response', fatal, 200, outcome.message);
        if (fatal) return host.fail(foreign);
        if (pollingSince && !probing) outcome = { to: 'retry', error: foreign };
        else {
          host.report(foreign);
          outcome = { to: 'poll', reason: foreign };
        }
      }
      if (outcome.to === 'closed') return host.fail(outcome.error);
      if (outcome.to === 'again') refresh = true;
      if (outcome.to === 'next' && retest) {
        retest = false;
        pollingSince = 1; // long ago: the probe is due
      }
      if (outcome.to === 'again' || outcome.to === 'next') continue;
      if (outcome.to === 'poll' || (probing && pollingSince)) {
        // To long-polling, or back to it after a probe that got no byte (next probe after the interval).
        if (outcome.to === 'poll') reason = outcome.reason;
        pollingSince = Date.now();
        if (probing) enter('polling');
        continue;
      }
      // A failed or ended attempt: back off (a failed poll too), or switch after afterFailures.
      if (outcome.error) {
        host.report(outcome.error);
        lastError = reason = outcome.error;
      }
      if (fallback && !pollingSince && ++sseFailures >= fallback.afterFailures) {
        sseFailures = 0;
        retest = true;
        pollingSince = Date.now();
        continue;
      }
      if (retries >= maxRetries) return host.fail(error('retries_exhausted', true, 0, '', lastError));
      enter('connecting');
      const delay = computeBackoff(retries++, { ...backoff, initialMs: baseDelay });
      await host.sleep((outcome.retryAfterMs ?? 0) + delay);
    }
  };

  return {
    get state() {
      return state;
    },
    get reason() {
      return reason;
    },
    get lastEventId() {
      return cursor;
    },
    run: () => run().catch((cause) => host.fail(error('network', true, 0, '', cause))),
    pause() {
      inFlight?.abort();
      enter('connecting');
    },
    stop(failure) {
      inFlight?.abort();
      if (closed()) return;
      reason = failure; // closed for good: the fatal error, if any, is the only reason left
      enter('closed');
    },
  };
}
