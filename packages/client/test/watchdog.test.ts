// Heartbeat watchdog: a server that stops sending is detected by wall-clock silence.

import type { ServerResponse } from 'node:http';
import { cleanupAfterEach } from '@repopulse/test-support/vitest';
import { describe, expect, it, vi } from 'vitest';
import { createEventStream, type EventStreamError } from '../src/index';
import { collect, realSleep, until, waitForState } from './helpers/events';
import { openSse, startServer, type TestServer } from './helpers/http-server';

const cleanups = cleanupAfterEach(() => vi.useRealTimers());

async function serve(handler: (res: ServerResponse, n: number) => void): Promise<TestServer> {
  let n = 0;
  const server = await startServer((_req, res) => handler(res, ++n));
  cleanups.push(() => server.close());
  return server;
}

describe('heartbeat watchdog', () => {
  it('reconnects from the last event when a server goes silent mid-stream', async () => {
    let closedByClient = 0;
    const server = await serve((res, n) => {
      res.on('close', () => closedByClient++);
      openSse(res, ': ok\n\n');
      res.write(
        `id: ${n}-0\nevent: log.append\ndata: {"id":"e${n}","type":"log.append","ts":1,"payload":{}}\n\n`,
      );
      // …and then nothing, with the socket left open.
    });
    const errors: EventStreamError[] = [];
    const stream = createEventStream(`${server.origin}/events`, {
      // Long enough for a loaded machine to read the first event before the silence counts.
      heartbeatTimeoutMs: 400,
      backoff: { initialMs: 5 },
      fallback: false,
      onError: (e) => errors.push(e),
    });
    cleanups.push(() => stream.close());
    const got = collect(stream);
    const second = await server.waitForRequests(2);
    expect(second.lastEventId).toBe('1-0');
    expect(errors[0]).toMatchObject({ code: 'heartbeat_timeout', fatal: false });
    await got.waitFor(2);
    // (The second connection goes silent too, so a third may follow: the first two are what counts.)
    expect(got.items.slice(0, 2).map((i) => i.position)).toEqual(['1-0', '2-0']);
    // The silent connection was really dropped, not left dangling next to the new one.
    await until(() => closedByClient >= 1, 'the silent connection to close');
  });

  it('measures silence with the wall clock: a check that runs late after a clock jump reconnects at once', async () => {
    const responses: ServerResponse[] = [];
    const server = await serve((res) => {
      responses.push(res);
      openSse(res, ': ok\n\n');
    });
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const stream = createEventStream(`${server.origin}/events`, {
      heartbeatTimeoutMs: 10_000,
      fallback: false,
      backoff: { initialMs: 1 },
      onError: () => {},
    });
    cleanups.push(() => stream.close());
    await waitForState(stream, 'open');
    await vi.advanceTimersByTimeAsync(9_000);
    responses[0]?.write(': heartbeat\n\n'); // a byte at t = 9 s: silence starts over
    await realSleep(30);
    // The machine sleeps a minute: the wall clock moves on, no timer runs meanwhile. The check
    // planned for t = 10 s then runs and sees 61 s of silence, so it reconnects now, instead of
    // waiting for a countdown restarted by the last byte (which would end at t = 19 s).
    vi.setSystemTime(Date.now() + 60_000);
    await vi.advanceTimersByTimeAsync(1_000);
    await realSleep(30);
    await vi.advanceTimersByTimeAsync(1); // the reconnect delay (initialMs 1 × jitter)
    await server.waitForRequests(2);
    expect(server.requests).toHaveLength(2);
  });

  it('a check that finds recent bytes does not reconnect', async () => {
    const responses: ServerResponse[] = [];
    const server = await serve((res) => {
      responses.push(res);
      openSse(res, ': ok\n\n');
    });
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const errors: EventStreamError[] = [];
    const stream = createEventStream(`${server.origin}/events`, {
      heartbeatTimeoutMs: 10_000,
      fallback: false,
      backoff: { initialMs: 60_000 }, // stay disconnected once the watchdog fires
      onError: (e) => errors.push(e),
    });
    cleanups.push(() => stream.close());
    await waitForState(stream, 'open');
    await vi.advanceTimersByTimeAsync(9_000);
    responses[0]?.write(': heartbeat\n\n');
    await realSleep(30);
    await vi.advanceTimersByTimeAsync(8_000); // the check at 10 s saw 1 s of silence; next at 19 s
    await realSleep(30);
    expect(server.requests).toHaveLength(1);
    expect(stream.state).toBe('open');
    expect(errors).toEqual([]);
    await vi.advanceTimersByTimeAsync(4_000); // 21 s: the check at 19 s saw 10 s of silence
    await waitForState(stream, 'connecting');
    expect(errors.map((e) => e.code)).toEqual(['heartbeat_timeout']);
  });

  it('bytes that keep coming (heartbeat comments) keep the connection', async () => {
    const server = await serve((res) => {
      openSse(res, ': ok\n\n');
      const beat = setInterval(() => res.write(': hb\n\n'), 30);
      res.on('close', () => clearInterval(beat));
    });
    const errors: EventStreamError[] = [];
    const stream = createEventStream(`${server.origin}/events`, {
      heartbeatTimeoutMs: 120,
      onError: (e) => errors.push(e),
    });
    cleanups.push(() => stream.close());
    await waitForState(stream, 'open');
    await realSleep(500);
    expect(server.requests).toHaveLength(1);
    expect(errors).toEqual([]);
  });
});
