import { setTimeout as sleep } from 'node:timers/promises';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../server/db';
import { browserSuite, chromiumMode } from './support/browser-suite';
import { disagreements, replayFromStart } from './support/event-agreement';
import { ownRedisMode, startOwnRedis } from './support/own-redis';
import { appliedOf, openLoggedIn, waitForConnection } from './support/page';

const browsers = chromiumMode('repo-wiki bus outage e2e', 'the bus outage browser test');
const redisMode = ownRedisMode('the bus outage browser test');

/** Polls `check` every 100 ms until it returns true; fails after `timeoutMs` with `what`. */
async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(100);
  }
}

async function domTaskStatuses(page: Page): Promise<string[]> {
  return page
    .locator('[data-testid="tasks"] tbody tr')
    .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-status') ?? ''));
}

describe.skipIf(browsers === 'skip' || redisMode === 'skip')(
  'Redis down in the middle of Run all, in Chromium',
  () => {
    const suite = browserSuite();

    it('the open page and one opened during the outage show the run once Redis is back, without a reload', async () => {
      const redis = await startOwnRedis();
      const { s, dataDir } = await suite.server({ REDIS_URL: redis.url, SIM_SPEED: '5' });
      try {
        const { id, api } = await suite.addRepo(s, 'https://github.com/acme/outage-page');
        const { page, context } = await openLoggedIn(suite.browser, s.url);
        await page.goto(`/repos/${id}`);
        await waitForConnection(page, 'live');
        const home = await context.newPage();
        await home.goto('/');
        await waitForConnection(home, 'live');

        await page.getByTestId('run-all').click();
        // Stopped while the first or second task runs: three or more tasks still to go.
        await until('the first or second task runs', async () =>
          (await api.get(`/api/repositories/${id}`)).json.tasks
            .slice(0, 2)
            .some((t: { status: string }) => t.status === 'running'),
        );
        await redis.stop();
        const downSince = Date.now();
        await until('the run completed in the database', async () => {
          return (await api.get(`/api/repositories/${id}`)).json.repository.status === 'completed';
        });

        // Opened while the bus is down: the page loads from the database.
        const late = await context.newPage();
        await late.goto(`/repos/${id}`);
        await late
          .locator('[data-testid="repo-status"][data-status="completed"]')
          .waitFor({ timeout: 20_000 });
        expect(await domTaskStatuses(late)).toEqual(Array(5).fill('completed'));
        expect(await page.getByTestId('repo-status').getAttribute('data-status')).not.toBe('completed');

        await sleep(Math.max(0, 10_000 - (Date.now() - downSince)));
        await redis.start();
        await s.idle();

        // Back: every page shows the database, the first one by applying every event of the run.
        const db = openDatabase(dataDir);
        const replayed = await replayFromStart(s.bus, s.topics.repo(id));
        const events = replayed.map((r) => r.event);
        expect(disagreements(events, db, id)).toEqual([]);
        db.close();
        const runEvents = events.filter(
          (e) =>
            e.type !== 'repo.created' &&
            e.ts >= (events.find((x) => x.type === 'task.status_changed')?.ts ?? 0),
        );
        await page.waitForFunction(
          (ids) => ids.every((i) => (window.__repopulseApplied ?? []).some((a) => a.id === i)),
          runEvents.map((e) => e.id),
          { timeout: 60_000 },
        );
        const applied = (await appliedOf(page)).map((a) => a.id);
        expect(new Set(applied).size).toBe(applied.length);
        for (const p of [page, late]) {
          await expect
            .poll(() => domTaskStatuses(p), { timeout: 30_000 })
            .toEqual(Array(5).fill('completed'));
          expect(await p.getByTestId('repo-status').getAttribute('data-status')).toBe('completed');
          expect(await p.locator('[data-testid="documents"] li[data-testid^="doc-"]').count()).toBe(5);
          await expect
            .poll(() => p.getByTestId('connection').getAttribute('data-state'), { timeout: 30_000 })
            .toMatch(/live|polling/);
        }
        await home
          .locator(`[data-testid="repo-status-${id}"][data-status="completed"]`)
          .waitFor({ timeout: 30_000 });
        await context.close();
      } finally {
        await s.close(0);
        await redis.destroy();
      }
    }, 180_000);
  },
);
