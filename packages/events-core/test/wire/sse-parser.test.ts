import { createEvent } from '@repopulse/events-core';
import {
  createSseParser,
  encodeSseComment,
  encodeSseFrame,
  encodeSseReset,
  encodeSseRetry,
  resetFromWire,
  type SseMessage,
} from '@repopulse/events-core/wire';
import { describe, expect, it } from 'vitest';

/** Every dispatch and honoured `retry:` of `chunks`, in the order the parser reported them. */
function parseAll(chunks: string[], id = '') {
  const seen: Array<SseMessage | number> = [];
  const feed = createSseParser(seen.push.bind(seen), seen.push.bind(seen), id);
  chunks.forEach((chunk) => void feed(chunk));
  return {
    messages: seen.filter((item): item is SseMessage => typeof item === 'object'),
    retries: seen.filter((item): item is number => typeof item === 'number'),
  };
}

describe('createSseParser', () => {
  it('reads back what the encoders write, split anywhere', () => {
    const event = createEvent('task.progress', { phase: 'clone', percent: 5 });
    const text =
      encodeSseRetry(3000) +
      encodeSseComment('hello') +
      encodeSseFrame('5-0', event) +
      encodeSseReset({ reset: true, reason: 'expired', position: '9-0', retainedAfter: '6-0' });
    for (const size of [1, 3, 7, text.length]) {
      const chunks: string[] = [];
      for (let i = 0; i < text.length; i += size) chunks.push(text.slice(i, i + size));
      const { messages, retries } = parseAll(chunks);
      expect(retries).toEqual([3000]);
      expect(messages.filter((m) => m.data !== undefined).map((m) => [m.id, m.event])).toEqual([
        ['5-0', 'task.progress'],
        ['9-0', 'reset'],
      ]);
      const [first, reset] = messages.filter((m) => m.data !== undefined) as [SseMessage, SseMessage];
      expect(JSON.parse(first.data as string)).toEqual(event);
      expect(resetFromWire(JSON.parse(reset.data as string))).toEqual({
        reset: true,
        reason: 'expired',
        position: '9-0',
        retainedAfter: '6-0',
      });
    }
  });

  it('follows WHATWG: CR and CRLF end lines, the id persists, an empty id clears it, unterminated blocks wait', () => {
    const { messages } = parseAll(['id: 1-0\r', '\ndata: a\r\rdata: b\n\nid:\ndata: c\n\ndata: d'], '0-0');
    expect(messages).toEqual([
      { id: '1-0', event: 'message', data: 'a' },
      { id: '1-0', event: 'message', data: 'b' },
      { id: '', event: 'message', data: 'c' },
    ]);
  });
});
