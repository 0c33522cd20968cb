// The example as a user gets it: the packed tarballs installed into a fresh project outside the
// workspace, type-checked by the project's own strict `nodenext` TypeScript, and run end to end on
// a Postgres of its own: two instances share the topics, a real SSE client follows them.
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  compile,
  createTarballProject,
  type ExampleServer,
  type PostgresProcess,
  postgresServerMissing,
  requirement,
  startExampleServer,
  startPostgres,
  type TarballProject,
} from '@repopulse/test-support';
import { EventSource } from 'eventsource';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const EXAMPLE = resolve(import.meta.dirname, '..');
const mode = requirement('examples/postgres', postgresServerMissing(), 'the example on its own Postgres');

interface Received {
  type: string;
  position: string;
  data: { task_id?: string; payload: Record<string, unknown> };
}

/** Follows `url` with the `eventsource` package until `until` matches; resolves with what arrived. */
function follow(
  url: string,
  until: (event: Received) => boolean,
  onOpen: () => unknown,
): Promise<Received[]> {
  const received: Received[] = [];
  const source = new EventSource(url);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      source.close();
      reject(new Error(`timed out on ${url} after ${JSON.stringify(received)}`));
    }, 20_000);
    source.onopen = () => void onOpen();
    for (const type of ['task.status_changed', 'task.progress', 'reset']) {
      source.addEventListener(type, (message) => {
        const event = { type, position: message.lastEventId, data: JSON.parse(message.data) };
        received.push(event);
        if (until(event)) {
          clearTimeout(timer);
          source.close();
          resolve(received);
        }
      });
    }
  });
}

const finished = (event: Received) =>
  event.type === 'task.status_changed' && ['completed', 'failed'].includes(String(event.data.payload.to));
const summary = (events: Received[]) =>
  events.map((e) =>
    e.type === 'task.progress'
      ? `progress ${e.data.payload.percent}`
      : `${e.data.payload.from}→${e.data.payload.to}`,
  );
const PROGRESS = ['progress 25', 'progress 50', 'progress 75', 'progress 100'];

describe.skipIf(mode === 'skip')('examples/postgres from packed tarballs', () => {
  let project: TarballProject;
  let postgres: PostgresProcess;
  let servers: ExampleServer[] = [];

  beforeAll(async () => {
    [project, postgres] = await Promise.all([
      createTarballProject(EXAMPLE, {
        dependencies: ['express', 'pg'],
        devDependencies: ['@types/express', '@types/pg'],
      }),
      startPostgres(),
    ]);
    await compile(project);
    // The first creates the tables; two instances share the topics through Postgres alone.
    servers = [await startExampleServer(project.dir, { DATABASE_URL: postgres.url })];
    servers.push(await startExampleServer(project.dir, { DATABASE_URL: postgres.url }));
  }, 300_000);

  afterAll(async () => {
    await Promise.all(servers.map((server) => server.stop()));
    await postgres?.destroy();
    if (project) rmSync(project.dir, { recursive: true, force: true });
  });

  it('a task started on instance A streams from instance B, each change at its commit, in order', async () => {
    const [a, b] = servers as [ExampleServer, ExampleServer];
    const { position } = (await (await fetch(`${a.url}/api/repositories/42`)).json()) as { position: string };
    const url = `${b.url}/api/repositories/42/events?last_event_id=${position}`;
    const events = await follow(url, finished, () =>
      fetch(`${a.url}/api/repositories/42/tasks`, { method: 'POST' }),
    );
    expect(summary(events)).toEqual(['pending→running', ...PROGRESS, 'running→completed']);
    const positions = events.map((e) => e.position);
    expect([...positions].sort((x, y) => x.localeCompare(y, 'en', { numeric: true }))).toEqual(positions);

    // The snapshot agrees with the stream, and the long-poll on the same URL replays it.
    const snapshot = (await (await fetch(`${b.url}/api/repositories/42`)).json()) as {
      tasks: { status: string; percent: number }[];
      position: string;
    };
    expect(snapshot.tasks.at(-1)).toMatchObject({ status: 'completed', percent: 100 });
    expect(snapshot.position).toBe(positions.at(-1));
    const poll = (await (
      await fetch(`${a.url}/api/repositories/42/events?after=${position}&wait=0`, {
        headers: { Accept: 'application/json' },
      })
    ).json()) as { events: { position: string }[] };
    expect(poll.events.map((e) => e.position)).toEqual(positions);
  });

  it('a change that rolls back publishes nothing: "completed" is never seen, "failed" follows', async () => {
    const [a, b] = servers as [ExampleServer, ExampleServer];
    const { position } = (await (await fetch(`${b.url}/api/repositories/7`)).json()) as { position: string };
    const events = await follow(
      `${a.url}/api/repositories/7/events?last_event_id=${position}`,
      finished,
      () => fetch(`${b.url}/api/repositories/7/tasks?fail=1`, { method: 'POST' }),
    );
    expect(summary(events)).toEqual(['pending→running', ...PROGRESS, 'running→failed']);
    const db = new pg.Client({ connectionString: postgres.url });
    await db.connect();
    try {
      const { rows } = await db.query("SELECT status FROM tasks WHERE repo_id = '7'");
      expect(rows).toEqual([{ status: 'failed' }]);
    } finally {
      await db.end();
    }
  });
});
