// The client against a real sse-express server (memory bus) over real sockets.
import { createMemoryBus } from '@repopulse/bus-memory';
import { createEvent } from '@repopulse/events-core';
import { StreamHttpError, signStreamToken } from '@repopulse/sse-express';
import { cleanupAfterEach } from '@repopulse/test-support/vitest';
import { describe, expect, it } from 'vitest';
import type { EventStream, ResetNotice, StreamItem } from '../src/index';
import { ids, range, until, waitForState } from './helpers/events';
import { serverStarter, streamOpener } from './helpers/harness';

const cleanups = cleanupAfterEach();

const server = serverStarter(cleanups);

const open = streamOpener(cleanups);

describe('against sse-express', () => {
  it('exposes the trace context of each event (SSE and long-poll alike)', async () => {
    const s = await server();
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const event = createEvent(
      'log.append',
      { level: 'info', message: 't' },
      { traceparent, tracestate: 'v=1' },
    );
    await s.bus.publish('repo:1', event);
    await s.publish(1, 1); // one without
    const { stream, got } = open(s.url, { lastEventId: '0-0' });
    const seen: (string | undefined)[] = [];
    stream.on('log.append', (e) => seen.push(e.traceparent));
    await got.waitFor(2);
    expect(seen).toEqual([traceparent, undefined]);
    expect(got.items[0]).toMatchObject({ event: { traceparent, tracestate: 'v=1' } });
    const poll = await fetch(`${s.url}?after=0-0&wait=0`, { headers: { accept: 'application/json' } });
    const body = (await poll.json()) as { events: { event: { traceparent?: string } }[] };
    expect(body.events.map((e) => e.event.traceparent)).toEqual([traceparent, undefined]);
  });

  it('replays after the snapshot position, then goes live, typed by event type', async () => {
    const s = await server();
    const positions = await s.publish(1, 3);
    const { stream, got } = open(s.url, { lastEventId: positions[1] });
    const messages: string[] = [];
    stream.on('log.append', (event) => messages.push(event.payload.message));
    await got.waitFor(1);
    expect(stream.state).toBe('open');
    await s.publish(4, 2);
    await got.waitFor(3);
    expect(ids(got.items)).toEqual(['evt-3', 'evt-4', 'evt-5']);
    expect(messages).toEqual(['line 3', 'line 4', 'line 5']);
    expect(got.items[0]?.position).toBe(positions[2]);
    expect(s.requests[0]?.accept).toBe('text/event-stream');
  });

  it('resumes after socket drops with no gap and no duplicate', async () => {
    const s = await server();
    const { stream, got } = open(s.url, { lastEventId: '0-0', backoff: { initialMs: 5 } });
    await waitForState(stream, 'open');
    const total = 200;
    for (let round = 0; round < 5; round++) {
      await s.publish(round * 40 + 1, 20);
      await got.waitFor(round * 40 + 1); // the stream is delivering
      const before = s.requests.length;
      s.dropConnections();
      await s.publish(round * 40 + 21, 20); // published while the client is disconnected
      await s.waitForRequests(before + 1);
    }
    await got.waitFor(total);
    expect(ids(got.items)).toEqual(range(1, total));
    expect(s.requests.length).toBeGreaterThanOrEqual(6);
    // Every reconnect carried the position of the last event received before the drop.
    const received = new Set(got.items.map((i) => i.position));
    for (const req of s.requests.slice(1)) {
      const resume = req.lastEventId ?? req.query.get('after');
      expect(resume && (received.has(resume as never) || resume === '0-0')).toBeTruthy();
    }
  });

  it('calls onReset when the resume point is gone, then delivers live events after the head', async () => {
    const s = await server();
    const [, head] = await s.publish(1, 2);
    const resets: ResetNotice[] = [];
    const { stream, got } = open(s.url, { lastEventId: '999999999999999-0', onReset: (r) => resets.push(r) });
    const items: StreamItem[] = [];
    const iterate = (async () => {
      for await (const item of stream) {
        items.push(item);
        if (items.length === 2) break;
      }
    })();
    await until(() => resets.length === 1, 'reset');
    expect(resets[0]).toMatchObject({ reset: true, reason: 'unknown_position', position: head });
    expect(stream.lastEventId).toBe(head);
    await s.publish(3);
    await got.waitFor(1);
    expect(ids(got.items)).toEqual(['evt-3']);
    await iterate;
    expect(items[0]).toMatchObject({ reset: true, position: head });
    expect(items[1]).toMatchObject({ event: { id: 'evt-3' } });
    expect(stream.state).toBe('closed'); // leaving the loop closed the stream
  });

  it('an expired reset of a trimmed topic carries retainedAfter; resuming after it replays the tail', async () => {
    const s = await server({ bus: createMemoryBus({ historyLimit: 3, onError: () => {} }) });
    const positions = await s.publish(1, 5);
    const resets: ResetNotice[] = [];
    const first = open(s.url, { lastEventId: '0-0', onReset: (r) => resets.push(r) });
    await until(() => resets.length === 1, 'reset');
    expect(resets[0]).toEqual({
      reset: true,
      reason: 'expired',
      position: positions[4],
      retainedAfter: positions[1],
    });
    first.stream.close();

    const tail = open(s.url, { lastEventId: resets[0]!.retainedAfter!, onReset: (r) => resets.push(r) });
    await tail.got.waitFor(3);
    await s.publish(6);
    await tail.got.waitFor(4);
    expect(ids(tail.got.items)).toEqual(['evt-3', 'evt-4', 'evt-5', 'evt-6']);
    expect(resets).toHaveLength(1);
  });

  it('close() and an aborted signal end the connection on the server too', async () => {
    const s = await server();
    const controller = new AbortController();
    const a = open(s.url, { signal: controller.signal });
    const b = open(s.url);
    await Promise.all([waitForState(a.stream, 'open'), waitForState(b.stream, 'open')]);
    expect(s.handler.stats().streams).toBe(2);
    controller.abort();
    expect(a.stream.state).toBe('closed');
    await until(() => s.handler.stats().streams === 1, 'server to see the abort');
    b.stream.close();
    expect(b.stream.state).toBe('closed');
    await until(() => s.handler.stats().streams === 0, 'server to see the close');
    await s.publish(1);
    expect(a.got.items).toEqual([]);
    expect([...a.errors, ...b.errors]).toEqual([]);
    expect(s.requests).toHaveLength(2);
  });

  it('an already aborted signal never connects', async () => {
    const s = await server();
    const { stream } = open(s.url, { signal: AbortSignal.abort() });
    expect(stream.state).toBe('closed');
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(s.requests).toHaveLength(0);
  });

  it('the async iterator yields events in order and ends cleanly on close()', async () => {
    const s = await server();
    const { stream } = open(s.url, { lastEventId: '0-0' });
    await s.publish(1, 3);
    const seen: string[] = [];
    for await (const item of stream) {
      if (!item.reset) seen.push(item.event.id);
      if (seen.length === 3) stream.close();
    }
    expect(seen).toEqual(range(1, 3));
    expect(stream.error).toBeUndefined();
  });

  it('reconnects with fresh credentials when the stream token expires', async () => {
    const secret = 'a-test-secret-of-32-bytes-length';
    const s = await server({ tokenSecret: secret });
    let signed = 0;
    const { stream, got, errors } = open(s.url, {
      lastEventId: '0-0',
      backoff: { initialMs: 5 },
      headers: () => ({ Authorization: `Bearer ${signStreamToken({ n: ++signed }, secret, 150)}` }),
    });
    await waitForState(stream, 'open');
    await s.publish(1, 2);
    await got.waitFor(2);
    await until(() => s.handler.stats().closedForTokenExpiry >= 1, 'token expiry');
    await s.publish(3, 2);
    await got.waitFor(4);
    expect(ids(got.items)).toEqual(range(1, 4));
    expect(signed).toBeGreaterThanOrEqual(2);
    expect(errors.filter((e) => e.fatal)).toEqual([]);
  });

  it('refreshes credentials once on 401 from sse-express', async () => {
    const secret = 'a-test-secret-of-32-bytes-length';
    const s = await server({ tokenSecret: secret });
    const expired = signStreamToken({}, secret, 1);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const { stream } = open(s.url, {
      headers: ({ refresh }) => ({
        Authorization: `Bearer ${refresh ? signStreamToken({}, secret, 60_000) : expired}`,
      }),
    });
    await waitForState(stream, 'open');
    expect(s.requests).toHaveLength(2);
  });

  const refusals: [number, string, () => boolean][] = [
    [403, 'forbidden', () => false],
    [
      404,
      'not_found',
      () => {
        throw new StreamHttpError(404, 'not_found', 'unknown repository');
      },
    ],
  ];
  it.each(refusals)('stops on %i from authorize without retrying', async (status, code, authorize) => {
    const s = await server({ authorize });
    const { stream } = open(s.url);
    await waitForState(stream, 'closed');
    expect(stream.error).toMatchObject({ code, status, fatal: true });
    expect(s.requests).toHaveLength(1);
  });

  it('sse-express heartbeats keep the watchdog quiet on an idle stream', async () => {
    const s = await server({ heartbeatMs: 40 });
    const { stream, errors } = open(s.url, { heartbeatTimeoutMs: 150 });
    await waitForState(stream, 'open');
    await until(() => s.handler.stats().heartbeats >= 10, 'ten heartbeats');
    expect(s.requests).toHaveLength(1);
    expect(errors).toEqual([]);
    expect(stream.state).toBe('open');
  });
});

export type { EventStream };
