// The esbuild-bundled client in real headless Chromium against a real sse-express server on
// 127.0.0.1 (same origin as the page). Skips loudly without Chromium; fails under CI=true.
import type { IncomingHttpHeaders } from 'node:http';
import { findChromium, launchChromium, requirement } from '@repopulse/test-support';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleBrowserClient } from '../scripts/browser-bundle.mjs';
import { type EventServer, startEventServer } from './helpers/event-server';
import { envelope } from './helpers/events';
import { startProxy } from './helpers/proxy';

const executablePath = findChromium();
const mode = requirement(
  'client',
  executablePath ? undefined : 'chromium not found',
  'the real-browser test',
);

const PAGE = `<!doctype html><meta charset="utf-8"><title>client</title>
<script type="module">
  import { createEventStream } from '/client.js';
  window.__events = [];
  window.__states = [];
  const { url = '/api/repositories/1/events', ...extra } = location.hash ? JSON.parse(decodeURIComponent(location.hash.slice(1))) : {};
  const stream = createEventStream(url, { lastEventId: '0-0', backoff: { initialMs: 10 }, ...extra });
  stream.on('log.append', (event, position) => window.__events.push({ id: event.id, position, message: event.payload.message }));
  stream.onState((state) => window.__states.push(state));
  window.__stream = stream;
</script>`;

const UTF8_ID = 'pos-é…😀';
const utf8Requests: IncomingHttpHeaders[] = [];

describe.skipIf(mode === 'skip')('in headless Chromium', () => {
  let server: EventServer;
  let browser: Browser;
  let page: Page;
  let bundle: string;

  beforeAll(async () => {
    bundle = new TextDecoder().decode(await bundleBrowserClient());
    server = await startEventServer({}, (app) => {
      app.get('/', (_req, res) => void res.type('html').send(PAGE));
      app.get('/client.js', (_req, res) => void res.type('text/javascript').send(bundle));
      // Hand-written SSE: a non-ASCII id, then (on the reconnect) the headers the browser sent.
      app.get('/utf8/events', (req, res) => {
        utf8Requests.push(req.headers);
        res.writeHead(200, { 'Content-Type': 'text/event-stream' });
        const n = utf8Requests.length;
        const line = `event: log.append\ndata: ${JSON.stringify(envelope(n))}\n\n`;
        if (n === 1) res.end(`id: ${UTF8_ID}\n${line}`);
        else res.write(`id: ${n}-0\n${line}`);
      });
    });
    browser = await launchChromium(executablePath as string);
    page = await browser.newPage();
    page.on('pageerror', (error) => console.error('[chromium page error]', error));
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('receives events, and resumes without gap or duplicate after the socket drops', async () => {
    expect(bundle).not.toMatch(/@repopulse\/events-core/);
    await page.goto(`${server.origin}/`);
    await page.waitForFunction(() => (window as unknown as { __states: string[] }).__states.includes('open'));
    await server.publish(1, 3);
    await page.waitForFunction(() => (window as unknown as { __events: unknown[] }).__events.length === 3);
    server.dropConnections();
    await server.publish(4, 3); // published while the browser is reconnecting
    await page.waitForFunction(() => (window as unknown as { __events: unknown[] }).__events.length === 6);
    const events = await page.evaluate(
      () => (window as unknown as { __events: { id: string; position: string }[] }).__events,
    );
    expect(events.map((e) => e.id)).toEqual(['evt-1', 'evt-2', 'evt-3', 'evt-4', 'evt-5', 'evt-6']);
    const sse = server.requests.filter((r) => r.accept === 'text/event-stream');
    expect(sse.length).toBeGreaterThanOrEqual(2);
    expect(sse[1]?.lastEventId).toBe(events[2]?.position);
    const states = await page.evaluate(() => (window as unknown as { __states: string[] }).__states);
    expect(states).toEqual(['open', 'connecting', 'open']);
    await page.evaluate(() => (window as unknown as { __stream: { close(): void } }).__stream.close());
    await expect.poll(() => server.handler.stats().streams).toBe(0);
  });

  it('falls back to long-polling behind a buffering proxy, with the same events', async () => {
    const proxy = await startProxy(server.origin, 'buffer');
    try {
      const fresh = await browser.newPage();
      const options = { fallback: { probeTimeoutMs: 300, waitSeconds: 0.5 } };
      await fresh.goto(`${proxy.origin}/#${encodeURIComponent(JSON.stringify(options))}`);
      await fresh.waitForFunction(() =>
        (window as unknown as { __states: string[] }).__states.includes('polling'),
      );
      await server.publish(7, 2);
      // lastEventId 0-0: the whole history (evt-1..evt-8) arrives over long-poll.
      await fresh.waitForFunction(() => (window as unknown as { __events: unknown[] }).__events.length === 8);
      const events = await fresh.evaluate(
        () => (window as unknown as { __events: { id: string }[] }).__events,
      );
      expect(events.map((e) => e.id)).toEqual([
        'evt-1',
        'evt-2',
        'evt-3',
        'evt-4',
        'evt-5',
        'evt-6',
        'evt-7',
        'evt-8',
      ]);
      expect(proxy.requests.some((r) => r.accept === 'application/json' && r.query.get('after'))).toBe(true);
      await fresh.close();
    } finally {
      await proxy.close();
    }
  });
  it('sends a non-ASCII id back UTF-8 encoded in Last-Event-ID, with cache mode no-store', async () => {
    const fresh = await browser.newPage();
    try {
      await fresh.goto(`${server.origin}/#${encodeURIComponent(JSON.stringify({ url: '/utf8/events' }))}`);
      await fresh.waitForFunction(() => (window as unknown as { __events: unknown[] }).__events.length === 2);
      const events = await fresh.evaluate(
        () => (window as unknown as { __events: { position: string }[] }).__events,
      );
      expect(events.map((e) => e.position)).toEqual([UTF8_ID, '2-0']);
      const reconnect = utf8Requests[1] as IncomingHttpHeaders;
      expect(Buffer.from(String(reconnect['last-event-id']), 'latin1').toString('utf8')).toBe(UTF8_ID);
      expect(reconnect.accept).toBe('text/event-stream');
      expect(reconnect['cache-control']).toBe('no-cache'); // what cache: 'no-store' makes Chromium send
      const states = await fresh.evaluate(() => (window as unknown as { __states: string[] }).__states);
      expect(states).not.toContain('polling');
    } finally {
      await fresh.close();
    }
  });
});
