// The app's live pages share one event stream between the tabs of one browser (the client's
// `share` option, keyed by the logged-in user), in real headless Chromium against the real server.
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../server/app';
import { browserSuite, chromiumMode } from './support/browser-suite';
import { openLoggedIn, waitForConnection } from './support/page';
import { client, login, recordTopic, repoStatusIs } from './support/test-server';

const mode = chromiumMode('repo-wiki tab sharing', 'the tab-sharing browser tests');

describe.skipIf(mode === 'skip')('repo-wiki tabs share one stream', () => {
  const suite = browserSuite();
  let s: RunningServer;

  beforeAll(async () => {
    s = (await suite.server()).s;
  });

  /** Open SSE streams of the list and repository handlers. */
  const streams = () => s.streamStats() as { repo: { streams: number }; list: { streams: number } };

  const statuses = (page: Page) =>
    page
      .locator('[data-testid="tasks"] tbody tr')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-status') ?? ''));

  it('three tabs of one user on a repository: one stream; the run reaches every tab, also after the leader closes', async () => {
    const { id, rec } = await suite.addRepo(s, 'https://github.com/acme/shared-tabs');
    const { context, page: first } = await openLoggedIn(suite.browser, s.url);
    const tab = async (existing?: Page) => {
      const page = existing ?? (await context.newPage());
      await page.goto(`/repos/${id}`);
      await waitForConnection(page, 'live');
      return page;
    };
    const tabs = [await tab(first), await tab(), await tab()];
    expect(streams().repo.streams).toBe(1);
    expect(streams().list.streams).toBe(0);

    await (tabs[0] as Page).close(); // the leader goes; another tab takes the stream over
    await expect.poll(() => streams().repo.streams, { timeout: 10_000 }).toBe(1);
    await (tabs[1] as Page).getByTestId('run-all').click();
    await rec.waitFor(repoStatusIs('completed'));
    for (const page of tabs.slice(1)) {
      await expect.poll(() => statuses(page), { timeout: 10_000 }).toEqual(Array(5).fill('completed'));
      // Every event of the topic applied exactly once in every tab.
      const applied = await page.evaluate(() => (window.__repopulseApplied ?? []).map((a) => a.id));
      expect(new Set(applied).size).toBe(applied.length);
    }
    expect(streams().repo.streams).toBe(1);
    await context.close();
  }, 90_000);

  it("a tab that logged in as another user in the same browser never joins the first user's stream", async () => {
    const { context, page: demoTab } = await openLoggedIn(suite.browser, s.url, 'demo');
    await demoTab.goto('/');
    await waitForConnection(demoTab, 'live');
    // The session cookie belongs to the whole browser: after this login, new tabs are guest's.
    const relogin = await context.request.post('/api/login', {
      data: { username: 'guest', password: 'guest' },
    });
    expect(relogin.ok()).toBe(true);
    const guestTab = await context.newPage();
    await guestTab.goto('/');
    await waitForConnection(guestTab, 'live');
    await expect.poll(() => guestTab.locator('nav.top').textContent()).toContain('guest');
    expect(streams().list.streams).toBe(2); // one per user, not one for the browser
    // demo adds a repository: demo's (admin) list shows it, the guest's list never does.
    const api = client(s.url, await login(s.url, 'demo'));
    const res = await api.post('/api/repositories', { url: 'https://github.com/acme/demo-only' });
    const id = res.json.repository.id as number;
    await demoTab.getByTestId(`repo-row-${id}`).waitFor({ timeout: 10_000 });
    const rec = await recordTopic(s, s.topics.repo(id));
    await rec.waitFor(repoStatusIs('ready'));
    await demoTab
      .locator(`[data-testid="repo-status-${id}"][data-status="ready"]`)
      .waitFor({ timeout: 10_000 });
    expect(await guestTab.getByTestId(`repo-row-${id}`).count()).toBe(0);
    await context.close();
  }, 60_000);
});
