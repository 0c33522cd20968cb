import { setTimeout as sleep } from 'node:timers/promises';
import { createRedisBus } from '@repopulse/bus-redis';
import { DEFAULT_OUTBOX_TABLE } from '@repopulse/outbox';
import { freePort } from '@repopulse/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type RepositoryRow } from '../server/db';
import { repoTopic } from '../server/topics';
import { spawnServer } from './support/child-server';
import { disagreements, replayFromStart } from './support/event-agreement';
import { openLivePage } from './support/live-page';
import { ownRedisMode, startOwnRedis } from './support/own-redis';
import { client, login, tempDataDir } from './support/test-server';

const mode = ownRedisMode('the crash test (the app SIGKILLed in the middle of a run)');

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

describe.skipIf(mode === 'skip')(
  'the app SIGKILLed in the middle of Run all, restarted on the same data and Redis',
  () => {
    const cases = [
      { name: 'with the bus up', busDown: false },
      { name: 'while the bus is down (the next process relays what the dead one committed)', busDown: true },
    ];
    it.each(cases)(
      '$name: every task ends (the interrupted ones failed), events and database agree, no event id is delivered twice',
      async ({ busDown }) => {
        const redis = await startOwnRedis();
        cleanups.push(() => redis.destroy());
        const data = tempDataDir();
        cleanups.push(() => data.remove());
        const env = {
          PORT: String(await freePort()),
          DATA_DIR: data.dir,
          REDIS_URL: redis.url,
          SIM_SPEED: '4',
          INSTANCE_ID: 'crash-test',
        };
        let child = await spawnServer(env);
        cleanups.push(() => child.process.kill('SIGKILL'));
        const token = await login(child.url);
        const api = client(child.url, token);
        const id = (await api.post('/api/repositories', { url: 'https://github.com/acme/crash' })).json
          .repository.id as number;
        await until(
          'the clone is done',
          async () => (await api.get(`/api/repositories/${id}`)).json.repository.status === 'ready',
        );
        const page = openLivePage(child.url, token, id);
        cleanups.push(() => page.resource.close());
        await until('the page is live', () => page.resource.current.state === 'open');

        expect((await api.post(`/api/repositories/${id}/run-all`)).status).toBe(202);
        // Killed early in the run (one or two tasks done, one running), so tasks are left to interrupt.
        await until('one or two tasks completed and another runs', async () => {
          const statuses: string[] = (await api.get(`/api/repositories/${id}`)).json.tasks.map(
            (t: { status: string }) => t.status,
          );
          const completed = statuses.filter((status) => status === 'completed').length;
          return completed >= 1 && completed <= 2 && statuses.includes('running');
        });
        if (busDown) {
          await redis.stop();
          const completed = async () =>
            (await api.get(`/api/repositories/${id}`)).json.tasks.filter(
              (t: { status: string }) => t.status === 'completed',
            ).length;
          const done = await completed();
          await until('another task completed with the bus down', async () => (await completed()) > done);
        }
        child.process.kill('SIGKILL');
        expect((await child.exited).signal).toBe('SIGKILL');
        if (busDown) {
          const file = openDatabase(data.dir);
          const left = file
            .prepare(
              `SELECT count(*) FROM ${DEFAULT_OUTBOX_TABLE} WHERE delivered_at IS NULL AND failed_at IS NULL`,
            )
            .pluck()
            .get() as number;
          file.close();
          expect(left).toBeGreaterThan(0); // committed, never relayed by the dead process
        }

        child = await spawnServer(env); // with the bus down too: the app starts and serves without it
        if (busDown) {
          const snap = await client(child.url, token).get(`/api/repositories/${id}`);
          expect(snap.status).toBe(200);
          expect(
            snap.json.tasks.some((t: { status: string }) => t.status === 'running' || t.status === 'queued'),
          ).toBe(false); // the startup cleanup committed; its events wait for the bus
          await redis.start();
        }
        const again = client(child.url, token); // sessions live in the database: the token still works
        await until('every task ended and the outbox is empty', async () => {
          const snap = (await again.get(`/api/repositories/${id}`)).json;
          const health = (await again.get('/healthz')).json;
          return (
            snap.tasks.every((t: { status: string }) => t.status === 'completed' || t.status === 'failed') &&
            health.outbox.pending === 0
          );
        });
        const snapshot = (await again.get(`/api/repositories/${id}`)).json;
        const failed = snapshot.tasks.filter((t: { status: string }) => t.status === 'failed');
        expect(failed.length).toBeGreaterThan(0); // the running one at least; queued ones too
        for (const t of failed) expect(t.error_msg).toMatch(/interrupted/);
        expect(snapshot.repository.status).toBe('error');

        // A subscriber reading the topic from its start: each event once, and they agree with the rows.
        const db = openDatabase(data.dir);
        cleanups.push(() => db.close());
        const row = db.prepare('SELECT * FROM repositories WHERE id = ?').get(id) as RepositoryRow;
        const bus = createRedisBus({ url: redis.url, onError: () => {} });
        cleanups.push(() => bus.close());
        const events = (await replayFromStart(bus, repoTopic(row))).map((r) => r.event);
        expect(disagreements(events, db, id)).toEqual([]);

        // The page open across the crash ends showing the database (resumed, or reset and reloaded).
        await until('the page shows the database', () => {
          const tasks = page.resource.current.data?.tasks ?? [];
          return (
            JSON.stringify(tasks.map((t) => t.status)) ===
            JSON.stringify(snapshot.tasks.map((t: { status: string }) => t.status))
          );
        });
        expect(page.resource.current.data?.repository.status).toBe('error');
        child.process.kill('SIGTERM');
        expect((await child.exited).code).toBe(0);
      },
      180_000,
    );
  },
);
