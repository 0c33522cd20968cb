import { createEvent } from '@repopulse/events-core';
import {
  encodeErrorBody,
  encodeLongPollBody,
  encodeLongPollItem,
  longPollUrl,
  parseErrorBody,
  parseLongPollBody,
  readLastEventIdQuery,
  readLongPollQuery,
  STREAM_QUERY,
} from '@repopulse/events-core/wire';
import { describe, expect, it } from 'vitest';

describe('the long-poll query', () => {
  it('is written and read with the same names', () => {
    const url = longPollUrl('https://x.test/api/events?after=1-0&k=v', { after: '9-0', waitSeconds: 2.5 });
    expect(url.searchParams.get('wait')).toBe('2.5');
    expect(url.searchParams.get('after')).toBe('9-0');
    expect(url.searchParams.get('k')).toBe('v');
    expect(readLongPollQuery(url.searchParams)).toEqual({ after: '9-0', wait: '2.5' });
    const head = longPollUrl('https://x.test/api/events?after=1-0', { waitSeconds: 0 });
    expect(head.search).toBe('?wait=0');
    expect(readLongPollQuery(new URLSearchParams('after=%20&wait='))).toEqual({});
  });

  it('names the SSE resume point of a client that cannot send headers', () => {
    expect(STREAM_QUERY.lastEventId).toBe('last_event_id');
    expect(readLastEventIdQuery(new URLSearchParams('last_event_id=%205-0%20'))).toBe('5-0');
    expect(readLastEventIdQuery(new URLSearchParams('last_event_id='))).toBeUndefined();
  });
});

describe('the long-poll answer', () => {
  it('is JSON that reads back as what was encoded', () => {
    const event = createEvent('log.append', { level: 'info', message: 'a "quoted" line' });
    const text = encodeLongPollBody([encodeLongPollItem('7-1', JSON.stringify(event))], '7-1');
    expect(JSON.parse(text)).toEqual({ events: [{ position: '7-1', event }], position: '7-1' });
    expect(parseLongPollBody(JSON.parse(text))).toStrictEqual({
      events: [{ position: '7-1', event }],
      position: '7-1',
      reset: undefined,
    });
  });

  it('is not an answer without an events array', () => {
    for (const body of [undefined, null, {}, { events: {} }, 'x'])
      expect(parseLongPollBody(body)).toBeUndefined();
    expect(parseLongPollBody({ events: [] })?.position).toBeUndefined();
  });
});

describe('the error body', () => {
  it('reads back as what was encoded, and as blanks from anything else', () => {
    expect(JSON.parse(encodeErrorBody('not_found', 'unknown repository'))).toEqual({
      error: { code: 'not_found', message: 'unknown repository' },
    });
    expect(parseErrorBody(JSON.parse(encodeErrorBody('x', 'y')))).toEqual({ code: 'x', message: 'y' });
    for (const body of [undefined, null, 'oops', { error: 'nope' }, { error: { code: 1 } }]) {
      expect(parseErrorBody(body)).toEqual({ code: '', message: '' });
    }
  });
});
