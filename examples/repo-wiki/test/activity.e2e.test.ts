import { createEvent } from '@repopulse/events-core';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../server/db';
import { browserSuite, chromiumMode } from './support/browser-suite';
import { openLoggedIn, waitForConnection } from './support/page';
import { repoStatusIs } from './support/test-server';

const mode = chromiumMode('repo-wiki Activity panel e2e', 'the Activity panel browser tests');

describe.skipIf(mode === 'skip')('Activity panel and queue positions in headless Chromium', () => {
  const suite = browserSuite();
  const { server, addRepo } = suite;

  /** Opens the panel and waits until the retained history is replayed. */
  async function openActivity(page: Page) {
    await page.getByTestId('activity-toggle').click();
    await page.locator('[data-testid="activity-feed"][data-loading="false"]').waitFor({ timeout: 20_000 });
  }

  const groupOf = (page: Page, requestId: string) =>
    page.locator(`[data-testid="activity-group-item"][data-request-id="${requestId}"]`);

  it('run-all: queued tasks count down live; the run’s group lists exactly its events, which agree with the DB', async () => {
    const { s, dataDir } = await server();
    const { id, rec, api } = await addRepo(s, 'https://github.com/acme/activity-run');
    const tasks = (await api.get(`/api/repositories/${id}/tasks`)).json.tasks as { id: number }[];
    const lastTask = tasks.at(-1)!.id;
    const { page, context } = await openLoggedIn(suite.browser, s.url);
    await page.goto(`/repos/${id}`);
    await waitForConnection(page, 'live');
    await page.getByTestId('run-all').click();
    // The last task waits behind 3 others, then counts down to "next" — from events, live.
    await page.locator(`[data-testid="queue-${lastTask}"][data-ahead="3"]`).waitFor({ timeout: 10_000 });
    expect(await page.getByTestId(`queue-${lastTask}`).textContent()).toBe('· 3 ahead');
    await page.locator(`[data-testid="queue-${lastTask}"][data-ahead="0"]`).waitFor({ timeout: 20_000 });
    expect(await page.getByTestId(`queue-${lastTask}`).textContent()).toBe('· next');
    await rec.waitFor(repoStatusIs('completed'));
    await s.idle();
    await page.locator('[data-testid="repo-status"][data-status="completed"]').waitFor();
    expect(await page.locator('[data-testid^="queue-"]').count()).toBe(0);

    await openActivity(page);
    const group = page.locator('[data-testid="activity-group-item"][data-action="run_all"]');
    await group.waitFor();
    const requestId = (await group.getAttribute('data-request-id'))!;
    const header = (await group.getByTestId('activity-group').textContent())!;
    const runEvents = rec.events.filter((e) => e.request_id === requestId);
    expect(header).toMatch(
      new RegExp(
        `^▸ Run all · demo · \\d\\d:\\d\\d:\\d\\d · ${runEvents.length} events · [\\d.]+ s · completed$`,
      ),
    );
    await group.getByTestId('activity-group').click();
    while (await group.getByTestId('activity-more-events').count())
      await group.getByTestId('activity-more-events').click();
    const rows = await group
      .getByTestId('activity-event')
      .evaluateAll((els) =>
        els.map((el) => ({ id: el.getAttribute('data-event-id'), type: el.getAttribute('data-type') })),
      );
    // Exactly the events of that request, in stream order.
    expect(rows).toEqual(runEvents.map((e) => ({ id: e.id, type: e.type })));

    // Against the DB: final task statuses, documents and log lines of the run.
    const db = openDatabase(dataDir);
    try {
      const finalStatus = new Map<string, string>();
      for (const e of runEvents)
        if (e.type === 'task.status_changed') finalStatus.set(e.task_id!, e.payload.to);
      const dbTasks = db.prepare('SELECT id, status FROM tasks WHERE repo_id = ?').all(id) as {
        id: number;
        status: string;
      }[];
      expect(Object.fromEntries(finalStatus)).toEqual(
        Object.fromEntries(dbTasks.map((t) => [String(t.id), t.status])),
      );
      const docIds = runEvents.filter((e) => e.type === 'doc.created').map((e) => Number(e.payload.doc_id));
      const dbDocs = db.prepare('SELECT id FROM documents WHERE repo_id = ? ORDER BY id').all(id) as {
        id: number;
      }[];
      expect(docIds).toEqual(dbDocs.map((d) => d.id));
      const logIds = runEvents.filter((e) => e.type === 'log.append').map((e) => e.id);
      const dbLogs = new Set(
        (db.prepare('SELECT event_id FROM logs WHERE repo_id = ?').all(id) as { event_id: string }[]).map(
          (l) => l.event_id,
        ),
      );
      expect(logIds.length).toBeGreaterThan(0);
      expect(logIds.filter((logId) => !dbLogs.has(logId))).toEqual([]);
    } finally {
      db.close();
    }
    // The type filter narrows the rows; the group collapses again.
    await page.getByTestId('activity-filter').selectOption('doc.created');
    await expect.poll(() => group.getByTestId('activity-event').count()).toBe(5);
    await group.getByTestId('activity-group').click();
    expect(await group.getByTestId('activity-event').count()).toBe(0);
    await context.close();
  }, 90_000);

  it('a synthetic history of 5,000 events loads incrementally, renders a bounded DOM and stays interactive', async () => {
    const { s } = await server({ HISTORY_LIMIT: '6000' }); // the default 5,000 would trim this history
    const { id, rec } = await addRepo(s, 'https://github.com/acme/long-history');
    const topic = s.topics.repo(id);
    for (let i = 0; i < 5000; i++) {
      const request_id = `synthetic-${Math.floor(i / 250)}`; // 20 actions of 250 events each
      const event =
        i % 2 === 0
          ? createEvent('log.append', { level: 'info', message: `line ${i}` }, { repo_id: id, request_id })
          : createEvent('task.progress', { phase: 'llm', percent: i % 100 }, { repo_id: id, request_id });
      await s.bus.publish(topic, event);
    }
    const total = rec.events.length;
    expect(total).toBe(5004); // + the clone's events
    const { page, context } = await openLoggedIn(suite.browser, s.url);
    await page.goto(`/repos/${id}`);
    await openActivity(page);
    expect(await page.getByTestId('activity-history').textContent()).toContain(
      `${total.toLocaleString('en-US')} events`,
    );
    // 21 groups (20 synthetic + the clone), newest first; only headers are in the DOM.
    await expect.poll(() => page.getByTestId('activity-group-item').count()).toBe(21);
    expect(await page.getByTestId('activity-event').count()).toBe(0);
    const newest = groupOf(page, 'synthetic-19');
    expect(await page.getByTestId('activity-group-item').first().getAttribute('data-request-id')).toBe(
      'synthetic-19',
    );
    expect(await newest.getByTestId('activity-group').textContent()).toContain('250 events');

    // Expanding renders one page of rows; "show more" adds the next; the filter narrows.
    await newest.getByTestId('activity-group').click();
    expect(await newest.getByTestId('activity-event').count()).toBe(100);
    expect(await newest.getByTestId('activity-more-events').textContent()).toBe('Show 100 more of 150');
    await newest.getByTestId('activity-more-events').click();
    expect(await newest.getByTestId('activity-event').count()).toBe(200);
    await page.getByTestId('activity-filter').selectOption('log.append');
    await expect.poll(() => newest.getByTestId('activity-event').count()).toBe(125); // within the 200 shown
    expect(await newest.getByTestId('activity-more-events').count()).toBe(0);
    const types = await newest
      .getByTestId('activity-event')
      .evaluateAll((els) => els.map((el) => el.getAttribute('data-type')));
    expect(new Set(types)).toEqual(new Set(['log.append']));
    expect(await newest.getByTestId('activity-group').textContent()).toContain('250 events (125 shown)');
    expect(await page.getByTestId('activity-event').count()).toBeLessThanOrEqual(300);

    // Live events keep coming into their group.
    await s.bus.publish(
      topic,
      createEvent(
        'log.append',
        { level: 'warn', message: 'late' },
        { repo_id: id, request_id: 'synthetic-19' },
      ),
    );
    await expect
      .poll(() => newest.getByTestId('activity-group').textContent())
      .toContain('251 events (126 shown)');
    await newest.getByTestId('activity-group').click();
    expect(await page.getByTestId('activity-event').count()).toBe(0);
    await context.close();
  }, 120_000);

  it('history gone (trimmed past the start) is shown as a reset, not hidden; the retained tail is replayed', async () => {
    const { s } = await server({ HISTORY_LIMIT: '20', SIM_SPEED: '100' });
    const { id, rec, api } = await addRepo(s, 'https://github.com/acme/short-memory');
    await api.post(`/api/repositories/${id}/run-all`);
    await rec.waitFor(repoStatusIs('completed'));
    await s.idle();
    const { page, context } = await openLoggedIn(suite.browser, s.url);
    await page.goto(`/repos/${id}`);
    await openActivity(page);
    const reset = page.getByTestId('activity-reset');
    await reset.waitFor();
    expect(await reset.getAttribute('data-reason')).toBe('expired');
    expect(await reset.textContent()).toContain('older events are gone');
    expect(await reset.textContent()).toMatch(/^History up to \d+-\d+ is no longer retained \(expired\)/);
    expect(await page.getByTestId('activity-history').textContent()).toContain(
      'keeps the last 20 events per repository',
    );
    // The 20 retained events came after the reset: the newest action's group holds its share of them.
    const retained = rec.events.slice(-20);
    expect(await page.getByTestId('activity-history').textContent()).toContain('· 20 events.');
    const runId = retained.at(-1)!.request_id!;
    const runEvents = retained.filter((e) => e.request_id === runId).length;
    expect(runEvents).toBeGreaterThan(1);
    expect(await groupOf(page, runId).getByTestId('activity-group').textContent()).toContain(
      ` · ${runEvents} events · `,
    );
    expect(await page.getByTestId('activity-reset').count()).toBe(1);
    await context.close();
  }, 60_000);
});
