import { createEvent, type EventDelivery } from '@repopulse/events-core';
import { waitFor } from '@repopulse/test-support';
import { describe, expect, it } from 'vitest';
import { type Deadline, DeadlineQueue } from '../src/core/deadline-queue';
import { ChunkJoiner } from '../src/core/flush-queue';
import { FrameWindow, serializeEvent } from '../src/core/frame-window';
import {
  cookieValue,
  findToken,
  longPollWaitMs,
  queryOf,
  sseResumePoint,
  transportOf,
} from '../src/core/request-info';
import { durationEnd } from '../src/core/server-parts';
import { StreamHttpError } from '../src/index';
import { NodeRequestView } from '../src/node/index';

describe('DeadlineQueue', () => {
  const item = (deadline: number, fired: number[]): Deadline => ({
    deadline,
    heapIndex: -1,
    onDeadline: () => fired.push(deadline),
  });

  it('fires due items in deadline order on one timer, and removed items never', async () => {
    const fired: number[] = [];
    const queue = new DeadlineQueue();
    const now = Date.now();
    const items = [50, 10, 40, 20, 30, 60].map((offset) => item(now + offset, fired));
    for (const i of items) queue.add(i);
    expect(queue.size).toBe(6);
    queue.remove(items[2]!); // +40
    queue.remove(items[2]!); // idempotent
    await waitFor(() => fired.length === 5);
    expect(fired.map((t) => t - now)).toEqual([10, 20, 30, 50, 60]);
    expect(queue.size).toBe(0);
  });

  it('keeps heap order through many random adds and removals', () => {
    const queue = new DeadlineQueue();
    const fired: number[] = [];
    const live = new Set<Deadline>();
    let seed = 7;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let i = 0; i < 2000; i++) {
      if (live.size > 0 && rand() < 0.4) {
        const victim = [...live][Math.floor(rand() * live.size)]!;
        queue.remove(victim);
        live.delete(victim);
      } else {
        const d = item(Date.now() + 1e9 + Math.floor(rand() * 1e6), fired);
        queue.add(d);
        live.add(d);
      }
    }
    expect(queue.size).toBe(live.size);
    const heap = (queue as unknown as { heap: Deadline[] }).heap;
    heap.forEach((d, i) => {
      expect(d.heapIndex).toBe(i);
      if (i > 0) expect(heap[(i - 1) >> 1]!.deadline).toBeLessThanOrEqual(d.deadline);
    });
    queue.clear();
    expect(queue.size).toBe(0);
  });
});

describe('FrameWindow and ChunkJoiner', () => {
  const event = createEvent('log.append', { level: 'info', message: 'hi' });
  const entry = (position: string) => serializeEvent({ position, event } as EventDelivery);

  it('serializes once, answers only for points it can vouch for, and evicts by count', () => {
    const window = new FrameWindow('1-0', { events: 3, bytes: 1 << 20 });
    expect(window.after('1-0')).toEqual([]);
    for (const p of ['2-0', '3-0', '3-1', '5-0']) window.push(entry(p));
    expect(entry('2-0').frame.toString()).toBe(
      `id: 2-0\nevent: log.append\ndata: ${JSON.stringify(event)}\n\n`,
    );
    expect(window.size).toBe(3);
    expect(window.base).toBe('2-0'); // 2-0 evicted: the window now holds everything after it
    expect(window.after('2-0')?.map((e) => e.position)).toEqual(['3-0', '3-1', '5-0']);
    expect(window.after('3-1')?.map((e) => e.position)).toEqual(['5-0']);
    expect(window.after('5-0')).toEqual([]);
    for (const unknown of ['1-0', '4-0', '3-2', '9-0', 'garbage']) {
      expect(window.after(unknown)).toBeUndefined();
      expect(window.covers(unknown)).toBe(false);
    }
  });

  it('evicts by bytes, restarts on a reset, and extends backwards only when contiguous', () => {
    const size = entry('1-0').frame.length;
    const window = new FrameWindow('0-0', { events: 100, bytes: size * 2 });
    for (const p of ['1-0', '2-0', '3-0']) window.push(entry(p));
    expect(window.size).toBe(2);
    expect(window.bytes).toBe(size * 2);
    expect(window.base).toBe('1-0');
    window.restart('7-0');
    expect(window.size).toBe(0);
    expect(window.after('3-0')).toBeUndefined();
    expect(window.after('7-0')).toEqual([]);

    const grown = new FrameWindow('5-0', { events: 3, bytes: 1 << 20 });
    grown.push(entry('6-0'));
    grown.prepend('1-0', [entry('2-0'), entry('4-0')]); // ends at 4-0, not at base 5-0: ignored
    expect(grown.base).toBe('5-0');
    grown.prepend('1-0', [entry('2-0'), entry('4-0'), entry('5-0'), entry('6-0')]);
    expect(grown.after('1-0')).toBeUndefined(); // only 2 of the 3 fit: 2-0 left out
    expect(grown.base).toBe('2-0');
    expect(grown.after('2-0')?.map((e) => e.position)).toEqual(['4-0', '5-0', '6-0']);
  });

  it('shares one joined buffer between connections holding the same chunks', () => {
    const joiner = new ChunkJoiner();
    const a = Buffer.from('a');
    const b = Buffer.from('b');
    const first = joiner.join([a, b], 2);
    expect(first.toString()).toBe('ab');
    expect(joiner.join([a, b], 2)).toBe(first);
    expect(joiner.join([a, Buffer.from('b')], 2)).not.toBe(first);
    expect(joiner.join([a], 1)).toBe(a);
  });
});

describe('request parsing', () => {
  const req = (url: string, headers: Record<string, string> = {}) =>
    new NodeRequestView({ url, headers, httpVersionMajor: 1, method: 'GET' });

  it('picks the transport from Accept', () => {
    expect(transportOf(req('/', { accept: 'text/event-stream' }))).toBe('sse');
    expect(transportOf(req('/', { accept: 'application/json' }))).toBe('long-poll');
    expect(transportOf(req('/', { accept: 'application/json, text/event-stream' }))).toBe('sse');
    expect(transportOf(req('/'))).toBe('sse');
  });

  it('reads resume points, wait and tokens', () => {
    const q = queryOf(req('/x?last_event_id=5-0&wait=1.5&access_token=t1'));
    expect(sseResumePoint(req('/x', { 'last-event-id': ' 7-1 ' }), q)).toBe('7-1');
    expect(sseResumePoint(req('/x'), q)).toBe('5-0');
    expect(sseResumePoint(req('/x'), queryOf(req('/x?last_event_id=')))).toBeUndefined();
    expect(longPollWaitMs(q, 25_000)).toBe(1500);
    expect(longPollWaitMs(queryOf(req('/?wait=100')), 25_000)).toBe(25_000);
    expect(longPollWaitMs(queryOf(req('/')), 25_000)).toBe(25_000);
    for (const bad of ['-1', 'abc', '1e3', 'Infinity']) {
      expect(() => longPollWaitMs(queryOf(req(`/?wait=${bad}`)), 25_000)).toThrow(StreamHttpError);
    }
    expect(findToken(req('/', { authorization: 'Bearer abc.def' }), q, 'c')).toEqual({
      token: 'abc.def',
      source: 'bearer',
    });
    expect(findToken(req('/'), q, 'c')).toEqual({ token: 't1', source: 'query' });
    expect(findToken(req('/', { cookie: 'a=1; c=tok%2E1' }), queryOf(req('/')), 'c')).toEqual({
      token: 'tok.1',
      source: 'cookie',
    });
    expect(findToken(req('/', { authorization: 'Basic xyz' }), queryOf(req('/')), 'c')).toBeUndefined();
    expect(cookieValue('x="quoted"; y=2', 'x')).toBe('quoted');
    expect(cookieValue('xy=1', 'x')).toBeUndefined();
  });
});

describe('durationEnd', () => {
  it('draws uniformly in 0.9–1.0 × maxDurationMs, so streams opened together end apart', () => {
    const ends = Array.from({ length: 1000 }, () => durationEnd(60_000, 1_000_000) - 1_000_000);
    expect(Math.min(...ends)).toBeGreaterThanOrEqual(54_000);
    expect(Math.max(...ends)).toBeLessThanOrEqual(60_000);
    // 1,000 draws of 6,000 whole milliseconds: about 921 distinct on average, 850 is 8 standard deviations below.
    expect(new Set(ends).size).toBeGreaterThan(850);
    // Both halves of the range are used.
    expect(ends.filter((end) => end < 57_000).length).toBeGreaterThan(300);
    expect(ends.filter((end) => end >= 57_000).length).toBeGreaterThan(300);
  });

  it('is Infinity when maxDurationMs is not set', () => {
    expect(durationEnd(undefined, 5)).toBe(Number.POSITIVE_INFINITY);
  });
});
