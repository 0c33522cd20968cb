// The stream object itself: argument checks, handler isolation, close from inside a handler,
// headers() failures, and a real 503 + Retry-After from sse-express's connection limit.

import { cleanupAfterEach } from '@repopulse/test-support/vitest';
import { describe, expect, it } from 'vitest';
import { createEventStream, EventStreamError, type EventStreamOptions } from '../src/index';
import { realSleep, until, waitForState } from './helpers/events';
import { serverStarter, streamOpener } from './helpers/harness';

const cleanups = cleanupAfterEach();

const server = serverStarter(cleanups);

const open = streamOpener(cleanups);

describe('createEventStream', () => {
  it('refuses a URL that does not parse (relative in Node) with a typed error, before any request', () => {
    expect(() => createEventStream('/api/events')).toThrow(EventStreamError);
    expect(() => createEventStream('/api/events')).toThrow(/invalid_argument.*url/);
  });

  it.each([
    [{ heartbeatTimeoutMs: -1 }, 'heartbeatTimeoutMs'],
    [{ maxRetries: Number.NaN }, 'maxRetries'],
    [{ backoff: { initialMs: -5 } }, 'initialMs'],
    [{ fallback: { waitSeconds: -1 } }, 'waitSeconds'],
  ] as [EventStreamOptions, string][])('refuses bad numeric options %j', (options, name) => {
    let thrown: unknown;
    try {
      createEventStream('http://127.0.0.1:1/events', options);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(EventStreamError);
    expect(thrown).toMatchObject({ code: 'invalid_argument', fatal: true });
    expect((thrown as Error).message).toContain(name);
  });

  it('sends lastEventId as Last-Event-ID on the first request', async () => {
    const s = await server();
    const [first] = await s.publish(1, 2);
    const { got } = open(s.url, { lastEventId: first });
    await got.waitFor(1);
    expect(s.requests[0]?.lastEventId).toBe(first);
    expect(got.items.map((i) => i.event.id)).toEqual(['evt-2']);
  });

  it('a throwing handler is reported as `handler` and the others still get every event', async () => {
    const s = await server();
    const { stream, errors, got } = open(s.url, { lastEventId: '0-0' });
    stream.on('log.append', () => {
      throw new Error('boom');
    });
    const after: string[] = [];
    stream.on('log.append', (event) => after.push(event.id));
    await s.publish(1, 2);
    await got.waitFor(2);
    expect(after).toEqual(['evt-1', 'evt-2']);
    expect(errors.map((e) => [e.code, (e.cause as Error).message])).toEqual([
      ['handler', 'boom'],
      ['handler', 'boom'],
    ]);
    expect(stream.state).toBe('open');
    expect(s.requests).toHaveLength(1);
  });

  it('an onError that throws does not break the stream', async () => {
    const s = await server();
    const { stream, got } = open(s.url, {
      lastEventId: '0-0',
      onError: () => {
        throw new Error('reporter broke');
      },
    });
    stream.on('log.append', () => {
      throw new Error('boom');
    });
    await s.publish(1, 2);
    await got.waitFor(2);
    expect(stream.state).toBe('open');
  });

  it('close() from inside a handler stops delivery at once, even within one chunk', async () => {
    const s = await server();
    await s.publish(1, 5); // replayed in one write
    const { stream, got } = open(s.url, { lastEventId: '0-0' });
    const seen: string[] = [];
    stream.on('log.append', (event) => {
      seen.push(event.id);
      if (seen.length === 2) stream.close();
    });
    await waitForState(stream, 'closed');
    await realSleep(20);
    expect(seen).toEqual(['evt-1', 'evt-2']);
    expect(got.items).toHaveLength(2);
  });

  it('unsubscribe functions stop handlers and state listeners', async () => {
    const s = await server();
    const { stream, got } = open(s.url, { lastEventId: '0-0' });
    const seen: string[] = [];
    const states: string[] = [];
    const off = stream.on('log.append', (event) => seen.push(event.id));
    const offState = stream.onState((state) => states.push(state));
    await s.publish(1);
    await got.waitFor(1);
    off();
    offState();
    await s.publish(2);
    await got.waitFor(2);
    stream.close();
    expect(seen).toEqual(['evt-1']);
    expect(states).toEqual(['open']);
  });

  it('a headers() that throws is reported as `headers` and retried with backoff', async () => {
    const s = await server();
    let calls = 0;
    const { stream, errors } = open(s.url, {
      backoff: { initialMs: 5 },
      headers: () => {
        if (++calls === 1) throw new Error('token service down');
        return { 'X-Try': String(calls) };
      },
    });
    await waitForState(stream, 'open');
    expect(errors.map((e) => [e.code, e.fatal, (e.cause as Error).message])).toEqual([
      ['headers', false, 'token service down'],
    ]);
    expect(s.requests).toHaveLength(1); // the failed attempt never reached the server
  });

  it('maxRetries: 0 never reconnects', async () => {
    const s = await server();
    const { stream } = open(s.url, { maxRetries: 0 });
    await waitForState(stream, 'open');
    s.dropConnections();
    await waitForState(stream, 'closed');
    expect(stream.error).toMatchObject({ code: 'retries_exhausted', fatal: true });
    expect(s.requests).toHaveLength(1);
  });

  it('waits out Retry-After on sse-express 503 too_many_connections, then connects', async () => {
    const s = await server({ maxConnections: 1 });
    const first = open(s.url);
    await waitForState(first.stream, 'open');
    const second = open(s.url, { backoff: { initialMs: 1 }, fallback: false });
    await until(() => second.errors.length === 1, 'the 503');
    expect(second.errors[0]).toMatchObject({ code: 'http_status', status: 503, fatal: false });
    expect(second.errors[0]?.message).toContain('too many connections');
    first.stream.close();
    await realSleep(500);
    expect(s.requests).toHaveLength(2); // Retry-After: 1 (second) is not over yet
    await waitForState(second.stream, 'open');
    expect(s.requests).toHaveLength(3);
  });
});
