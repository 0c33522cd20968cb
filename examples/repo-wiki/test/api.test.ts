import type { AnyEnvelope } from '@repopulse/events-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

let server: RunningServer;
let data: ReturnType<typeof tempDataDir>;
let demo: ReturnType<typeof client>;
let guest: ReturnType<typeof client>;

beforeAll(async () => {
  data = tempDataDir();
  server = await startTestServer({ DATA_DIR: data.dir, FAIL_TASKS: 'glossary-never' });
  demo = client(server.url, await login(server.url, 'demo'));
  guest = client(server.url, await login(server.url, 'guest'));
});

afterAll(async () => {
  await server?.close(0);
  data?.remove();
});

/** Adds a repository and waits until its clone finished (ready or error). */
async function addRepo(api: ReturnType<typeof client>, url: string, until = 'ready') {
  const res = await api.post('/api/repositories', { url });
  expect(res.status).toBe(201);
  const id = res.json.repository.id as number;
  const rec = await recordTopic(server, server.topics.repo(id));
  await rec.waitFor(repoStatusIs(until));
  return { id, rec };
}

describe('auth', () => {
  it('refuses a wrong password with a typed 401 and sets nothing', async () => {
    const res = await fetch(`${server.url}/api/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: 'demo', password: 'nope' }),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(await res.json()).toMatchObject({ error: { code: 'unauthorized' } });
  });

  it('sets a session cookie that authenticates, as do Bearer and ?access_token=', async () => {
    const res = await fetch(`${server.url}/api/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: 'guest', password: 'guest' }),
    });
    expect(res.status).toBe(200);
    const { token } = (await res.json()) as { token: string };
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^repopulse_session=[^;]+;.*HttpOnly/i);
    const viaCookie = await fetch(`${server.url}/api/me`, {
      headers: { Cookie: cookie.split(';')[0] as string },
    });
    expect((await viaCookie.json()).user).toEqual({ username: 'guest', role: 'member' });
    const viaQuery = await fetch(`${server.url}/api/me?access_token=${encodeURIComponent(token)}`);
    expect(viaQuery.status).toBe(200);
    const viaBearer = await fetch(`${server.url}/api/me`, { headers: { Authorization: `Bearer ${token}` } });
    expect(viaBearer.status).toBe(200);
  });

  it('answers 401 without credentials and with a forged token', async () => {
    expect((await client(server.url).get('/api/repositories')).status).toBe(401);
    const forged = await client(server.url, 'eyJzdWIiOiJkZW1vIn0.AAAA').get('/api/repositories');
    expect(forged.status).toBe(401);
    expect(forged.json.error.code).toBe('unauthorized');
  });
});

describe('repositories', () => {
  it('creates a repository with default tasks and clones it pending → cloning → ready', async () => {
    const list = await recordTopic(server, server.topics.all);
    const { id, rec } = await addRepo(demo, 'https://github.com/acme/widgets.git');
    const statuses = rec.events.filter((e) => e.type === 'repo.status_changed').map((e) => e.payload);
    expect(statuses).toEqual([
      { from: 'pending', to: 'cloning' },
      { from: 'cloning', to: 'ready' },
    ]);
    const created = await list.waitFor((e) => e.type === 'repo.created' && e.repo_id === String(id));
    expect(created.payload).toEqual({ name: 'widgets', url: 'https://github.com/acme/widgets.git' });
    await list.waitFor(
      (e) => e.repo_id === String(id) && e.type === 'repo.status_changed' && e.payload.to === 'ready',
    );
    const snap = await demo.get(`/api/repositories/${id}`);
    expect(snap.status).toBe(200);
    expect(snap.json.repository).toMatchObject({ id, name: 'widgets', status: 'ready', owner: 'demo' });
    expect(snap.json.tasks.map((t: { kind: string }) => t.kind)).toEqual([
      'overview',
      'architecture',
      'api',
      'deployment',
      'glossary',
    ]);
    expect(snap.json.position).toBe(await server.bus.head(server.topics.repo(id)));
    await list.stop();
    await rec.stop();
  });

  it('rejects a malformed URL with 400 and stores nothing', async () => {
    const before = (await demo.get('/api/repositories')).json.repositories.length;
    for (const url of ['', 'not a url', 42, 'ftp://x']) {
      const res = await demo.post('/api/repositories', { url });
      expect(res.status).toBe(400);
      expect(res.json.error.code).toBe('bad_request');
    }
    expect((await demo.get('/api/repositories')).json.repositories.length).toBe(before);
    const bad = await fetch(`${server.url}/api/repositories`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${await login(server.url)}` },
      body: '{"url":',
    });
    expect(bad.status).toBe(400);
  });

  it('a URL containing fail-clone ends in error with a message', async () => {
    const { id } = await addRepo(demo, 'https://github.com/acme/fail-clone', 'error');
    const snap = await demo.get(`/api/repositories/${id}`);
    expect(snap.json.repository.status).toBe('error');
    expect(snap.json.repository.error_msg).toMatch(/clone/);
    const run = await demo.post(`/api/repositories/${id}/run-all`);
    expect(run.status).toBe(202); // error → analyzing is legal: the tasks still run
  });

  it('answers 404 for an unknown repository and 400 for a malformed id', async () => {
    expect((await demo.get('/api/repositories/999999')).status).toBe(404);
    expect((await demo.get('/api/repositories/abc')).json.error.code).toBe('bad_request');
  });
});

describe('run-all', () => {
  it('runs every task through its phases, writes documents and ends completed; each event after its DB commit', async () => {
    const { id, rec } = await addRepo(demo, 'https://github.com/acme/run-all');
    const db = openDatabase(data.dir);
    const mismatches: string[] = [];
    const check = await server.bus.subscribe(server.topics.repo(id), (d) => {
      if (d.reset) return;
      const e = d.event as AnyEnvelope;
      // Relayed from the outbox after its transaction committed: the DB holds what the event
      // announces, or a later step of the same run (the runner may have moved on meanwhile).
      if (e.type === 'task.status_changed') {
        const row = db.prepare('SELECT status FROM tasks WHERE id = ?').get(Number(e.task_id)) as {
          status: string;
        };
        const step = (status: string) => ['pending', 'queued', 'running', 'completed'].indexOf(status);
        if (step(row.status) < step(e.payload.to))
          mismatches.push(`task ${e.task_id}: db ${row.status} event ${e.payload.to}`);
      }
      if (e.type === 'doc.created') {
        const row = db.prepare('SELECT id FROM documents WHERE id = ?').get(Number(e.payload.doc_id));
        if (!row) mismatches.push(`doc ${e.payload.doc_id} missing`);
      }
    });
    const res = await demo.post(`/api/repositories/${id}/run-all`);
    expect(res.status).toBe(202);
    expect(res.json.queued).toHaveLength(5);
    await rec.waitFor(repoStatusIs('completed'));
    await server.idle();
    await check.unsubscribe();
    db.close();
    expect(mismatches).toEqual([]);

    const perTask = new Map<string, string[]>();
    for (const e of rec.events) {
      if (e.type !== 'task.status_changed') continue;
      const list = perTask.get(e.task_id as string) ?? [];
      list.push(e.payload.to);
      perTask.set(e.task_id as string, list);
    }
    expect([...perTask.values()]).toEqual(Array(5).fill(['queued', 'running', 'completed']));
    const phases = new Set(rec.events.filter((e) => e.type === 'task.progress').map((e) => e.payload.phase));
    expect([...phases]).toEqual(['static_analysis', 'llm', 'save_document']);
    expect(rec.events.filter((e) => e.type === 'doc.created')).toHaveLength(5);
    expect(rec.events.some((e) => e.type === 'log.append')).toBe(true);
    const repoStatuses = rec.events.filter((e) => e.type === 'repo.status_changed').map((e) => e.payload.to);
    expect(repoStatuses).toEqual(['cloning', 'ready', 'analyzing', 'completed']);

    const snap = await demo.get(`/api/repositories/${id}`);
    expect(snap.json.repository.status).toBe('completed');
    expect(
      snap.json.tasks.every(
        (t: { status: string; percent: number }) => t.status === 'completed' && t.percent === 100,
      ),
    ).toBe(true);
    expect(snap.json.documents).toHaveLength(5);
    const doc = await demo.get(`/api/documents/${snap.json.documents[0].id}`);
    expect(doc.json.document.content).toMatch(/^# Overview/);
    expect((await demo.get(`/api/repositories/${id}/tasks`)).json.tasks).toHaveLength(5);
    expect((await demo.get(`/api/repositories/${id}/documents`)).json.documents).toHaveLength(5);
    await rec.stop();
  });

  it('injected failure: the failing task fails, the others complete, the repository ends in error', async () => {
    const { id, rec } = await addRepo(demo, 'https://github.com/acme/widget-fail-api');
    await demo.post(`/api/repositories/${id}/run-all`);
    const final = await rec.waitFor(repoStatusIs('error'));
    expect((final.payload as { error_msg?: string }).error_msg).toMatch(/API reference/);
    await server.idle();
    const tasks = (await demo.get(`/api/repositories/${id}`)).json.tasks as {
      kind: string;
      status: string;
      error_msg: string;
    }[];
    expect(tasks.map((t) => [t.kind, t.status])).toEqual([
      ['overview', 'completed'],
      ['architecture', 'completed'],
      ['api', 'failed'],
      ['deployment', 'completed'],
      ['glossary', 'completed'],
    ]);
    expect(tasks[2]?.error_msg).toMatch(/injected failure/);

    // Reset the failed task: pending again → repo analyzing (a completed + a pending task).
    const apiTask = (await demo.get(`/api/repositories/${id}`)).json.tasks[2];
    const reset = await demo.post(`/api/tasks/${apiTask.id}/reset`);
    expect(reset.status).toBe(200);
    expect(reset.json.task.status).toBe('pending');
    await rec.waitFor((e) => e.type === 'repo.status_changed' && e.payload.from === 'error');
    expect((await demo.get(`/api/repositories/${id}`)).json.repository.status).toBe('analyzing');
    await rec.stop();
  });

  it('refuses illegal transitions with 409 and changes nothing', async () => {
    const { id, rec } = await addRepo(demo, 'https://github.com/acme/transitions');
    const task = (await demo.get(`/api/repositories/${id}`)).json.tasks[0];
    const reset = await demo.post(`/api/tasks/${task.id}/reset`);
    expect(reset.status).toBe(409);
    expect(reset.json.error.code).toBe('invalid_transition');
    const before = rec.events.length;
    expect((await demo.post('/api/tasks/999999/run')).status).toBe(404);
    const run = await demo.post(`/api/tasks/${task.id}/run`);
    expect(run.status).toBe(202);
    await rec.waitFor(
      (e) =>
        e.type === 'task.status_changed' && e.task_id === String(task.id) && e.payload.to === 'completed',
    );
    expect(rec.events.length).toBeGreaterThan(before);
    const again = await demo.post(`/api/tasks/${task.id}/run`);
    expect(again.status).toBe(409);
    const force = await demo.post(`/api/tasks/${task.id}/force-reset`);
    expect(force.json.task.status).toBe('pending');
    await server.idle();
    await rec.stop();
  });
});

describe('commands during a run', () => {
  it('force-reset of the running task stops it; the rest of the run continues', async () => {
    const slow = await startTestServer({ DATA_DIR: data.dir, SIM_SPEED: '20', INSTANCE_ID: 'slow' });
    try {
      const api = client(slow.url, await login(slow.url));
      const id = (await api.post('/api/repositories', { url: 'https://github.com/acme/force' })).json
        .repository.id;
      const rec = await recordTopic(slow, slow.topics.repo(id));
      await rec.waitFor(repoStatusIs('ready'));
      await api.post(`/api/repositories/${id}/run-all`);
      const running = await rec.waitFor(
        (e) => e.type === 'task.status_changed' && e.payload.to === 'running',
      );
      const reset = await api.post(`/api/tasks/${running.task_id}/force-reset`);
      expect(reset.status).toBe(200);
      expect(reset.json.task.status).toBe('pending');
      await rec.waitFor((e) => e.type === 'task.status_changed' && e.payload.to === 'completed');
      await slow.idle();
      const tasks = (await api.get(`/api/repositories/${id}`)).json.tasks as { id: number; status: string }[];
      expect(tasks.map((t) => t.status)).toEqual([
        'pending',
        'completed',
        'completed',
        'completed',
        'completed',
      ]);
      // The stopped task published nothing after its reset.
      const afterReset = rec.events.slice(
        rec.events.findIndex((e) => e.type === 'task.status_changed' && e.payload.to === 'pending'),
      );
      expect(
        afterReset.filter((e) => e.task_id === running.task_id && e.type !== 'task.status_changed'),
      ).toEqual([]);
      expect((await api.get(`/api/repositories/${id}`)).json.repository.status).toBe('analyzing');
      await rec.stop();
    } finally {
      await slow.close(0);
    }
  });

  it('delete during a run stops the runner; nothing is published after repo.deleted', async () => {
    const slow = await startTestServer({ DATA_DIR: data.dir, SIM_SPEED: '20', INSTANCE_ID: 'slow' });
    try {
      const api = client(slow.url, await login(slow.url));
      const id = (await api.post('/api/repositories', { url: 'https://github.com/acme/delete-me' })).json
        .repository.id;
      const rec = await recordTopic(slow, slow.topics.repo(id));
      await rec.waitFor(repoStatusIs('ready'));
      await api.post(`/api/repositories/${id}/run-all`);
      await rec.waitFor((e) => e.type === 'task.progress');
      expect((await api.del(`/api/repositories/${id}`)).status).toBe(204);
      await slow.idle();
      expect(rec.events.at(-1)?.type).toBe('repo.deleted');
      expect((await api.get(`/api/repositories/${id}`)).status).toBe(404);
      await rec.stop();
    } finally {
      await slow.close(0);
    }
  });
});

describe('access rules', () => {
  it('guest sees only its own repositories; 403 on the others, REST and stream', async () => {
    const mine = await addRepo(guest, 'https://github.com/guest/own');
    const theirs = await addRepo(demo, 'https://github.com/demo/private');
    const guestList = (await guest.get('/api/repositories')).json.repositories.map(
      (r: { id: number }) => r.id,
    );
    expect(guestList).toContain(mine.id);
    expect(guestList).not.toContain(theirs.id);
    const demoList = (await demo.get('/api/repositories')).json.repositories.map((r: { id: number }) => r.id);
    expect(demoList).toEqual(expect.arrayContaining([mine.id, theirs.id]));

    for (const path of [
      `/api/repositories/${theirs.id}`,
      `/api/repositories/${theirs.id}/tasks`,
      `/api/repositories/${theirs.id}/documents`,
    ]) {
      const res = await guest.get(path);
      expect(res.status).toBe(403);
      expect(res.json.error.code).toBe('forbidden');
    }
    expect((await guest.post(`/api/repositories/${theirs.id}/run-all`)).status).toBe(403);
    expect((await guest.del(`/api/repositories/${theirs.id}`)).status).toBe(403);
    const token = await login(server.url, 'guest');
    const stream = await fetch(`${server.url}/api/repositories/${theirs.id}/events`, {
      headers: { Accept: 'text/event-stream', Authorization: `Bearer ${token}` },
    });
    expect(stream.status).toBe(403);
    expect(stream.headers.get('content-type')).toMatch(/json/);
    const own = await fetch(`${server.url}/api/repositories/${mine.id}/events?access_token=${token}`, {
      headers: { Accept: 'text/event-stream' },
    });
    expect(own.status).toBe(200);
    expect(own.headers.get('content-type')).toMatch(/text\/event-stream/);
    await own.body?.cancel();
    const none = await fetch(`${server.url}/api/repositories/${theirs.id}/events`, {
      headers: { Accept: 'text/event-stream' },
    });
    expect(none.status).toBe(401);
    await mine.rec.stop();
    await theirs.rec.stop();
  });

  it("guest's list stream carries only its repositories' events", async () => {
    const token = await login(server.url, 'guest');
    const head = (await guest.get('/api/repositories')).json.position as string;
    const demoRepo = await addRepo(demo, 'https://github.com/demo/hidden');
    const guestRepo = await addRepo(guest, 'https://github.com/guest/visible');
    const res = await fetch(`${server.url}/api/events?after=${head}&wait=0`, {
      headers: { Accept: 'application/json', Authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { events: { event: AnyEnvelope }[] };
    const repoIds = new Set(body.events.map((d) => d.event.repo_id));
    expect(repoIds.has(String(guestRepo.id))).toBe(true);
    expect(repoIds.has(String(demoRepo.id))).toBe(false);
    await demoRepo.rec.stop();
    await guestRepo.rec.stop();
  });
});

describe('delete', () => {
  it('deletes a repository and announces repo.deleted on its topic and the list', async () => {
    const list = await recordTopic(server, server.topics.all);
    const { id, rec } = await addRepo(demo, 'https://github.com/acme/doomed');
    expect((await demo.del(`/api/repositories/${id}`)).status).toBe(204);
    await rec.waitFor((e) => e.type === 'repo.deleted');
    await list.waitFor((e) => e.type === 'repo.deleted' && e.repo_id === String(id));
    expect((await demo.get(`/api/repositories/${id}`)).status).toBe(404);
    await rec.stop();
    await list.stop();
  });
});
