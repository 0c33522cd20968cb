// The event-stream parser against the WHATWG HTML "Parsing an event stream" and "Interpreting an
// event stream" rules, case by case (the byte-level cases over real sockets are in
// whatwg-eventsource.test.ts and parsing.test.ts).

import { createSseParser, type SseMessage } from '@repopulse/events-core/wire';
import { describe, expect, it } from 'vitest';

/** Feeds `chunks` in order; returns every dispatch, the data of those with data, and every honoured retry. */
function parse(chunks: string[], id = '') {
  const messages: SseMessage[] = [];
  const retries: number[] = [];
  const feed = createSseParser(
    (m) => messages.push(m),
    (ms) => retries.push(ms),
    id,
  );
  for (const chunk of chunks) feed(chunk);
  // The events a page would see: dispatches that had data.
  const data = messages.flatMap((m) => (m.data === undefined ? [] : [m.data]));
  return { messages, retries, data };
}

describe('event-stream parser (WHATWG)', () => {
  it('joins data lines with LF and drops the last LF', () => {
    expect(parse(['data: a\ndata: b\ndata\n\n']).data).toEqual(['a\nb\n']);
    expect(parse(['data\n\n']).data).toEqual(['']); // one empty data line: an event with ''
  });

  it('strips exactly one leading space from a value; the colon may be absent', () => {
    expect(parse(['data:a\n\ndata: a\n\ndata:  a\n\ndata:a: b\n\n']).data).toEqual(['a', 'a', ' a', 'a: b']);
  });

  it('ignores comment lines and unknown or misspelled fields', () => {
    const { messages } = parse([': comment\nfoo: bar\nData: x\ndata : y\n data: z\ndata: ok\n\n']);
    expect(messages).toEqual([{ id: '', event: 'message', data: 'ok' }]);
  });

  it.each([
    ['LF', '\n'],
    ['CR', '\r'],
    ['CRLF', '\r\n'],
  ])('ends lines with %s', (_name, eol) => {
    expect(parse([`data: 1${eol}${eol}data: 2${eol}${eol}`]).data).toEqual(['1', '2']);
  });

  it('counts a CRLF split across two chunks once, and a lone CR at a chunk end as a line end', () => {
    expect(parse(['data: 1\r', '\ndata: 2\r', '\n\r', '\n']).data).toEqual(['1\n2']);
    expect(parse(['data: 1\r', '\r']).data).toEqual(['1']); // dispatched without waiting for more
    expect(parse(['data: 1\r', '', '\ndata: 2\n\n']).data).toEqual(['1\n2']); // an empty chunk changes nothing
  });

  it('keeps a line split across chunks whole', () => {
    expect(parse(['da', 'ta: he', 'llo', '\n', '\n']).data).toEqual(['hello']);
  });

  it('sets the event type from event:, and an empty or missing one is "message"; it resets per event', () => {
    const { messages } = parse(['event: add\ndata: 1\n\nevent:\ndata: 2\n\ndata: 3\n\n']);
    expect(messages.map((m) => m.event)).toEqual(['add', 'message', 'message']);
  });

  it('a blank line without data dispatches no event but resets the type, and still updates the id', () => {
    const { messages } = parse(['event: x\n\nid: 7\n\ndata: after\n\n']);
    expect(messages.map((m) => [m.id, m.data])).toEqual([
      ['', undefined],
      ['7', undefined],
      ['7', 'after'],
    ]);
    expect(messages[2]?.event).toBe('message'); // the blank line reset the type
  });

  it('keeps the last event id across events, an empty id: clears it, an id with NUL is ignored', () => {
    const { messages } = parse(['id: 1\ndata: a\n\ndata: b\n\nid: 2\u0000x\ndata: c\n\nid\ndata: d\n\n']);
    expect(messages.map((m) => m.id)).toEqual(['1', '1', '1', '']);
  });

  it('starts from the id it is given (the previous connection’s) and keeps non-ASCII ids as they are', () => {
    const { messages } = parse(['data: a\n\nid: é…😀\ndata: b\n\n'], '3-0');
    expect(messages.map((m) => m.id)).toEqual(['3-0', 'é…😀']);
  });

  it('honours retry: only when it is all ASCII digits', () => {
    expect(
      parse(['retry: 1500\nretry: 10x\nretry: -1\nretry: 1.5\nretry:  5\nretry:\nretry: 0\n\n']).retries,
    ).toEqual([1500, 0]);
  });

  it('never dispatches a block left unterminated', () => {
    expect(parse(['data: 1\n\ndata: 2\n']).data).toEqual(['1']);
    expect(parse(['data: 1']).data).toEqual([]);
  });

  it('keeps line separators U+2028/U+2029 inside values (only CR and LF end lines)', () => {
    expect(parse(['data: a\u2028b\u2029c\n\n']).data).toEqual(['a\u2028b\u2029c']);
  });

  it('takes a BOM that is not at the start of the stream as part of the field name', () => {
    // TextDecoder strips the stream's first BOM; any later one makes an unknown field.
    expect(parse(['\uFEFFdata: x\n\ndata: y\n\n']).data).toEqual(['y']);
  });
});
