import {
  encodeSseComment,
  encodeSseFrame,
  encodeSseFrameFromJson,
  encodeSseReset,
  encodeSseRetry,
} from '@repopulse/events-core/wire';
import { describe, expect, it } from 'vitest';
import {
  type AnyEnvelope,
  createEvent,
  EventValidationError,
  parseEnvelope,
  type StreamPosition,
} from '../src/index';

/** A minimal parser of the SSE wire format (WHATWG "event stream interpretation"). */
function parseSse(text: string): Array<{ id?: string; event?: string; data: string }> {
  const out: Array<{ id?: string; event?: string; data: string }> = [];
  let current: { id?: string; event?: string; data: string[] } = { data: [] };
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (line === '') {
      if (current.data.length > 0) {
        out.push({ id: current.id, event: current.event, data: current.data.join('\n') });
      }
      current = { data: [] };
      continue;
    }
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const name = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (name === 'data') current.data.push(value);
    else if (name === 'event') current.event = value;
    else if (name === 'id') current.id = value;
  }
  return out;
}

const event = createEvent('log.append', { level: 'info', message: 'hello' }, { repo_id: 1, id: 'E1', ts: 7 });

describe('encodeSseFrame', () => {
  it('returns exactly id, event, one data line and a blank line', () => {
    expect(encodeSseFrame('1732842000000-3', event)).toBe(
      'id: 1732842000000-3\n' +
        'event: log.append\n' +
        'data: {"id":"E1","type":"log.append","ts":7,"repo_id":"1","payload":{"level":"info","message":"hello"}}\n' +
        '\n',
    );
  });

  it('is the same bytes as encodeSseFrameFromJson over JSON.stringify', () => {
    expect(encodeSseFrame('5-0', event)).toBe(
      encodeSseFrameFromJson('5-0', event.type, JSON.stringify(event)),
    );
  });

  it('keeps a forged frame inside one data line, and round-trips it', () => {
    const message = 'line one\n\ndata: forged\nevent: reset\nid: 999-0\r\n\r\nretry: 1\n\n';
    const hostile = createEvent('log.append', { level: 'error', message }, { repo_id: 'r' });
    const frame = encodeSseFrame('10-1', hostile);

    const lines = frame.split('\n');
    expect(lines).toHaveLength(5);
    expect(lines[0]).toBe('id: 10-1');
    expect(lines[1]).toBe('event: log.append');
    expect(lines[2]!.startsWith('data: {')).toBe(true);
    expect(lines.slice(3)).toEqual(['', '']);
    expect(frame).not.toContain('\r');
    expect(frame.match(/\n\n/g)).toHaveLength(1);

    const frames = parseSse(frame);
    expect(frames).toHaveLength(1);
    expect(frames[0]!.id).toBe('10-1');
    expect(frames[0]!.event).toBe('log.append');
    const back = parseEnvelope(JSON.parse(frames[0]!.data));
    expect(back).toEqual(hostile);
    expect(back.payload).toMatchObject({ message });
  });

  it('keeps U+2028/U+2029 and other unicode intact (they are not SSE line breaks)', () => {
    const tricky = createEvent('log.append', { level: 'info', message: 'a\u2028b\u2029c😀\u0085d' });
    const frames = parseSse(encodeSseFrame('1-0', tricky));
    expect(frames).toHaveLength(1);
    expect(JSON.parse(frames[0]!.data)).toEqual(tricky);
  });

  it.each([
    ['LF', '1-0\nevent: forged'],
    ['CR', '1-0\r'],
    ['CRLF', '1-0\r\n'],
    ['NUL', '1-0\0'],
  ])('rejects %s in the position with invalid_field', (_what, position) => {
    let caught: unknown;
    try {
      encodeSseFrame(position, event);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(EventValidationError);
    expect(caught).toMatchObject({ code: 'invalid_field', field: 'position' });
  });

  it.each(['\n', '\r', '\0'])('rejects %j in the type with invalid_field', (ch) => {
    // A type that slipped past validation (e.g. an object built by hand) must still not reach the wire.
    const forged = { ...event, type: `log.append${ch}data: x` } as unknown as AnyEnvelope;
    expect(() => encodeSseFrame('1-0', forged)).toThrow(
      expect.objectContaining({ code: 'invalid_field', field: 'type' }),
    );
  });

  it('rejects JSON that holds a raw CR or LF (not produced by JSON.stringify)', () => {
    for (const json of ['{"a":\n1}', '{"a":1}\r']) {
      expect(() => encodeSseFrameFromJson('1-0', 'log.append', json)).toThrow(
        expect.objectContaining({ code: 'invalid_field', field: 'data' }),
      );
    }
  });
});

describe('control frames', () => {
  it('encodeSseReset carries the head as id and {reason, position} as data', () => {
    expect(encodeSseReset('expired', '1732842000000-4')).toBe(
      'id: 1732842000000-4\nevent: reset\ndata: {"reason":"expired","position":"1732842000000-4"}\n\n',
    );
    const frames = parseSse(encodeSseReset('unknown_position', '0-0'));
    expect(frames).toEqual([
      { id: '0-0', event: 'reset', data: '{"reason":"unknown_position","position":"0-0"}' },
    ]);
  });

  it('encodeSseReset writes retained_after only when given', () => {
    expect(encodeSseReset('expired', '9-0', '6-0')).toBe(
      'id: 9-0\nevent: reset\ndata: {"reason":"expired","position":"9-0","retained_after":"6-0"}\n\n',
    );
    expect(encodeSseReset('expired', '9-0', undefined)).not.toContain('retained_after');
    expect(() => encodeSseReset('expired', '9-0', '6-0\nx' as StreamPosition)).toThrow(
      expect.objectContaining({ code: 'invalid_field', field: 'retained_after' }),
    );
  });

  it('encodeSseReset rejects CR/LF in the position', () => {
    expect(() => encodeSseReset('expired', '1-0\nevent: x' as StreamPosition)).toThrow(
      expect.objectContaining({ code: 'invalid_field', field: 'position' }),
    );
  });

  it('encodeSseComment writes one comment line and a blank line', () => {
    expect(encodeSseComment()).toBe(':\n\n');
    expect(encodeSseComment('')).toBe(':\n\n');
    expect(encodeSseComment('heartbeat')).toBe(': heartbeat\n\n');
    expect(encodeSseComment('a\nb\r\nc')).toBe(': a b  c\n\n');
    expect(parseSse(encodeSseComment('x\n\ndata: forged'))).toEqual([]);
  });

  it('encodeSseRetry writes a whole, non-negative number of milliseconds', () => {
    expect(encodeSseRetry(3000)).toBe('retry: 3000\n\n');
    expect(encodeSseRetry(1500.7)).toBe('retry: 1500\n\n');
    expect(encodeSseRetry(-5)).toBe('retry: 0\n\n');
  });

  it('concatenated frames parse back one by one', () => {
    const e2 = createEvent('repo.deleted', {}, { repo_id: '9' });
    const stream =
      encodeSseRetry(2000) +
      encodeSseComment('hello') +
      encodeSseFrame('1-0', event) +
      encodeSseComment() +
      encodeSseFrame('1-1', e2) +
      encodeSseReset('expired', '1-1');
    const frames = parseSse(stream);
    expect(frames.map((f) => [f.id, f.event])).toEqual([
      ['1-0', 'log.append'],
      ['1-1', 'repo.deleted'],
      ['1-1', 'reset'],
    ]);
    expect(JSON.parse(frames[1]!.data)).toEqual(e2);
  });
});
