import { parseLongPollBody, STREAM_QUERY } from '@repopulse/events-core/wire';
import type { Attempt, Outcome } from './attempt';
import { send } from './request';
import { watchdog } from './watchdog';

/**
 * One long-poll on the stream URL (`Accept: application/json`, `?after=<lastEventId>&wait=<s>`),
 * delivering what it answered; reports `answered` when answered with the long-poll JSON. A poll
 * with no answer after `wait` plus `heartbeatTimeoutMs` is aborted. Only called with the fallback on.
 */
export async function pollOnce(attempt: Attempt): Promise<Outcome> {
  const { fallback, lastEventId, heartbeatTimeoutMs } = attempt;
  const { waitSeconds } = fallback!;
  const target = new URL(attempt.href);
  target.searchParams.set(STREAM_QUERY.wait, `${waitSeconds}`);
  if (lastEventId) target.searchParams.set(STREAM_QUERY.after, lastEventId);
  const silence = watchdog(attempt.controller, waitSeconds * 1000 + heartbeatTimeoutMs);
  try {
    const response = await send(attempt, `${target}`, 'application/json');
    if ('to' in response) return response;
    const answer = parseLongPollBody(await response.json().catch(() => undefined));
    if (!answer) return { to: 'bad_response', message: 'not the long-poll JSON' };
    attempt.answered();
    const { reset, events, position } = answer;
    if (reset) attempt.deliver(reset.position, reset);
    for (const delivery of events) attempt.deliver(delivery.position, delivery);
    if (position) attempt.deliver(position);
    return { to: 'next' };
  } catch (cause) {
    return {
      to: 'retry',
      error: silence.fired
        ? attempt.error('heartbeat_timeout')
        : attempt.error('network', false, 0, '', cause),
    };
  } finally {
    silence.stop();
  }
}
