import { afterEach, expect, it } from 'vitest';
import type { RunningServer } from '../server/app';
import { openDatabase } from '../server/db';
import {
  client,
  login,
  recordTopic,
  repoStatusIs,
  startTestServer,
  tempDataDir,
} from './support/test-server';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

it('on start, tasks a crash left running/queued become failed "interrupted", status recomputed, events published', async () => {
  const data = tempDataDir();
  cleanups.push(() => data.remove());
  let server: RunningServer = await startTestServer({ DATA_DIR: data.dir });
  const api = client(server.url, await login(server.url));
  const id = (await api.post('/api/repositories', { url: 'https://github.com/acme/crashy' })).json.repository
    .id;
  const rec = await recordTopic(server, server.topics.repo(id));
  await rec.waitFor(repoStatusIs('ready'));
  await rec.stop();
  const cloning = (await api.post('/api/repositories', { url: 'https://github.com/acme/half-cloned' })).json
    .repository.id;
  await server.close(0);

  // The state a crash mid-run leaves behind (the e2e suite kills a real process too).
  const db = openDatabase(data.dir);
  const tasks = db.prepare('SELECT id FROM tasks WHERE repo_id = ? ORDER BY ord').all(id) as { id: number }[];
  db.prepare(`UPDATE tasks SET status = 'completed', percent = 100 WHERE id = ?`).run(tasks[0]?.id);
  db.prepare(
    `UPDATE tasks SET status = 'running', instance_id = 'test-instance', started_at = 1 WHERE id = ?`,
  ).run(tasks[1]?.id);
  db.prepare(`UPDATE tasks SET status = 'queued', instance_id = 'test-instance' WHERE id = ?`).run(
    tasks[2]?.id,
  );
  db.prepare(`UPDATE tasks SET status = 'queued', instance_id = 'other-instance' WHERE id = ?`).run(
    tasks[3]?.id,
  );
  db.prepare(`UPDATE repositories SET status = 'analyzing' WHERE id = ?`).run(id);
  db.prepare(`UPDATE repositories SET status = 'cloning', instance_id = 'test-instance' WHERE id = ?`).run(
    cloning,
  );
  db.close();

  server = await startTestServer({ DATA_DIR: data.dir });
  cleanups.push(() => server.close(0));
  const after = await recordTopic(server, server.topics.repo(id));
  // The cleanup's events reach the bus through the outbox relay, just after startup.
  await after.waitFor((e) => e.type === 'task.status_changed' && Number(e.task_id) === tasks[2]?.id);
  const failed = after.events.filter((e) => e.type === 'task.status_changed');
  expect(failed.map((e) => [Number(e.task_id), e.payload.from, e.payload.to])).toEqual([
    [tasks[1]?.id, 'running', 'failed'],
    [tasks[2]?.id, 'queued', 'failed'],
  ]);
  expect(
    failed.every((e) => e.type === 'task.status_changed' && /interrupted/.test(e.payload.error_msg ?? '')),
  ).toBe(true);
  const snap = (await client(server.url, await login(server.url)).get(`/api/repositories/${id}`)).json;
  expect(snap.tasks.map((t: { status: string }) => t.status)).toEqual([
    'completed',
    'failed',
    'failed',
    'queued', // another instance's task is left alone
    'pending',
  ]);
  expect(snap.repository.status).toBe('analyzing');
  await after.stop();
  // A clone the crash interrupted ends in error (with an event), instead of `cloning` forever.
  const clone = await recordTopic(server, server.topics.repo(cloning));
  const change = await clone.waitFor(repoStatusIs('error'));
  expect(change.payload).toMatchObject({
    from: 'cloning',
    to: 'error',
    error_msg: expect.stringMatching(/interrupted/),
  });
  await clone.stop();
});
