// @vitest-environment happy-dom
// Browser niceties (online/offline, page visibility) with happy-dom's window and fetch, against a
// real sse-express server.

import { cleanupAfterEach } from '@repopulse/test-support/vitest';
import { describe, expect, it } from 'vitest';
import { ids, realSleep, until, waitForState } from './helpers/events';
import { setPageUrl, setVisibility } from './helpers/happy-dom';
import { serverStarter, streamOpener } from './helpers/harness';
import { refuse, startServer } from './helpers/http-server';
import { trackingFetch } from './helpers/tracking-fetch';

const cleanups = cleanupAfterEach(() => setVisibility('visible'));

const server = serverStarter(cleanups, (s) => setPageUrl(s.origin));

const open = streamOpener(cleanups);

describe('browser niceties', () => {
  it('works with a relative URL and the page fetch', async () => {
    const s = await server();
    const { stream, got } = open('/api/repositories/1/events', { lastEventId: '0-0' });
    await s.publish(1);
    await got.waitFor(1);
    expect(stream.state).toBe('open');
  });

  it('pauses while offline and reconnects at once when online, without a gap', async () => {
    const s = await server();
    const { stream, got, errors } = open(s.url, { lastEventId: '0-0', backoff: { initialMs: 60_000 } });
    await s.publish(1);
    await got.waitFor(1);
    window.dispatchEvent(new Event('offline'));
    expect(stream.state).toBe('connecting');
    await until(() => s.handler.stats().streams === 0, 'the stream to close on the server');
    await s.publish(2, 2);
    await realSleep(50);
    expect(s.requests).toHaveLength(1);
    window.dispatchEvent(new Event('online')); // no 30 s backoff: at once
    await got.waitFor(3);
    expect(ids(got.items)).toEqual(['evt-1', 'evt-2', 'evt-3']);
    expect(s.requests[1]?.lastEventId).toBe(got.items[0]?.position);
    expect(errors).toEqual([]);
  });

  it('online cuts a backoff wait short', async () => {
    const s = await startServer((_req, res) => refuse(res, 503));
    cleanups.push(() => s.close());
    setPageUrl(s.origin);
    const { errors } = open(`${s.origin}/events`, { backoff: { initialMs: 60_000 }, fallback: false });
    await until(() => errors.length === 1, 'the first failure');
    window.dispatchEvent(new Event('online'));
    await s.waitForRequests(2);
    expect(s.requests).toHaveLength(2);
  });

  it('pauseWhenHidden: no connection while hidden, one again when visible, never two at once', async () => {
    const s = await server();
    const tracker = trackingFetch();
    const { stream, got } = open(s.url, { lastEventId: '0-0', pauseWhenHidden: true, fetch: tracker.fetch });
    await s.publish(1);
    await got.waitFor(1);
    setVisibility('hidden');
    expect(stream.state).toBe('connecting');
    await until(() => tracker.active() === 0 && s.handler.stats().streams === 0, 'the stream to close');
    await s.publish(2);
    setVisibility('visible');
    setVisibility('hidden');
    setVisibility('visible');
    await got.waitFor(2);
    await waitForState(stream, 'open');
    expect(ids(got.items)).toEqual(['evt-1', 'evt-2']);
    expect(tracker.maxActive()).toBe(1);
    expect(tracker.active()).toBe(1);
  });

  it('keeps streaming while hidden by default', async () => {
    const s = await server();
    const { stream, got } = open(s.url, { lastEventId: '0-0' });
    await waitForState(stream, 'open');
    setVisibility('hidden');
    await s.publish(1);
    await got.waitFor(1);
    expect(stream.state).toBe('open');
    expect(s.requests).toHaveLength(1);
  });

  it('removes its window listeners on close', async () => {
    const s = await server();
    const { stream } = open(s.url);
    await waitForState(stream, 'open');
    stream.close();
    window.dispatchEvent(new Event('offline'));
    window.dispatchEvent(new Event('online'));
    await realSleep(30);
    expect(stream.state).toBe('closed');
    expect(s.requests).toHaveLength(1);
  });
});
