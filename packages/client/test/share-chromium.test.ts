// Tab sharing in real headless Chromium: several pages of ONE browser context (one origin, shared
// Web Locks and BroadcastChannel) against a real sse-express server on a memory bus. The pages load
// the esbuild bundle of `@repopulse/client/share`. Skips loudly without Chromium; fails under CI=true.
import { createMemoryBus } from '@repopulse/bus-memory';
import { signStreamToken } from '@repopulse/sse-express';
import { findChromium, launchChromium, requirement } from '@repopulse/test-support';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bundleBrowserClient } from '../scripts/browser-bundle.mjs';
import { range, realSleep, until } from './helpers/events';
import { type SnapshotServer, startSnapshotServer } from './helpers/snapshot-server';

const executablePath = findChromium();
const mode = requirement('client', executablePath ? undefined : 'chromium not found', 'the tab-sharing test');

const SECRET = 'a-test-secret-of-32-bytes-length';

/** What a page opens, from its URL hash. */
interface PageSetup {
  /** Sign a stream token for this user and send it as `Authorization: Bearer`. */
  user?: string;
  /** Delete BroadcastChannel and navigator.locks before the client loads. */
  bare?: boolean;
  /** More stream options (lastEventId, share, …). */
  options?: Record<string, unknown>;
}

const PAGE = `<!doctype html><meta charset="utf-8"><title>share</title>
<script type="module">
  const setup = JSON.parse(decodeURIComponent(location.hash.slice(1)) || '{}');
  if (setup.bare) {
    delete window.BroadcastChannel;
    Object.defineProperty(Navigator.prototype, 'locks', { get: () => undefined });
  }
  const { createSharedEventStream } = await import('/share.js');
  window.__events = [];
  window.__states = [];
  window.__errors = [];
  window.__resets = [];
  const stream = createSharedEventStream('/api/repositories/1/events', {
    backoff: { initialMs: 10 },
    onError: (error) => window.__errors.push(error.code),
    onReset: (reset) => window.__resets.push(reset),
    ...(setup.token && { headers: { Authorization: 'Bearer ' + setup.token } }),
    ...setup.options,
  });
  stream.on('log.append', (event, position) => window.__events.push({ id: event.id, position }));
  stream.onState((state) => window.__states.push(state));
  window.__stream = stream;
</script>`;

// createLiveResource sharing the stream with `tabSharing()`, from the client's and the share bundles.
const LIVE_PAGE = `<!doctype html><meta charset="utf-8"><title>live</title>
<script type="module">
  const setup = JSON.parse(decodeURIComponent(location.hash.slice(1)) || '{}');
  const { createLiveResource } = await import('/client.js');
  const { tabSharing } = await import('/share.js');
  window.__live = createLiveResource({
    url: '/api/repositories/1/events',
    load: (signal) => fetch('/api/repositories/1', { signal }).then((res) => res.json()),
    apply: (state, event) =>
      state.lines.includes(event.payload.message) ? state : { ...state, lines: [...state.lines, event.payload.message] },
    headers: { Authorization: 'Bearer ' + setup.token },
    backoff: { initialMs: 10 },
    share: tabSharing(),
  });
</script>`;

type Seen = { id: string; position: string };
declare global {
  interface Window {
    __events: Seen[];
    __states: string[];
    __errors: string[];
    __resets: { reason: string; position: string; retainedAfter?: string }[];
    __stream: { close(): void; readonly state: string };
    __live: { current: { state: string; data?: { lines: string[] } } };
  }
}

const events = (page: Page) => page.evaluate(() => window.__events);
const ids = async (page: Page) => (await events(page)).map((e) => e.id);
const waitForCount = (page: Page, count: number) =>
  page.waitForFunction((n) => window.__events.length >= n, count, { timeout: 15_000 });
const waitForOpen = (page: Page) =>
  page.waitForFunction(() => window.__stream?.state === 'open', undefined, { timeout: 15_000 });

describe.skipIf(mode === 'skip')('tab sharing in headless Chromium', () => {
  let server: SnapshotServer;
  /** While set, stream requests wait for it (the leader's reconnect is held). */
  let gate: Promise<void> | undefined;
  let browser: Browser;
  let context: BrowserContext;
  let bundle: string;
  let client: string;

  beforeAll(async () => {
    bundle = new TextDecoder().decode(await bundleBrowserClient('share'));
    client = new TextDecoder().decode(await bundleBrowserClient());
    browser = await launchChromium(executablePath as string);
  }, 60_000);

  /** Starts the server; with `historyLimit`, its memory bus keeps that many events per topic. */
  async function startTestServer(historyLimit?: number): Promise<SnapshotServer> {
    const bus = createMemoryBus({ historyLimit, onError: () => {} });
    return startSnapshotServer({ tokenSecret: SECRET, bus }, (app) => {
      app.use(
        '/api/repositories/1/events',
        (_req, _res, next) => void (gate ?? Promise.resolve()).then(() => next()),
      );
      app.get('/', (_req, res) => void res.type('html').send(PAGE));
      app.get('/live', (_req, res) => void res.type('html').send(LIVE_PAGE));
      app.get('/share.js', (_req, res) => void res.type('text/javascript').send(bundle));
      app.get('/client.js', (_req, res) => void res.type('text/javascript').send(client));
    });
  }

  beforeEach(async () => {
    gate = undefined;
    server = await startTestServer();
    context = await browser.newContext(); // one context: one origin's locks and channels
  });

  afterEach(async () => {
    await context?.close();
    await server?.close();
  });

  afterAll(async () => {
    await browser?.close();
  });

  // One token per user: the same credentials in every tab of that user.
  const tokens = new Map<string, string>();
  const tokenOf = (user: string) => {
    if (!tokens.has(user)) tokens.set(user, signStreamToken({ sub: user }, SECRET, 600_000));
    return tokens.get(user) as string;
  };

  /** Opens a page of the shared context running the shared stream with `setup`. */
  async function open(setup: PageSetup = {}, path = '/'): Promise<Page> {
    const page = await context.newPage();
    page.on('pageerror', (error) => console.error('[chromium page error]', error));
    const token = setup.user ? tokenOf(setup.user) : undefined;
    await page.goto(`${server.origin}${path}#${encodeURIComponent(JSON.stringify({ ...setup, token }))}`);
    return page;
  }

  /** Opens `count` tabs of ann from the start of the topic; the first is open (the leader) before the others. */
  async function openTabs(count: number): Promise<Page[]> {
    const setup = { user: 'ann', options: { lastEventId: '0-0' } };
    const first = await open(setup);
    await waitForOpen(first);
    const others: Page[] = [];
    for (let i = 1; i < count; i++) others.push(await open(setup));
    await Promise.all(others.map(waitForOpen));
    return [first, ...others];
  }

  const sseRequests = () => server.requests.filter((r) => r.accept === 'text/event-stream');

  it('three tabs share one stream: the server sees one connection, every tab sees every event', async () => {
    const tabs = await openTabs(3);
    await server.publish(1, 30);
    for (const page of tabs) {
      await waitForCount(page, 30);
      expect(await ids(page)).toEqual(range(1, 30));
    }
    expect(server.handler.stats().streams).toBe(1);
    expect(server.handler.stats().totalStreams).toBe(1);
    expect(sseRequests()).toHaveLength(1);
  });

  it('closing the leader mid-stream hands over with every tab exact: no gap, no duplicate', async () => {
    const [leader, ...followers] = (await openTabs(3)) as [Page, Page, Page];
    const publishing = (async () => {
      for (let n = 1; n <= 120; n++) {
        await server.publish(n);
        await realSleep(2);
      }
    })();
    await waitForCount(followers[0] as Page, 40);
    await leader.close(); // mid-stream: events keep coming while the lock changes hands
    await publishing;
    for (const page of followers) {
      await waitForCount(page, 120);
      await realSleep(100); // a duplicate would arrive now
      expect(await ids(page)).toEqual(range(1, 120));
    }
    for (const page of followers) {
      // The old leader's stream closing is not the followers' state: they never show `closed`.
      expect(await page.evaluate(() => window.__states)).not.toContain('closed');
      expect(await page.evaluate(() => window.__stream.state)).toBe('open');
    }
    await until(() => server.handler.stats().streams === 1, 'one stream after the handover');
    const sse = sseRequests();
    expect(sse).toHaveLength(2);
    // The new leader resumed from a position it had seen, not from scratch.
    expect(sse[1]?.lastEventId).toMatch(/^\d+-\d+$/);
    expect(sse[1]?.lastEventId).not.toBe('0-0');
  });

  it('a leader that crashes hands over too', async () => {
    const [leader, follower] = (await openTabs(2)) as [Page, Page];
    await server.publish(1, 10);
    await waitForCount(follower, 10);
    const cdp = await context.newCDPSession(leader);
    void cdp.send('Page.crash').catch(() => {}); // the renderer dies: no unload, no goodbye
    await new Promise((resolve) => leader.once('crash', resolve));
    await server.publish(11, 10);
    await waitForCount(follower, 20);
    await realSleep(100);
    expect(await ids(follower)).toEqual(range(1, 20));
    await until(() => sseRequests().length === 2, 'the follower to connect');
  });

  it('a leader that closes its stream (an SPA leaving the page) hands over; the others never show closed', async () => {
    const [leader, follower] = (await openTabs(2)) as [Page, Page];
    await server.publish(1, 5);
    await waitForCount(follower, 5);
    await leader.evaluate(() => window.__stream.close());
    expect(await leader.evaluate(() => window.__stream.state)).toBe('closed');
    await server.publish(6, 5);
    await waitForCount(follower, 10);
    expect(await ids(follower)).toEqual(range(1, 10));
    expect(await follower.evaluate(() => window.__states)).not.toContain('closed');
    expect(await ids(leader)).toEqual(range(1, 5)); // closed means closed
    await until(() => sseRequests().length === 2 && server.handler.stats().streams === 1, 'the takeover');
  });

  it('a tab opened later joins: it catches up from its position, or starts live', async () => {
    const first = await open({ user: 'ann', options: { lastEventId: '0-0' } });
    await waitForOpen(first);
    const positions = await server.publish(1, 10);
    await waitForCount(first, 10);
    const resuming = await open({ user: 'ann', options: { lastEventId: positions[5] } });
    const live = await open({ user: 'ann' });
    await Promise.all([waitForOpen(resuming), waitForOpen(live)]);
    await server.publish(11, 5);
    await waitForCount(resuming, 9);
    await waitForCount(live, 5);
    await realSleep(100);
    expect(await ids(resuming)).toEqual(range(7, 15));
    expect(await ids(live)).toEqual(range(11, 15));
    expect(await ids(first)).toEqual(range(1, 15));
    expect(sseRequests()).toHaveLength(1);
  });

  it('a tab joining from further back than the shared history gets a reset', async () => {
    const first = await open({ user: 'ann', options: { lastEventId: '0-0', share: { history: 3 } } });
    await waitForOpen(first);
    const positions = await server.publish(1, 10);
    await waitForCount(first, 10);
    const late = await open({ user: 'ann', options: { lastEventId: positions[1], share: { history: 3 } } });
    await waitForOpen(late);
    await server.publish(11);
    await waitForCount(late, 1);
    // Events 3..7 are in no tab's history any more: a reset, never a silent gap.
    expect(await late.evaluate(() => window.__resets)).toEqual([
      { reset: true, reason: 'expired', position: positions[9] },
    ]);
    expect(await ids(late)).toEqual(['evt-11']);
    expect(await late.evaluate(() => window.__stream.state)).toBe('open');
    expect(sseRequests()).toHaveLength(1);
  });

  /** Every tab's resets, once each has at least one. */
  const resetsOf = async (tabs: Page[]) => {
    for (const page of tabs)
      await page.waitForFunction(() => window.__resets.length > 0, undefined, { timeout: 15_000 });
    await realSleep(100); // a second (wrong) reset would arrive now
    return Promise.all(tabs.map((page) => page.evaluate(() => window.__resets)));
  };

  it('a history_lost reset reaches every tab with its reason', async () => {
    const tabs = await openTabs(3);
    await server.publish(1, 2);
    for (const page of tabs) await waitForCount(page, 2);
    await server.bus.dropTopic('repo:1'); // the store forgets the topic under the live stream
    const head = await server.bus.head('repo:1');
    const expected = { reset: true, reason: 'history_lost', position: head };
    expect(await resetsOf(tabs)).toEqual([[expected], [expected], [expected]]);
    await server.publish(3);
    for (const page of tabs) {
      await waitForCount(page, 3);
      expect(await ids(page)).toEqual(range(1, 3));
    }
    expect(sseRequests()).toHaveLength(1);
  });

  it('a malformed reset reaches every tab, those that join later included', async () => {
    const setup = { user: 'ann', options: { lastEventId: 'not-a-position' } };
    const first = await open(setup);
    await waitForOpen(first);
    const later = [await open(setup), await open(setup)];
    await Promise.all(later.map(waitForOpen));
    const expected = { reset: true, reason: 'malformed', position: '0-0' };
    expect(await resetsOf([first, ...later])).toEqual([[expected], [expected], [expected]]);
    await server.publish(1);
    for (const page of [first, ...later]) {
      await waitForCount(page, 1);
      expect(await ids(page)).toEqual(['evt-1']);
    }
    expect(sseRequests()).toHaveLength(1);
  });

  it('an expired reset reaches every tab with its retained_after', async () => {
    await server.close();
    server = await startTestServer(3); // a disconnect of more than 3 events is `expired`
    const tabs = await openTabs(3);
    const positions = await server.publish(1, 2);
    for (const page of tabs) await waitForCount(page, 2);
    let release = () => {};
    gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    server.dropConnections(); // the leader loses its stream; its reconnect waits at the gate
    await until(() => sseRequests().length === 2, "the leader's reconnect");
    positions.push(...(await server.publish(3, 8))); // 3 retained: 8, 9, 10; 3..7 expired
    gate = undefined;
    release();
    const expected = { reset: true, reason: 'expired', position: positions[9], retainedAfter: positions[6] };
    expect(await resetsOf(tabs)).toEqual([[expected], [expected], [expected]]);
    expect(sseRequests()[1]?.lastEventId).toBe(positions[1]);
  });

  it('different credentials never share: a tab of another user opens its own stream', async () => {
    const ann = await open({ user: 'ann', options: { lastEventId: '0-0' } });
    await waitForOpen(ann);
    const bob = await open({ user: 'bob', options: { lastEventId: '0-0' } });
    await waitForOpen(bob);
    const keyed = await open({ user: 'ann', options: { lastEventId: '0-0', share: { key: 'other' } } });
    await waitForOpen(keyed);
    await server.publish(1, 5);
    for (const page of [ann, bob, keyed]) {
      await waitForCount(page, 5);
      expect(await ids(page)).toEqual(range(1, 5));
    }
    expect(server.handler.stats().streams).toBe(3);
    // ann's two tabs send the same token; only the caller's key keeps them apart.
    expect(sseRequests().map((r) => r.authorization)).toEqual(
      [tokenOf('ann'), tokenOf('bob'), tokenOf('ann')].map((t) => `Bearer ${t}`),
    );
  });

  it('createLiveResource with tabSharing(): tabs share one stream and keep their state across a handover', async () => {
    await server.write(1, 2);
    const lines = (page: Page) => page.evaluate(() => window.__live.current.data?.lines ?? []);
    const waitForLines = (page: Page, n: number) =>
      page.waitForFunction((count) => (window.__live.current.data?.lines.length ?? 0) >= count, n, {
        timeout: 15_000,
      });
    const first = await open({ user: 'ann' }, '/live');
    await first.waitForFunction(() => window.__live?.current.state === 'open', undefined, {
      timeout: 15_000,
    });
    const second = await open({ user: 'ann' }, '/live');
    await second.waitForFunction(() => window.__live?.current.state === 'open', undefined, {
      timeout: 15_000,
    });
    await server.write(3, 3);
    for (const page of [first, second]) {
      await waitForLines(page, 5);
      expect(await lines(page)).toEqual(range(1, 5).map((id) => id.replace('evt-', 'line ')));
    }
    expect(server.handler.stats().streams).toBe(1);
    await first.close();
    await server.write(6, 3);
    await waitForLines(second, 8);
    await realSleep(100);
    expect(await lines(second)).toEqual(range(1, 8).map((id) => id.replace('evt-', 'line ')));
    await until(() => server.handler.stats().streams === 1, 'the second tab to take over');
    expect(sseRequests()).toHaveLength(2);
  });

  it('without BroadcastChannel and Web Locks every tab falls back to its own stream', async () => {
    const pages = [
      await open({ user: 'ann', bare: true, options: { lastEventId: '0-0' } }),
      await open({ user: 'ann', bare: true, options: { lastEventId: '0-0' } }),
    ];
    await Promise.all(pages.map(waitForOpen));
    expect(await (pages[0] as Page).evaluate(() => typeof BroadcastChannel)).toBe('undefined');
    await server.publish(1, 5);
    for (const page of pages) {
      await waitForCount(page, 5);
      expect(await ids(page)).toEqual(range(1, 5));
    }
    expect(server.handler.stats().streams).toBe(2);
  });
});
