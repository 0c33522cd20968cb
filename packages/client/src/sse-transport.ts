import type { AnyEnvelope, StreamPosition } from '@repopulse/events-core';
import { createSseParser, resetFromWire, type SseMessage } from '@repopulse/events-core/wire';
import type { Attempt, Outcome } from './attempt';
import { send } from './request';
import type { StreamItem } from './types';
import { watchdog } from './watchdog';

/** A connection that delivered an event or stayed open this long resets the retry counters. */
const HEALTHY_MS = 5000;

/** Applies one dispatched SSE message: moves the cursor, with the envelope or reset it carries. */
function onMessage(attempt: Attempt, { id, event, data: text }: SseMessage) {
  // WHATWG: the last event id persists across events; an empty `id:` clears it.
  let item: StreamItem | undefined;
  if (text !== undefined) {
    let data: { type?: unknown } | undefined;
    try {
      data = JSON.parse(text);
    } catch {}
    if (event === 'reset') item = resetFromWire(data);
    else if (typeof data?.type === 'string')
      item = { position: id as StreamPosition, event: data as AnyEnvelope };
  }
  attempt.deliver(id, item);
  if (text !== undefined && !item) attempt.report(attempt.error('bad_event', false, 0, text.slice(0, 80)));
}

/**
 * One SSE connection on the stream URL, read until it fails or ends. Reports `opened` at the first
 * byte. With the fallback on, no first byte within `probeTimeoutMs` (a buffering proxy) switches
 * to long-polling; a 200 that is not `text/event-stream` is `bad_response`.
 */
export async function connectSse(attempt: Attempt): Promise<Outcome> {
  const { fallback, heartbeatTimeoutMs } = attempt;
  const silence = watchdog(attempt.controller, fallback ? fallback.probeTimeoutMs : heartbeatTimeoutMs);
  let openedAt = 0;
  let events = 0;
  try {
    const response = await send(attempt, attempt.href, 'text/event-stream');
    if ('to' in response) return response;
    const type = response.headers.get('content-type');
    if (!/^text\/event-stream/i.test(type!)) {
      response.body?.cancel().catch(() => {});
      return { to: 'bad_response', message: `not text/event-stream but ${type}` };
    }
    attempt.answered();
    const feed = createSseParser(
      (message) => {
        if (message.data !== undefined) events++;
        onMessage(attempt, message);
      },
      attempt.retry,
      attempt.lastEventId,
    );
    const reader = response.body!.getReader();
    const decoder = new TextDecoder(); // strips a leading BOM, decodes UTF-8 across chunks
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { to: 'retry' }; // the server ended the stream: reconnect
      silence.touch(heartbeatTimeoutMs);
      if (!openedAt) {
        openedAt = Date.now();
        attempt.opened();
      }
      feed(decoder.decode(value, { stream: true }));
    }
  } catch (cause) {
    if (!silence.fired) return { to: 'retry', error: attempt.error('network', false, 0, '', cause) };
    // Headers but no first byte within the probe window: a buffering proxy. Poll instead.
    if (fallback && !openedAt)
      return {
        to: 'poll',
        reason: attempt.error('heartbeat_timeout', false, 0, 'no first byte (a buffering proxy?)'),
      };
    return { to: 'retry', error: attempt.error('heartbeat_timeout') };
  } finally {
    silence.stop();
    if (openedAt && (events || Date.now() - openedAt >= HEALTHY_MS)) attempt.healthy();
  }
}
