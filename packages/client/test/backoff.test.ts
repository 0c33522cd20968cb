// Backoff: the pure computation, then the real reconnect schedule under fake timers (real sockets).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { computeBackoff, createEventStream, type EventStreamError, parseRetryAfter } from '../src/index';
import { frame, realSleep } from './helpers/events';
import { openSse, refuse, startServer, type TestServer } from './helpers/http-server';

const options = { initialMs: 100, maxMs: 350, factor: 2 };

describe('computeBackoff (pure)', () => {
  it('grows by factor per attempt and caps at maxMs, scaled by the random draw (full jitter)', () => {
    const top = (attempt: number) => computeBackoff(attempt, options, () => 0.999_999);
    expect([0, 1, 2, 3, 10].map(top)).toEqual([99, 199, 349, 349, 349]);
    expect(computeBackoff(2, options, () => 0.5)).toBe(175);
    expect(computeBackoff(5, options, () => 0)).toBe(0);
  });

  it('stays within [0, cap) for any draw', () => {
    for (let attempt = 0; attempt < 20; attempt++) {
      const delay = computeBackoff(attempt, options);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(Math.min(350, 100 * 2 ** attempt));
    }
  });

  it('lets a server retry: above maxMs win', () => {
    expect(computeBackoff(3, { initialMs: 60_000, maxMs: 30_000, factor: 2 }, () => 0.5)).toBe(30_000);
  });
});

describe('parseRetryAfter (pure)', () => {
  it('reads delay-seconds and HTTP dates; anything else is 0', () => {
    const now = Date.UTC(2026, 0, 1);
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter(' 120 ', now)).toBe(120_000);
    expect(parseRetryAfter(new Date(now + 5000).toUTCString(), now)).toBe(5000);
    expect(parseRetryAfter(new Date(now - 5000).toUTCString(), now)).toBe(0);
    for (const bad of [null, undefined, '', 'soon', '-3', '1.5']) expect(parseRetryAfter(bad, now)).toBe(0);
  });
});

describe('reconnect schedule (fake timers, real server)', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    vi.useRealTimers();
    vi.restoreAllMocks();
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });

  async function setup(handler: Parameters<typeof startServer>[0]) {
    const server = await startServer(handler);
    cleanups.push(() => server.close());
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const errors: EventStreamError[] = [];
    const stream = createEventStream(`${server.origin}/events`, {
      backoff: options,
      fallback: false,
      onError: (e) => errors.push(e),
    });
    cleanups.push(() => stream.close());
    return { server, stream, errors };
  }

  /** After `failures` reported errors, the next request must come exactly `ms` (fake) later. */
  async function expectReconnectAfter(server: TestServer, count: number, ms: number) {
    await vi.advanceTimersByTimeAsync(ms - 1);
    await realSleep(30); // a request sent too early would reach the server meanwhile
    expect(server.requests).toHaveLength(count - 1);
    await vi.advanceTimersByTimeAsync(1);
    await server.waitForRequests(count);
  }

  async function failures(errors: EventStreamError[], n: number) {
    while (errors.length < n) await realSleep(2);
  }

  it('waits initialMs × factor^n × random, capped at maxMs, between failed attempts', async () => {
    const { server, errors } = await setup((_req, res) => refuse(res, 500));
    await failures(errors, 1);
    await expectReconnectAfter(server, 2, 50);
    await failures(errors, 2);
    await expectReconnectAfter(server, 3, 100);
    await failures(errors, 3);
    await expectReconnectAfter(server, 4, 175); // 0.5 × min(350, 400)
    await failures(errors, 4);
    await expectReconnectAfter(server, 5, 175);
  });

  it('adds Retry-After of a 429/503 to the jittered delay', async () => {
    const { server, errors } = await setup((_req, res) =>
      refuse(res, server.requests.length === 1 ? 429 : 503, { 'Retry-After': '2' }),
    );
    await failures(errors, 1);
    await expectReconnectAfter(server, 2, 2000 + 50);
    await failures(errors, 2);
    await expectReconnectAfter(server, 3, 2000 + 100);
    expect(errors.map((e) => e.status)).toEqual([429, 503]);
  });

  it('starts over from attempt 0 after a healthy connection', async () => {
    const { server, errors } = await setup((_req, res) => {
      const n = server.requests.length;
      if (n === 3) {
        openSse(res, ': ok\n\n');
        res.end(frame('1-0', 1)); // delivered an event: healthy, then ended
      } else refuse(res, 503);
    });
    await failures(errors, 1);
    await expectReconnectAfter(server, 2, 50);
    await failures(errors, 2);
    await expectReconnectAfter(server, 3, 100);
    await realSleep(30); // the healthy stream is read and ends
    await expectReconnectAfter(server, 4, 50); // not 175: the counter was reset
    await failures(errors, 3);
    await expectReconnectAfter(server, 5, 100);
    expect(server.requests[3]?.lastEventId).toBe('1-0');
  });
});
