import { rmSync } from 'node:fs';
import type { AnyEnvelope } from '@repopulse/events-core';
import {
  deleteKeys,
  findChromium,
  freePort,
  launchChromium,
  reachableRedis,
  redisUrl,
  requirement,
} from '@repopulse/test-support';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../server/app';
import { buildUi } from './support/build-ui';
import { spawnServer } from './support/child-server';
import { appliedOf, openLoggedIn, quantile, waitForConnection } from './support/page';
import {
  client,
  login,
  recordTopic,
  repoStatusIs,
  startTestServer,
  tempDataDir,
} from './support/test-server';

const REDIS_URL = await reachableRedis();
const redisMode = requirement(
  'repo-wiki e2e',
  REDIS_URL ? undefined : `no Redis at ${redisUrl()}`,
  'the two-instance test',
);
/** How long the idle test idles (`REPO_WIKI_IDLE_MS=60000` for the README's 60 s figure). */
const IDLE_MS = Number(process.env.REPO_WIKI_IDLE_MS) || 10_000;
const CHROMIUM_PATH = findChromium();
const chromiumMode = requirement(
  'repo-wiki e2e',
  CHROMIUM_PATH ? undefined : 'Chromium not found (install it or set CHROMIUM_PATH)',
  'the browser tests',
);

describe.skipIf(chromiumMode === 'skip')('repo-wiki in headless Chromium', () => {
  let browser: Browser;
  let staticDir: string;
  const cleanups: (() => unknown)[] = [];

  beforeAll(async () => {
    staticDir = await buildUi();
    cleanups.push(() => rmSync(staticDir, { recursive: true, force: true }));
    browser = await launchChromium(CHROMIUM_PATH as string);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    for (const fn of cleanups.reverse()) await fn();
  });

  async function server(env: Record<string, string> = {}): Promise<RunningServer> {
    const data = tempDataDir();
    const s = await startTestServer({ DATA_DIR: data.dir, STATIC_DIR: staticDir, SIM_SPEED: '10', ...env });
    cleanups.push(async () => {
      await s.close(0);
      data.remove();
    });
    return s;
  }

  async function addRepo(s: RunningServer, url: string, user = 'demo', until = 'ready') {
    const api = client(s.url, await login(s.url, user));
    const res = await api.post('/api/repositories', { url });
    const id = res.json.repository.id as number;
    const rec = await recordTopic(s, s.topics.repo(id));
    await rec.waitFor(repoStatusIs(until));
    return { id, rec, api };
  }

  async function domTaskStatuses(page: Page): Promise<string[]> {
    return page
      .locator('[data-testid="tasks"] tbody tr')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-status') ?? ''));
  }

  it('run-all: every task status change reaches the DOM; publish→DOM latency recorded', async () => {
    const s = await server({ SIM_SPEED: '10' });
    const { id, rec } = await addRepo(s, 'https://github.com/acme/payments-service');
    const { page, context } = await openLoggedIn(browser, s.url);
    await page.goto(`/repos/${id}`);
    await waitForConnection(page, 'live');
    await page.getByTestId('run-all').click();
    await rec.waitFor(repoStatusIs('completed'));
    await s.idle();
    const statusChanges = rec.events.filter((e) => e.type === 'task.status_changed');
    expect(statusChanges).toHaveLength(15); // 5 tasks × queued, running, completed
    const run = rec.events.filter((e) => e.ts >= (statusChanges[0] as AnyEnvelope).ts);
    await page.waitForFunction(
      (ids) => ids.every((i) => (window.__repopulseApplied ?? []).some((a) => a.id === i)),
      run.map((e) => e.id),
      { timeout: 10_000 },
    );
    expect(await domTaskStatuses(page)).toEqual(Array(5).fill('completed'));
    expect(await page.getByTestId('repo-status').getAttribute('data-status')).toBe('completed');
    expect(await page.locator('[data-testid="documents"] li[data-testid^="doc-"]').count()).toBe(5);

    const applied = await appliedOf(page);
    // Applied in publish order, each exactly once.
    const appliedRun = applied.filter((a) => run.some((e) => e.id === a.id)).map((a) => a.id);
    expect(appliedRun).toEqual(run.map((e) => e.id));
    const byId = new Map(applied.map((a) => [a.id, a]));
    const latency = (events: AnyEnvelope[]) =>
      events.map((e) => (byId.get(e.id)?.appliedAt ?? Number.NaN) - e.ts);
    const status = latency(statusChanges);
    const all = latency(run);
    expect(status.every(Number.isFinite)).toBe(true);
    const fmt = (v: number[]) =>
      `n=${v.length} p50=${quantile(v, 0.5).toFixed(1)} ms p99=${quantile(v, 0.99).toFixed(1)} ms max=${Math.max(...v).toFixed(1)} ms`;
    console.log(`\n[repo-wiki e2e] publish→DOM latency, task.status_changed: ${fmt(status)}`);
    console.log(`[repo-wiki e2e] publish→DOM latency, every event of the run: ${fmt(all)}\n`);

    // Open a generated document: its Markdown rendered.
    await page.locator('[data-testid="documents"] a').first().click();
    await expect.poll(() => page.getByTestId('document').locator('h1').textContent()).toBe('Overview');
    await context.close();
  }, 60_000);

  it('Home and RepoDetail mid-run: the Home badges follow live (the scene `npm run screenshots` shoots)', async () => {
    const s = await server({ SIM_SPEED: '6' }); // ~1 s per task: time for mid-run screenshots
    await addRepo(s, 'https://github.com/acme/fail-clone', 'demo', 'error');
    const done = await addRepo(s, 'https://github.com/acme/docs-site');
    await done.api.post(`/api/repositories/${done.id}/run-all`);
    const { id, rec } = await addRepo(s, 'https://github.com/acme/payments-service');
    await done.rec.waitFor(repoStatusIs('completed'));

    const { page, context } = await openLoggedIn(browser, s.url);
    const home = await context.newPage();
    await home.goto('/');
    await waitForConnection(home, 'live');
    // A repository added now appears on Home without a reload.
    const added = await addRepo(s, 'https://github.com/acme/widget-fail-api');
    await home.getByTestId(`repo-row-${added.id}`).waitFor();
    await page.goto(`/repos/${id}`);
    await waitForConnection(page, 'live');
    await page.bringToFront();
    await page.getByTestId('run-all').click();
    await home.locator(`[data-testid="repo-status-${id}"][data-status="analyzing"]`).waitFor();
    await home.bringToFront();
    await page.bringToFront();
    await page.locator('[data-testid="tasks"] tr[data-status="completed"]').first().waitFor();
    await page.locator('[data-testid="tasks"] tr[data-status="running"]').first().waitFor();
    await rec.waitFor(repoStatusIs('completed'));
    await home.locator(`[data-testid="repo-status-${id}"][data-status="completed"]`).waitFor();
    // Deleting removes the row live.
    await added.api.del(`/api/repositories/${added.id}`);
    await expect.poll(() => home.getByTestId(`repo-row-${added.id}`).count()).toBe(0);
    await context.close();
  }, 60_000);

  it(
    'idle: with RepoDetail open for 10 s the server sees zero requests besides the one stream',
    async () => {
      const s = await server();
      const { id } = await addRepo(s, 'https://github.com/acme/quiet');
      const { page, context } = await openLoggedIn(browser, s.url);
      await page.goto(`/repos/${id}`);
      await waitForConnection(page, 'live');
      await page.getByTestId('repo-status').waitFor();
      const before = s.metrics.total;
      const recent = s.metrics.recent.slice();
      await new Promise((r) => setTimeout(r, IDLE_MS));
      const during = s.metrics.total - before;
      console.log(
        `\n[repo-wiki e2e] idle ${IDLE_MS / 1000} s on RepoDetail: ${during} HTTP requests (open streams: ${JSON.stringify(
          s.streamStats(),
        )}); requests before idling: ${JSON.stringify(recent)}\n`,
      );
      expect(during).toBe(0);
      const stats = s.streamStats() as { repo: { streams: number }; list: { streams: number } };
      expect(stats.repo.streams).toBe(1);
      expect(stats.list.streams).toBe(0);
      await expect.poll(() => page.getByTestId('connection').getAttribute('data-state')).toBe('live');
      await context.close();
    },
    IDLE_MS + 30_000,
  );

  it('kill the server mid-run and restart it: the page reconnects, resumes and shows exactly the DB state', async () => {
    const data = tempDataDir();
    cleanups.push(() => data.remove());
    const port = await freePort();
    const env = {
      PORT: String(port),
      DATA_DIR: data.dir,
      STATIC_DIR: staticDir,
      SIM_SPEED: '4',
      SESSION_SECRET: 'e2e-kill-secret-0123456789',
      INSTANCE_ID: 'e2e-kill',
    };
    let child = await spawnServer(env);
    cleanups.push(() => child.process.kill('SIGKILL'));
    const api = client(child.url, await login(child.url));
    const id = (await api.post('/api/repositories', { url: 'https://github.com/acme/crash-test' })).json
      .repository.id;
    const { page, context } = await openLoggedIn(browser, child.url);
    await page.goto(`/repos/${id}`);
    await waitForConnection(page, 'live');
    await page.getByTestId('run-all').waitFor();
    await expect
      .poll(() => page.getByTestId('repo-status').getAttribute('data-status'), { timeout: 10_000 })
      .toBe('ready');
    await page.getByTestId('run-all').click();
    await page
      .locator('[data-testid="tasks"] tr[data-status="completed"]')
      .first()
      .waitFor({ timeout: 15_000 });
    await page.locator('[data-testid="tasks"] tr[data-status="running"]').first().waitFor();

    child.process.kill('SIGKILL');
    expect((await child.exited).signal).toBe('SIGKILL');
    await waitForConnection(page, 'reconnecting');

    child = await spawnServer(env);
    // The restarted server failed the interrupted tasks; the page (reset → snapshot, or replay) shows it.
    await page.locator('[data-testid="tasks"] tr[data-status="failed"]').first().waitFor({ timeout: 30_000 });
    await expect
      .poll(() => page.getByTestId('connection').getAttribute('data-state'), { timeout: 30_000 })
      .toMatch(/live|polling/);
    const snapshot = async () =>
      (await client(child.url, await login(child.url)).get(`/api/repositories/${id}`)).json;
    let db = await snapshot();
    expect(
      db.tasks.some(
        (t: { status: string; error_msg: string }) =>
          t.status === 'failed' && /interrupted/.test(t.error_msg),
      ),
    ).toBe(true);
    expect(db.tasks.some((t: { status: string }) => t.status === 'running' || t.status === 'queued')).toBe(
      false,
    );
    await expect.poll(() => domTaskStatuses(page)).toEqual(db.tasks.map((t: { status: string }) => t.status));
    expect(await page.getByTestId('repo-status').getAttribute('data-status')).toBe(db.repository.status);
    expect(await page.locator('[data-testid="documents"] li[data-testid^="doc-"]').count()).toBe(
      db.documents.length,
    );

    // Resumed: a change made after the restart shows up live.
    const failed = db.tasks.find((t: { status: string }) => t.status === 'failed');
    await client(child.url, await login(child.url)).post(`/api/tasks/${failed.id}/reset`);
    await page
      .locator(`[data-testid="task-${failed.id}"][data-status="pending"]`)
      .waitFor({ timeout: 10_000 });
    db = await snapshot();
    expect(await domTaskStatuses(page)).toEqual(db.tasks.map((t: { status: string }) => t.status));
    await context.close();
    child.process.kill('SIGTERM');
    expect((await child.exited).code).toBe(0);
  }, 90_000);

  it.skipIf(redisMode === 'skip')(
    'two instances on the Redis bus: page on B, run-all on A, every change appears',
    async () => {
      const redis = REDIS_URL as string; // redisMode 'run' means Redis answered
      const data = tempDataDir();
      const prefix = `repo-wiki-e2e:${process.pid}:${Date.now()}:`;
      cleanups.push(async () => {
        await deleteKeys(redis, prefix);
        data.remove();
      });
      const shared = {
        DATA_DIR: data.dir,
        STATIC_DIR: staticDir,
        REDIS_URL: redis,
        REDIS_PREFIX: prefix,
        SIM_SPEED: '10',
      };
      const a = await startTestServer({ ...shared, INSTANCE_ID: 'e2e-a' });
      cleanups.push(() => a.close(0));
      const b = await startTestServer({ ...shared, INSTANCE_ID: 'e2e-b' });
      cleanups.push(() => b.close(0));

      const { page, context } = await openLoggedIn(browser, b.url);
      const home = await context.newPage();
      await home.goto('/');
      await waitForConnection(home, 'live');
      // Created on A: B's Home page shows it and follows its clone.
      const { id, rec, api } = await addRepo(a, 'https://github.com/acme/shared-work');
      await home.locator(`[data-testid="repo-status-${id}"][data-status="ready"]`).waitFor();
      await page.goto(`/repos/${id}`);
      await waitForConnection(page, 'live');
      await page.bringToFront();

      expect((await api.post(`/api/repositories/${id}/run-all`)).status).toBe(202); // on A
      await rec.waitFor(repoStatusIs('completed'));
      await a.idle();
      const statusChanges = rec.events.filter((e) => e.type === 'task.status_changed');
      const run = rec.events.filter((e) => e.ts >= (statusChanges[0] as AnyEnvelope).ts);
      expect(statusChanges).toHaveLength(15);
      await page.waitForFunction(
        (ids) => ids.every((i) => (window.__repopulseApplied ?? []).some((x) => x.id === i)),
        run.map((e) => e.id),
        { timeout: 15_000 },
      );
      expect(await domTaskStatuses(page)).toEqual(Array(5).fill('completed'));
      expect(await page.getByTestId('repo-status').getAttribute('data-status')).toBe('completed');
      await home.locator(`[data-testid="repo-status-${id}"][data-status="completed"]`).waitFor();
      const stats = b.streamStats() as { repo: { streams: number } };
      expect(stats.repo.streams).toBe(1); // the page's stream was served by B
      const applied = await appliedOf(page);
      const latency = statusChanges.map(
        (e) => (applied.find((x) => x.id === e.id)?.appliedAt ?? Number.NaN) - e.ts,
      );
      console.log(
        `\n[repo-wiki e2e] Redis bus, publish on A → DOM on B, task.status_changed: p50=${quantile(latency, 0.5).toFixed(1)} ms p99=${quantile(latency, 0.99).toFixed(1)} ms\n`,
      );
      await context.close();
    },
    60_000,
  );

  it('a user without access gets 403 on the stream and sees no event of that repository', async () => {
    const s = await server();
    const theirs = await addRepo(s, 'https://github.com/demo/secret');
    const mine = await addRepo(s, 'https://github.com/guest/own', 'guest');
    const { page, context } = await openLoggedIn(browser, s.url, 'guest');
    await page.goto('/');
    await waitForConnection(page, 'live');
    await page.getByTestId(`repo-row-${mine.id}`).waitFor();
    expect(await page.getByTestId(`repo-row-${theirs.id}`).count()).toBe(0);
    const status = await page.evaluate(async (id) => {
      const res = await fetch(`/api/repositories/${id}/events`, { headers: { Accept: 'text/event-stream' } });
      return { status: res.status, body: await res.json() };
    }, theirs.id);
    expect(status).toEqual({
      status: 403,
      body: { error: { code: 'forbidden', message: expect.any(String) } },
    });

    // Demo runs everything on its repository and adds another; the guest's page sees none of it.
    await theirs.api.post(`/api/repositories/${theirs.id}/run-all`);
    await addRepo(s, 'https://github.com/demo/another');
    await theirs.rec.waitFor(repoStatusIs('completed'));
    // A guest-visible change afterwards proves the stream was live all along.
    await mine.api.post(`/api/repositories/${mine.id}/run-all`);
    await mine.rec.waitFor(repoStatusIs('completed'));
    await page.locator(`[data-testid="repo-status-${mine.id}"][data-status="completed"]`).waitFor();
    const applied = await appliedOf(page);
    const theirIds = new Set(theirs.rec.events.map((e) => e.id));
    expect(applied.length).toBeGreaterThan(0);
    expect(applied.filter((a) => theirIds.has(a.id))).toEqual([]);
    expect(await page.getByTestId(`repo-row-${theirs.id}`).count()).toBe(0);

    await page.goto(`/repos/${theirs.id}`);
    await expect.poll(() => page.getByTestId('load-error').getAttribute('data-code')).toBe('forbidden');
    await context.close();
  }, 40_000);
});
