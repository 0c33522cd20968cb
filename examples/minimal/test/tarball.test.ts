// The packages as a user gets them: packed tarballs installed into a fresh project outside the
// workspace, the getting-started example copied in, type-checked by the project's own strict
// `nodenext` TypeScript, and run end to end over real HTTP with a real SSE client and Chromium.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  compile,
  createTarballProject,
  type ExampleServer,
  failedStart,
  findChromium,
  freePort,
  hasRedisServer,
  launchChromium,
  reachableRedis,
  requirement,
  startExampleServer,
  type TarballProject,
} from '@repopulse/test-support';
import Database from 'better-sqlite3';
import { EventSource } from 'eventsource';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const EXAMPLE = resolve(import.meta.dirname, '..');

const CHROMIUM = findChromium();
const chromiumMode = requirement(
  'examples/minimal',
  CHROMIUM ? undefined : 'Chromium not found (install it or set CHROMIUM_PATH)',
  'the page test',
);
const redisMode = requirement(
  'examples/minimal',
  hasRedisServer() ? undefined : 'no redis-server binary on PATH',
  'the REDIS_URL test',
);

interface Received {
  type: string;
  position: string;
  data: { type: string; task_id?: string; payload: Record<string, unknown> };
}

/** Follows `url` with the `eventsource` package until `until` matches; resolves with what arrived. */
function follow(
  url: string,
  until: (event: Received) => boolean,
  onOpen?: () => unknown,
): Promise<Received[]> {
  const received: Received[] = [];
  const source = new EventSource(url);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      source.close();
      reject(new Error(`timed out on ${url} after ${JSON.stringify(received)}`));
    }, 15_000);
    source.onopen = () => void onOpen?.();
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

const completed = (event: Received) =>
  event.type === 'task.status_changed' && event.data.payload.to === 'completed';
const startTask = (base: string) => fetch(`${base}/api/repositories/42/tasks`, { method: 'POST' });
/** Starts a task on repository 42 and resolves with its events, followed from the current head. */
async function runTask(base: string): Promise<Received[]> {
  const { position } = (await (await fetch(`${base}/api/repositories/42`)).json()) as { position: string };
  return follow(`${base}/api/repositories/42/events?last_event_id=${position}`, completed, () =>
    startTask(base),
  );
}
const summary = (events: Received[]) =>
  events.map((e) =>
    e.type === 'task.progress'
      ? `progress ${e.data.payload.percent}`
      : `${e.data.payload.from}→${e.data.payload.to}`,
  );
const ONE_TASK = [
  'pending→running',
  'progress 25',
  'progress 50',
  'progress 75',
  'progress 100',
  'running→completed',
];

describe('examples/minimal from packed tarballs', () => {
  let project: TarballProject;
  let server: ExampleServer;

  beforeAll(async () => {
    // better-sqlite3 is the workspace's own install (same version, built for this Node) copied in
    // before `npm install`, which keeps it: building it from source here would take minutes and
    // test its build, not our packages (see `prebuilt` in test-support's tarball-project.ts).
    project = await createTarballProject(EXAMPLE, {
      dependencies: ['express', 'ioredis', 'better-sqlite3'],
      devDependencies: ['@types/express', '@types/better-sqlite3'],
      prebuilt: ['better-sqlite3'],
    });
    await compile(project);
    server = await startExampleServer(project.dir, { DATABASE_FILE: join(project.dir, 'memory-bus.db') });
  }, 300_000);

  afterAll(async () => {
    await server?.stop();
    if (project) rmSync(project.dir, { recursive: true, force: true });
  });

  it('installed real copies of every package (no workspace links) and type-checked strict nodenext', () => {
    expect(Object.keys(project.tarballs).sort()).toEqual([
      '@repopulse/bus-memory',
      '@repopulse/bus-postgres',
      '@repopulse/bus-redis',
      '@repopulse/cli',
      '@repopulse/client',
      '@repopulse/conformance',
      '@repopulse/events-core',
      '@repopulse/outbox',
      '@repopulse/sse-express',
      '@repopulse/sse-server',
    ]);
    for (const name of [...Object.keys(project.tarballs), 'better-sqlite3']) {
      expect(
        realpathSync(join(project.dir, 'node_modules', name)).startsWith(realpathSync(project.dir)),
      ).toBe(true);
    }
  });

  it('the installed `repopulse` bin runs: --help, and a non-zero exit for a refused stream', async () => {
    const bin = join(project.dir, 'node_modules', '.bin', 'repopulse');
    const help = await run(bin, ['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('repopulse tail');
    const missing = await run(bin, ['replay', `${server.url}/api/repositories/404/events`, '--from-start']);
    expect(missing.code).not.toBe(0);
  });

  it('serves the page and the browser client without a bundler', async () => {
    const page = await fetch(`${server.url}/?repo=42`);
    expect(await page.text()).toContain('"@repopulse/client": "/vendor/repopulse-client/index.mjs"');
    for (const asset of ['/tasks.js', '/vendor/repopulse-client/index.mjs']) {
      const res = await fetch(`${server.url}${asset}`);
      expect(res.status, asset).toBe(200);
      expect(res.headers.get('content-type'), asset).toMatch(/javascript/);
    }
  });

  it('publishes from the service layer; an SSE client from the snapshot position sees every change in order', async () => {
    const snapshot = (await (await fetch(`${server.url}/api/repositories/42`)).json()) as {
      tasks: unknown[];
      position: string;
    };
    const url = `${server.url}/api/repositories/42/events?last_event_id=${snapshot.position}`;
    const events = await follow(url, completed, () => startTask(server.url));
    expect(summary(events)).toEqual(ONE_TASK);
    const positions = events.map((e) => e.position);
    expect([...positions].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))).toEqual(positions);
    expect(new Set(events.map((e) => e.data.task_id)).size).toBe(1);

    // Resuming from the second event replays exactly the four after it.
    const resumed = await follow(
      `${server.url}/api/repositories/42/events?last_event_id=${positions[1]}`,
      (e) => e.position === positions[5],
    );
    expect(resumed.map((e) => e.position)).toEqual(positions.slice(2));

    // The same URL as a long-poll.
    const poll = (await (
      await fetch(`${server.url}/api/repositories/42/events?after=${snapshot.position}&wait=0`, {
        headers: { Accept: 'application/json' },
      })
    ).json()) as { events: { position: string }[]; position: string };
    expect(poll.events.map((e) => e.position)).toEqual(positions);
    expect(poll.position).toBe(positions[5]);
  });

  it("refuses a user's stream for a repository they cannot see: 403 with a JSON error", async () => {
    const res = await fetch(`${server.url}/api/repositories/42/events`, {
      headers: { Accept: 'text/event-stream', Cookie: 'user=bob' },
    });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('forbidden');
  });

  it.skipIf(chromiumMode === 'skip')(
    'the page in Chromium: snapshot, then live updates',
    async () => {
      await runTask(server.url); // a finished task for the page's snapshot
      const browser = await launchChromium(CHROMIUM as string);
      try {
        const page = await browser.newPage();
        await page.goto(`${server.url}/?repo=42`);
        await page.locator('#connection', { hasText: 'open' }).waitFor({ timeout: 15_000 });
        const before = await page.locator('#tasks li[data-status="completed"]').count();
        expect(before).toBeGreaterThan(0); // from the snapshot
        await page.click('#start');
        await page.locator('#tasks li[data-status="completed"]').nth(before).waitFor({ timeout: 15_000 });
        const last = page.locator('#tasks li').last();
        expect(await last.getAttribute('data-percent')).toBe('100');
        expect(await last.textContent()).toMatch(/completed \(100 %\)/);
      } finally {
        await browser.close();
      }
    },
    60_000,
  );

  it('fails at startup with a message naming REDIS_URL when it is malformed or unreachable', async () => {
    const port = await freePort(); // nothing listens there
    const [malformed, unreachable] = await Promise.all([
      failedStart(project.dir, { REDIS_URL: 'localhost:6379' }),
      failedStart(project.dir, { REDIS_URL: `redis://127.0.0.1:${port}` }),
    ]);
    expect(malformed.code).not.toBe(0);
    expect(malformed.stderr).toContain('REDIS_URL must be a redis:// or rediss:// URL, got "localhost:6379"');
    expect(unreachable.code).not.toBe(0);
    expect(unreachable.stderr).toContain(`cannot reach Redis at REDIS_URL (127.0.0.1:${port})`);
  }, 30_000);

  describe.skipIf(redisMode === 'skip')('with REDIS_URL: two instances share the topics', () => {
    let redis: ChildProcess;
    let redisDir: string;
    let redisUrl: string;

    beforeAll(async () => {
      const port = await freePort();
      redisDir = mkdtempSync(join(tmpdir(), 'repopulse-minimal-redis-'));
      redis = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', redisDir],
        {
          stdio: 'ignore',
        },
      );
      redisUrl = `redis://127.0.0.1:${port}`;
      for (let i = 0; i < 100 && !(await reachableRedis(redisUrl)); i++)
        await new Promise((r) => setTimeout(r, 50));
    });

    afterAll(() => {
      redis?.kill('SIGKILL');
      if (redisDir) rmSync(redisDir, { recursive: true, force: true });
    });

    it('a task started on instance A streams from instance B', async () => {
      const started = await Promise.allSettled([
        startExampleServer(project.dir, { REDIS_URL: redisUrl }),
        startExampleServer(project.dir, { REDIS_URL: redisUrl }),
      ]);
      const servers = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      try {
        const failed = started.find((r) => r.status === 'rejected');
        if (failed) throw failed.reason;
        const [a, b] = servers as [ExampleServer, ExampleServer];
        const events = await follow(`${b.url}/api/repositories/42/events`, completed, () => startTask(a.url));
        expect(summary(events)).toEqual(ONE_TASK);
      } finally {
        await Promise.all(servers.map((server) => server.stop()));
      }
    }, 30_000);

    it('a task runs to its end while Redis is unresponsive; its events follow, in order, once it is back', async () => {
      const app = await startExampleServer(project.dir, {
        REDIS_URL: redisUrl,
        DATABASE_FILE: join(project.dir, 'outage.db'),
      });
      const db = new Database(join(project.dir, 'outage.db'), { readonly: true });
      try {
        const { position } = (await (await fetch(`${app.url}/api/repositories/42`)).json()) as {
          position: string;
        };
        redis.kill('SIGSTOP'); // every publish now waits, then fails after publishTimeoutMs
        const task = (await (await startTask(app.url)).json()) as { id: string };
        const statusOf = () =>
          (db.prepare('SELECT status FROM tasks WHERE id = ?').get(task.id) as { status: string }).status;
        for (let i = 0; i < 200 && statusOf() !== 'completed'; i++)
          await new Promise((r) => setTimeout(r, 50));
        expect(statusOf()).toBe('completed'); // committed with the bus down
        const waiting = db.prepare('SELECT count(*) AS n FROM repopulse_outbox WHERE delivered_at IS NULL');
        expect((waiting.get() as { n: number }).n).toBe(6); // its events, in the database
        redis.kill('SIGCONT');
        const events = await follow(
          `${app.url}/api/repositories/42/events?last_event_id=${position}`,
          (e) => completed(e) && e.data.task_id === task.id,
        );
        expect(summary(events.filter((e) => e.data.task_id === task.id))).toEqual(ONE_TASK);
      } finally {
        redis.kill('SIGCONT');
        db.close();
        await app.stop();
      }
    }, 60_000);
  });
});

/** Runs a command to its end; resolves with its exit code and output. */
function run(
  command: string,
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
