// Long-poll fallback through misbehaving proxies in front of a real sse-express server.

import { cleanupAfterEach } from '@repopulse/test-support/vitest';
import { describe, expect, it } from 'vitest';
import {
  createEventStream,
  type EventStreamError,
  type EventStreamOptions,
  type EventStreamState,
  type ResetNotice,
} from '../src/index';
import { type EventServer, startEventServer } from './helpers/event-server';
import { collect, ids, range, until, waitForState } from './helpers/events';
import { type SseMode, startProxy, type TestProxy } from './helpers/proxy';
import { trackingFetch } from './helpers/tracking-fetch';

const cleanups = cleanupAfterEach();

async function setup(
  mode: SseMode,
  handlerOptions: Parameters<typeof startEventServer>[0] = {},
): Promise<{ server: EventServer; proxy: TestProxy; url: string }> {
  const server = await startEventServer(handlerOptions);
  cleanups.push(() => server.close());
  // Node loads its fetch on first use: warm it up, so the first SSE attempt reaches the proxy
  // within the short probe window these tests use.
  await (await fetch(server.origin)).text();
  const proxy = await startProxy(server.origin, mode);
  cleanups.push(() => proxy.close());
  return { server, proxy, url: `${proxy.origin}/api/repositories/1/events` };
}

function open(url: string, options: EventStreamOptions = {}) {
  const errors: EventStreamError[] = [];
  const states: EventStreamState[] = [];
  const stream = createEventStream(url, {
    backoff: { initialMs: 5 },
    fallback: { probeTimeoutMs: 150, waitSeconds: 0.3, upgradeIntervalMs: 60_000 },
    onError: (e) => errors.push(e),
    ...options,
  });
  stream.onState((s) => states.push(s));
  cleanups.push(() => stream.close());
  return { stream, errors, states, got: collect(stream) };
}

const sseRequests = (proxy: TestProxy) => proxy.requests.filter((r) => r.accept === 'text/event-stream');
const polls = (proxy: TestProxy) => proxy.requests.filter((r) => r.accept === 'application/json');

describe('long-poll fallback', () => {
  it.each(['buffer', 'buffer-body'] as const)(
    'a proxy that buffers the stream (%s) → long-poll with the same cursor, no gap, no duplicate',
    async (mode) => {
      const { server, proxy, url } = await setup(mode);
      const positions = await server.publish(1, 3);
      const { stream, got, states } = open(url, { lastEventId: positions[0] });
      await waitForState(stream, 'polling');
      await got.waitFor(2);
      await server.publish(4, 3);
      await got.waitFor(5);
      await server.publish(7);
      await got.waitFor(6);
      expect(ids(got.items)).toEqual(range(2, 7));
      expect(sseRequests(proxy)).toHaveLength(1);
      expect(states).not.toContain('open');
      const first = polls(proxy)[0];
      expect(first?.query.get('after')).toBe(positions[0]);
      expect(first?.query.get('wait')).toBe('0.3');
      // Each later poll resumes after the last position seen.
      for (const poll of polls(proxy).slice(1)) {
        expect(got.items.some((i) => i.position === poll.query.get('after'))).toBe(true);
      }
      expect(stream.lastEventId).toBe(got.items.at(-1)?.position);
      expect(stream.reason).toMatchObject({ code: 'heartbeat_timeout', fatal: false });
    },
  );

  it('follows capped long-poll answers (longPollMaxEvents) from their position: every event once, in order', async () => {
    const { server, proxy, url } = await setup('buffer', { longPollMaxEvents: 7 });
    const positions = await server.publish(1, 40);
    const { stream, got } = open(url, { lastEventId: '0-0' });
    await waitForState(stream, 'polling');
    await got.waitFor(40);
    expect(ids(got.items)).toEqual(range(1, 40));
    expect(got.items.map((i) => i.position)).toEqual(positions);
    // Answers of 7 events at most: each next poll asked after the last position of the previous one.
    const afters = polls(proxy).map((poll) => poll.query.get('after'));
    expect(afters.slice(0, 6)).toEqual(['0-0', ...[7, 14, 21, 28, 35].map((n) => positions[n - 1])]);
    expect(stream.lastEventId).toBe(positions.at(-1));
  });

  it('probes SSE again after upgradeIntervalMs and upgrades once it gets through; never two requests at once', async () => {
    const { server, proxy, url } = await setup('buffer');
    const tracker = trackingFetch();
    const { stream, got, states } = open(url, {
      fetch: tracker.fetch,
      lastEventId: '0-0',
      fallback: { probeTimeoutMs: 150, waitSeconds: 0.2, upgradeIntervalMs: 400 },
    });
    await waitForState(stream, 'polling');
    await server.publish(1, 2);
    await got.waitFor(2);
    // Still buffering: the first probe fails and polling goes on.
    await until(() => sseRequests(proxy).length >= 2, 'an upgrade probe');
    await server.publish(3);
    await got.waitFor(3);
    expect(stream.state).toBe('polling');
    proxy.mode = 'pass';
    await waitForState(stream, 'open');
    await server.publish(4, 2);
    await got.waitFor(5);
    expect(ids(got.items)).toEqual(range(1, 5));
    // Each probe shows as `probing`, and a probe that gets no byte goes back to `polling` at once.
    expect(states.join()).toMatch(/^(connecting,)?polling,probing,polling,(probing,polling,)*probing,open$/);
    expect(tracker.maxActive()).toBe(1);
    expect(tracker.active()).toBe(1);
    expect(stream.reason).toBeUndefined(); // open again: nothing to explain
    const lastProbe = sseRequests(proxy).at(-1);
    expect(lastProbe?.lastEventId).toBe(got.items[2]?.position);
  });

  it('a 200 that is not text/event-stream is reported, then switches to long-poll at once', async () => {
    const { server, proxy, url } = await setup('html');
    const { stream, got, errors } = open(url, { lastEventId: '0-0' });
    await server.publish(1, 2);
    await got.waitFor(2);
    expect(stream.state).toBe('polling');
    expect(sseRequests(proxy)).toHaveLength(1);
    expect(errors.map((e) => [e.code, e.fatal, e.status])).toEqual([['bad_response', false, 200]]);
    expect(errors[0]?.message).toContain('text/html');
  });

  it('switches to long-poll after afterFailures failed SSE attempts (and one quick SSE retest)', async () => {
    const { server, proxy, url } = await setup('kill');
    const { stream, got, errors } = open(url, {
      lastEventId: '0-0',
      fallback: { afterFailures: 3, probeTimeoutMs: 1000, waitSeconds: 0.3 },
    });
    await waitForState(stream, 'polling');
    expect(proxy.requests.slice(0, 3).map((r) => r.accept)).toEqual(Array(3).fill('text/event-stream'));
    expect(errors.map((e) => e.code)).toEqual(['network', 'network', 'network']);
    await server.publish(1);
    await got.waitFor(1);
    expect(ids(got.items)).toEqual(['evt-1']);
    // After the first good poll SSE is tried once more (it might have been a restart); it still
    // fails, so polling goes on until upgradeIntervalMs.
    await until(() => sseRequests(proxy).length === 4 && polls(proxy).length >= 3, 'the retest');
    await server.publish(2);
    await got.waitFor(2);
    expect(stream.state).toBe('polling');
    expect(sseRequests(proxy)).toHaveLength(4);
  });

  it('a server that was down for a while gets SSE back at once, not after upgradeIntervalMs', async () => {
    const { server, proxy, url } = await setup('down');
    const { stream, got } = open(url, {
      lastEventId: '0-0',
      fallback: { afterFailures: 2, waitSeconds: 0.3 },
    });
    await until(() => polls(proxy).length >= 1, 'the switch to polling');
    proxy.mode = 'pass';
    await server.publish(1);
    await waitForState(stream, 'open');
    await server.publish(2);
    await got.waitFor(2);
    expect(ids(got.items)).toEqual(['evt-1', 'evt-2']);
  });

  it('delivers a reset from a long-poll to onReset, then the events after the head', async () => {
    const { server, url } = await setup('html');
    const [, head] = await server.publish(1, 2);
    const resets: ResetNotice[] = [];
    const { stream, got } = open(url, { lastEventId: 'garbage', onReset: (r) => resets.push(r) });
    await until(() => resets.length === 1, 'reset');
    expect(resets[0]).toMatchObject({ reset: true, reason: 'malformed', position: head });
    await server.publish(3);
    await got.waitFor(1);
    expect(ids(got.items)).toEqual(['evt-3']);
    expect(stream.state).toBe('polling');
  });

  it('with fallback: false a buffering proxy only trips the heartbeat watchdog', async () => {
    const { proxy, url } = await setup('buffer');
    const { stream, errors } = open(url, { fallback: false, heartbeatTimeoutMs: 150 });
    await until(() => errors.length >= 1, 'watchdog');
    expect(errors[0]?.code).toBe('heartbeat_timeout');
    expect(polls(proxy)).toHaveLength(0);
    expect(stream.state).toBe('connecting');
  });
});
