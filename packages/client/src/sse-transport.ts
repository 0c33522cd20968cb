import type { AnyEnvelope, StreamPosition } from '@repopulse/events-core';
import type { ResetFrameData } from '@repopulse/events-core/wire';
import { send } from './request';
import { resetNotice } from './reset-notice';
import type { Outcome, Session } from './session';
import { createSseParser, type SseMessage } from './sse-parser';
import { watchdog } from './watchdog';

/** A connection that delivered an event or stayed open this long resets the retry counters. */
const HEALTHY_MS = 5000;

/** Applies one dispatched SSE message: moves the cursor, then delivers the envelope or reset. */
function onMessage(s: Session, message: SseMessage) {
  // WHATWG: the last event id persists across events; an empty `id:` clears it.
  s.cursor = message.id;
  if (message.data === undefined) return;
  let data: { type?: unknown } | undefined;
  try {
    data = JSON.parse(message.data);
  } catch {}
  if (message.event === 'reset' && data) s.deliver(resetNotice(data as ResetFrameData));
  else if (typeof data?.type === 'string')
    s.deliver({ position: message.id as StreamPosition, event: data as AnyEnvelope });
  else s.report(s.error('bad_event', false, 0, message.data.slice(0, 80)));
}

/**
 * One SSE connection on the stream URL, read until it fails or ends. Enters `open` at the first
 * byte. With the fallback on, no first byte within `probeTimeoutMs` (a buffering proxy) and a 200
 * that is not `text/event-stream` (reported) switch to long-polling.
 */
export async function connectSse(s: Session, c: AbortController): Promise<Outcome> {
  const { fallback, heartbeatTimeoutMs } = s.settings;
  const dog = watchdog(c, fallback ? fallback.probeTimeoutMs : heartbeatTimeoutMs);
  let opened = 0;
  let events = 0;
  try {
    const res = await send(s, c.signal, s.href, 'text/event-stream');
    if ('to' in res) return res;
    const type = res.headers.get('content-type');
    if (!/^text\/event-stream/i.test(type!)) {
      res.body?.cancel().catch(() => {});
      const fatal = !fallback || ++s.foreign >= fallback.afterFailures;
      const error = s.error('bad_response', fatal, 200, `not text/event-stream but ${type}`);
      if (fatal) return { to: 'closed', error };
      s.report(error);
      return { to: 'poll', reason: error };
    }
    s.foreign = 0;
    const feed = createSseParser(
      (message) => {
        if (message.data !== undefined) events++;
        onMessage(s, message);
      },
      (ms) => {
        s.base = ms;
      },
      s.cursor,
    );
    const reader = res.body!.getReader();
    const decoder = new TextDecoder(); // strips a leading BOM, decodes UTF-8 across chunks
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { to: 'retry' }; // the server ended the stream: reconnect
      dog.touch(heartbeatTimeoutMs);
      if (!opened) {
        opened = Date.now();
        s.enter('open');
      }
      feed(decoder.decode(value, { stream: true }));
    }
  } catch (cause) {
    if (!dog.fired) return { to: 'retry', error: s.error('network', false, 0, '', cause) };
    // Headers but no first byte within the probe window: a buffering proxy. Poll instead.
    if (fallback && !opened)
      return {
        to: 'poll',
        reason: s.error('heartbeat_timeout', false, 0, 'no first byte (a buffering proxy?)'),
      };
    return { to: 'retry', error: s.error('heartbeat_timeout') };
  } finally {
    dog.stop();
    if (opened && (events || Date.now() - opened >= HEALTHY_MS)) s.attempt = s.failures = 0;
  }
}
