import type { AnyEnvelope, StreamPosition } from '@repopulse/events-core';
import type { ResetFrameData } from '@repopulse/events-core/wire';
import { send } from './request';
import { resetNotice } from './reset-notice';
import type { Outcome, Session } from './session';
import { watchdog } from './watchdog';

/** The JSON long-poll answer: `{ events: [{ position, event }], position, reset? }`. */
interface PollBody {
  events: { position: StreamPosition; event: AnyEnvelope }[];
  position?: StreamPosition;
  reset?: ResetFrameData;
}

/**
 * One long-poll on the stream URL (`Accept: application/json`, `?after=<cursor>&wait=<s>`),
 * delivering what it answered; enters `polling` when answered. A poll with no answer after `wait`
 * plus `heartbeatTimeoutMs` is aborted. Only called with the fallback on.
 */
export async function pollOnce(s: Session, c: AbortController): Promise<Outcome> {
  const { waitSeconds, afterFailures } = s.settings.fallback!;
  const target = new URL(s.href);
  target.searchParams.set('wait', `${waitSeconds}`);
  if (s.cursor) target.searchParams.set('after', s.cursor);
  const dog = watchdog(c, waitSeconds * 1000 + s.settings.heartbeatTimeoutMs);
  try {
    const res = await send(s, c.signal, `${target}`, 'application/json');
    if ('to' in res) return res;
    const body: PollBody | undefined = await res.json().catch(() => undefined);
    if (!Array.isArray(body?.events)) {
      // Neither transport got an answer of the protocol that often: the URL is wrong.
      const fatal = ++s.foreign >= afterFailures;
      const error = s.error('bad_response', fatal, 200, 'not the long-poll JSON');
      return fatal ? { to: 'closed', error } : { to: 'retry', error };
    }
    s.attempt = s.foreign = 0;
    s.enter('polling');
    const { reset, events, position } = body;
    if (reset) {
      s.cursor = reset.position;
      s.deliver(resetNotice(reset));
    }
    for (const delivery of events) {
      s.cursor = delivery.position;
      s.deliver(delivery);
    }
    if (position) s.cursor = position;
    return { to: 'next' };
  } catch (cause) {
    return {
      to: 'retry',
      error: dog.fired ? s.error('heartbeat_timeout') : s.error('network', false, 0, '', cause),
    };
  } finally {
    dog.stop();
  }
}
