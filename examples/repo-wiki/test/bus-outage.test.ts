import { setTimeout as sleep } from 'node:timers/promises';
import { comparePositions } from '@repopulse/events-core/wire';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningServer } from '../server/app';
import { openDatabase } from '../server/db';
import { disagreements, replayFromStart } from './support/event-agreement';
import { type LivePage, openLivePage } from './support/live-page';
import { ownRedisMode, startOwnRedis } from './support/own-redis';
import { client, login, startTestServer, tempDataDir } from './support/test-server';

const mode = ownRedisMode('the bus outage test (Redis stopped in the middle of a run)');

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

/** Polls `check` every 100 ms until it returns true; fails after `timeoutMs` with `what`. */
async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(100);
  }
}

/** The page's state as the database has it: statuses, progress, documents, log lines. */
function pageView(state: {
  repository: { status: string };
  tasks: { id: number; status: string; percent: number; error_msg: string | null }[];
  documents: { id: number }[];
  logs: { event_id: string }[];
}) {
  return {
    repository: state.repository.status,
    tasks: state.tasks.map((t) => [t.id, t.status, t.percent, t.error_msg]),
    documents: state.documents.map((d) => d.id).sort((a, b) => a - b),
    logs: state.logs.map((l) => l.event_id),
  };
}

describe.skipIf(mode === 'skip')('Redis down for 10 s in the middle of Run all', () => {
  it('every task completes while the bus is down, pages load, and open pages catch up by themselves, missing nothing', async () => {
    const redis = await startOwnRedis();
    cleanups.push(() => redis.destroy());
    const data = tempDataDir();
    cleanups.push(() => data.remove());
    const server: RunningServer = await startTestServer({
      DATA_DIR: data.dir,
      REDIS_URL: redis.url,
      SIM_SPEED: '5',
    });
    cleanups.push(() => server.close(0));
    const token = await login(server.url);
    const api = client(server.url, token);
    const id = (await api.post('/api/repositories', { url: 'https://github.com/acme/outage' })).json
      .repository.id as number;
    await until(
      'the clone is done',
      async () => (await api.get(`/api/repositories/${id}`)).json.repository.status === 'ready',
    );

    // A page open before the run, live over SSE.
    const before = openLivePage(server.url, token, id);
    cleanups.push(() => before.resource.close());
    await until('the first page is live', () => before.resource.current.state === 'open');

    expect((await api.post(`/api/repositories/${id}/run-all`)).status).toBe(202);
    // Stopped while the first or second task runs: three or more tasks still to go.
    await until('the first or second task runs', async () =>
      (await api.get(`/api/repositories/${id}`)).json.tasks
        .slice(0, 2)
        .some((t: { status: string }) => t.status === 'running'),
    );
    await redis.stop();
    const downSince = Date.now();

    // The bus is down: the run goes on to the end in the database.
    await until('the run completed in the database', async () => {
      const snap = await api.get(`/api/repositories/${id}`);
      return snap.json.repository.status === 'completed';
    });
    const snapshot = await api.get(`/api/repositories/${id}`);
    expect(snapshot.status).toBe(200);
    expect(snapshot.json.tasks.map((t: { status: string }) => t.status)).toEqual(Array(5).fill('completed'));
    expect(snapshot.json.documents).toHaveLength(5);
    expect((await api.get('/api/repositories')).status).toBe(200);
    // The events wait in the outbox, reported as a backlog.
    const health = (await api.get('/healthz')).json;
    expect(health.outbox.pending).toBeGreaterThan(0);
    expect(health.outbox.oldest_pending_age_ms).toBeGreaterThan(0);

    // A page opened while the bus is down loads (its stream waits for the bus).
    const during = openLivePage(server.url, token, id);
    cleanups.push(() => during.resource.close());
    await until('the second page loaded', () => during.resource.current.data !== undefined);
    expect(during.resource.current.data?.repository.status).toBe('completed');
    expect(before.resource.current.data?.repository.status).not.toBe('completed');

    // A repository added while the bus is down: created and cloned; its page loads too (nothing
    // was relayed to its topic yet, so its snapshot starts the stream at the topic's start).
    const created = await api.post('/api/repositories', { url: 'https://github.com/acme/added-offline' });
    expect(created.status).toBe(201);
    const added = created.json.repository.id as number;
    await until(
      'the new repository is cloned',
      async () => (await api.get(`/api/repositories/${added}`)).json.repository.status === 'ready',
    );
    expect((await api.get(`/api/repositories/${added}`)).json.position).toBe('0-0');
    const fresh = openLivePage(server.url, token, added);
    cleanups.push(() => fresh.resource.close());
    await until('the new repository page loaded', () => fresh.resource.current.data !== undefined);

    await sleep(Math.max(0, 10_000 - (Date.now() - downSince)));
    await redis.start();

    // Back: the backlog drains in order, both pages catch up without a reload.
    await server.outbox.drained(60_000);
    const db = openDatabase(data.dir);
    cleanups.push(() => db.close());
    const replayed = await replayFromStart(server.bus, server.topics.repo(id));
    const events = replayed.map((r) => r.event);
    expect(disagreements(events, db, id)).toEqual([]);
    expect(events.filter((e) => e.type === 'task.status_changed')).toHaveLength(15);
    // The list topic (the Home page) agrees too: its last change of this repository is `completed`.
    const list = (await replayFromStart(server.bus, server.topics.all)).map((r) => r.event);
    const changes = list.filter((e) => e.type === 'repo.status_changed' && e.repo_id === String(id));
    expect(changes.map((e) => (e.type === 'repo.status_changed' ? e.payload.to : ''))).toEqual([
      'cloning',
      'ready',
      'analyzing',
      'completed',
    ]);

    const truth = pageView((await api.get(`/api/repositories/${id}`)).json);
    const pages: [string, LivePage][] = [
      ['the page open before the outage', before],
      ['the page opened during the outage', during],
    ];
    for (const [name, page] of pages) {
      await until(`${name} shows the database`, () => {
        const state = page.resource.current.data;
        return state !== undefined && JSON.stringify(pageView(state)) === JSON.stringify(truth);
      });
      expect(page.resource.current.state).toBe('open');
      expect(page.resource.current.loading).toBe(false);
      // Missing nothing: every event after the position its snapshot carried reached it, once.
      const start = await page.start;
      const expected = replayed.filter((r) => comparePositions(r.position, start) > 0).map((r) => r.event.id);
      expect(expected.length).toBeGreaterThan(0);
      expect(new Set(page.received).size).toBe(page.received.length);
      expect(expected.filter((e) => !page.received.includes(e))).toEqual([]);
    }

    // The page of the repository added during the outage received its whole topic.
    const addedEvents = (await replayFromStart(server.bus, server.topics.repo(added))).map((r) => r.event);
    expect(disagreements(addedEvents, db, added)).toEqual([]);
    await until(
      'the new repository page received its topic',
      () => fresh.received.length === addedEvents.length,
    );
    expect(fresh.received).toEqual(addedEvents.map((e) => e.id));
    expect(fresh.resource.current.data?.repository.status).toBe('ready');

    // Live again: a change made now reaches both pages.
    const first = truth.tasks[0]?.[0] as number;
    expect((await api.post(`/api/tasks/${first}/reset`)).status).toBe(200);
    for (const [name, page] of pages) {
      await until(
        `${name} shows the reset`,
        () => page.resource.current.data?.tasks[0]?.status === 'pending',
        20_000,
      );
    }
  }, 180_000);
});
