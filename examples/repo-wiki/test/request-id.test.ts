import { runCli } from '@repopulse/cli';
import type { AnyEnvelope } from '@repopulse/events-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../server/app';
import { readConfig } from '../server/config';
import { createLogger } from '../server/logger';
import { REQUEST_ID_PATTERN } from '../server/request-context';
import { login, recordTopic, repoStatusIs, tempDataDir } from './support/test-server';

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

let server: RunningServer;
let data: ReturnType<typeof tempDataDir>;
let token: string;
const logLines: Record<string, unknown>[] = [];

beforeAll(async () => {
  data = tempDataDir();
  const config = readConfig({
    PORT: '0',
    SIM_SPEED: '100',
    DATA_DIR: data.dir,
    SESSION_SECRET: 'test-secret-0123456789abcdef',
    INSTANCE_ID: 'request-id-test',
    SHUTDOWN_GRACE_MS: '0',
    FAIL_TASKS: 'glossary',
  });
  const log = createLogger('info', { service: 'repo-wiki' }, (line) => {
    logLines.push(JSON.parse(line));
  });
  server = await startServer(config, log);
  token = await login(server.url, 'demo');
});

afterAll(async () => {
  await server?.close(0);
  data?.remove();
});

/** A mutating request with an optional `X-Request-Id`; returns the status, JSON and the id header. */
async function act(method: string, path: string, body: unknown = {}, requestId?: string) {
  const headers: Record<string, string> = {
    Authorization: `Bearer ${token}`,
    'Content-Type': 'application/json',
  };
  if (requestId !== undefined) headers['X-Request-Id'] = requestId;
  const res = await fetch(`${server.url}${path}`, { method, headers, body: JSON.stringify(body) });
  const text = await res.text();
  return {
    status: res.status,
    json: text ? JSON.parse(text) : undefined,
    id: res.headers.get('x-request-id'),
  };
}

/** Adds a repository, waits for its clone; returns its id, the create request id and a recorder. */
async function addRepo(url: string) {
  const res = await act('POST', '/api/repositories', { url });
  expect(res.status).toBe(201);
  const rec = await recordTopic(server, server.topics.repo(res.json.repository.id));
  await rec.waitFor(repoStatusIs('ready'));
  return { id: res.json.repository.id as number, createId: res.id as string, rec };
}

describe('request ids end to end', () => {
  it('a valid X-Request-Id is returned and carried by every event of the action, background work included', async () => {
    const { id, createId, rec } = await addRepo('https://example.com/acme/request-ids.git');
    expect(createId).toMatch(ULID); // none given: the server made one
    // The clone (in the background) belongs to the create action.
    expect(rec.events.map((e) => [e.type, e.request_id])).toEqual([
      ['repo.created', createId],
      ['repo.status_changed', createId],
      ['action.started', createId],
      ['repo.status_changed', createId],
    ]);

    const before = rec.events.length;
    const res = await act('POST', `/api/repositories/${id}/run-all`, {}, 'bug-4711.run:all');
    expect(res.status).toBe(202);
    expect(res.id).toBe('bug-4711.run:all');
    await rec.waitFor(repoStatusIs('error')); // glossary fails by FAIL_TASKS
    await server.idle();
    const run = rec.events.slice(before);
    const types = new Set(run.map((e) => e.type));
    for (const type of [
      'task.status_changed',
      'task.progress',
      'task.queue_changed',
      'log.append',
      'doc.created',
      'repo.status_changed',
      'action.started',
    ]) {
      expect(types).toContain(type);
    }
    expect(run.filter((e) => e.request_id !== 'bug-4711.run:all')).toEqual([]);
    expect(run.find((e) => e.type === 'action.started')?.payload).toEqual({
      action: 'run_all',
      user: 'demo',
    });
  });

  it('an invalid X-Request-Id is replaced by a server-made one, returned and carried', async () => {
    const { id, rec } = await addRepo('https://example.com/acme/bad-ids.git');
    for (const bad of ['has space', 'x'.repeat(129), 'semi;colon', '']) {
      expect(REQUEST_ID_PATTERN.test(bad)).toBe(false);
      const task = (
        await fetch(`${server.url}/api/repositories/${id}/tasks`, {
          headers: { Authorization: `Bearer ${token}` },
        }).then((r) => r.json())
      ).tasks[0];
      const before = rec.events.length;
      const res = await act('POST', `/api/tasks/${task.id}/run`, {}, bad);
      expect(res.status).toBe(202);
      expect(res.id).toMatch(ULID);
      await rec.waitFor(
        (e) => e.type === 'task.status_changed' && e.payload.to === 'completed' && e.request_id === res.id,
      );
      await server.idle();
      const mine = rec.events.slice(before);
      expect(mine.length).toBeGreaterThan(10);
      expect(mine.filter((e) => e.request_id !== res.id)).toEqual([]);
      expect((await act('POST', `/api/tasks/${task.id}/reset`, {}, `reset-${before}`)).id).toBe(
        `reset-${before}`,
      );
    }
  });

  it('every JSON log line of an action names its request id, the runner’s warnings included', async () => {
    const { id } = await addRepo('https://example.com/acme/logs.git');
    const res = await act('POST', `/api/repositories/${id}/run-all`, {}, 'log-check-1');
    await server.idle();
    const lines = logLines.filter((line) => line.request_id === 'log-check-1');
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 'info', msg: 'request', method: 'POST', status: 202 }),
    );
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 'info', msg: 'action', action: 'run_all', repo_id: id }),
    );
    expect(lines).toContainEqual(expect.objectContaining({ level: 'warn', msg: 'task failed', repo_id: id }));
    expect(res.id).toBe('log-check-1');
  });

  it('queued tasks get their place in the queue, counting down to 0 before they run', async () => {
    const { id, rec } = await addRepo('https://example.com/acme/queue.git');
    const before = rec.events.length;
    await act('POST', `/api/repositories/${id}/run-all`, {}, 'queue-1');
    await rec.waitFor(repoStatusIs('error'));
    await server.idle();
    const run = rec.events.slice(before);
    const order = run
      .filter((e) => e.type === 'task.status_changed' && e.payload.to === 'running')
      .map((e) => e.task_id);
    expect(order).toHaveLength(5);
    order.forEach((taskId, index) => {
      const mine = run.filter((e) => e.task_id === taskId);
      const aheads = mine.filter((e) => e.type === 'task.queue_changed').map((e) => e.payload.ahead);
      // The first task starts at once; task n waits behind n-1 others and counts down.
      expect(aheads).toEqual(Array.from({ length: index }, (_, i) => index - 1 - i));
      const started = mine.findIndex(
        (e: AnyEnvelope) => e.type === 'task.status_changed' && e.payload.to === 'running',
      );
      expect(mine.slice(started).some((e) => e.type === 'task.queue_changed')).toBe(false);
    });
  });

  it('repopulse replay --request-id prints exactly the events of that action (from the log line to the events)', async () => {
    const { id, rec } = await addRepo('https://example.com/acme/cli.git');
    await act('POST', `/api/repositories/${id}/run-all`, {}, 'from-a-log-line');
    await server.idle();
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(
      [
        'replay',
        `${server.url}/api/repositories/${id}/events`,
        '--from-start',
        '--request-id',
        'from-a-log-line',
        '--json',
        '--token',
        token,
      ],
      {
        stdout: { write: (chunk: string) => out.push(chunk) },
        stderr: { write: (chunk: string) => err.push(chunk) },
        env: {},
      },
    );
    expect([code, err.join('')]).toEqual([0, '']);
    const printed = out
      .join('')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line).event.id);
    expect(printed).toEqual(rec.events.filter((e) => e.request_id === 'from-a-log-line').map((e) => e.id));
    expect(logLines.some((line) => line.request_id === 'from-a-log-line' && line.msg === 'action')).toBe(
      true,
    );
  });
});
