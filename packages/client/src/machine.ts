import { computeBackoff } from './backoff';
import type { EventStreamError } from './errors';
import { pollOnce } from './poll-transport';
import type { Session } from './session';
import { connectSse } from './sse-transport';

/**
 * The connection state machine: runs one stream until it closes, one attempt (an SSE connection
 * or one long-poll) at a time, deciding from each attempt's outcome what comes next.
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
export async function runMachine(s: Session): Promise<void> {
  const { fallback, maxRetries, backoff } = s.settings;
  let pollingSince = 0; // 0: SSE mode; else when polling began or the last probe failed
  let retest = false; // failures caused the switch: probe right after the first answered poll
  let last: EventStreamError | undefined; // the last error reported: the cause of retries_exhausted
  while (!s.closed) {
    if (s.paused()) {
      s.enter('connecting');
      await s.sleep();
      continue;
    }
    const c = new AbortController();
    s.ctl = c;
    s.retryAfter = 0;
    const probing = !!pollingSince && Date.now() - pollingSince >= fallback!.upgradeIntervalMs;
    if (probing) s.enter('probing');
    const outcome = pollingSince && !probing ? await pollOnce(s, c) : await connectSse(s, c);
    if (s.state === 'open') pollingSince = 0; // bytes flowed: SSE mode from now on
    if (s.closed || s.paused()) continue;
    if (outcome.to === 'closed') return s.fail(outcome.error);
    if (outcome.to === 'next' && retest) {
      retest = false;
      pollingSince = 1; // long ago: the probe is due
    }
    if (outcome.to === 'again' || outcome.to === 'next') continue;
    if (outcome.to === 'poll' || (probing && pollingSince)) {
      // To long-polling, or back to it after a probe that got no byte (next probe after the interval).
      if (outcome.to === 'poll') s.reason = outcome.reason;
      pollingSince = Date.now();
      if (probing) s.enter('polling');
      continue;
    }
    // A failed or ended attempt: back off (a failed poll too), or switch after afterFailures.
    const error = outcome.error;
    if (error) {
      s.report(error);
      last = s.reason = error;
    }
    if (fallback && !pollingSince && ++s.failures >= fallback.afterFailures) {
      s.failures = 0;
      retest = true;
      pollingSince = Date.now();
      continue;
    }
    if (s.attempt >= maxRetries) return s.fail(s.error('retries_exhausted', true, 0, '', last));
    s.enter('connecting');
    await s.sleep(s.retryAfter + computeBackoff(s.attempt++, { ...backoff, initialMs: s.base }));
  }
}
