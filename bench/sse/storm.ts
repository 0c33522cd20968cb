import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { num, table } from '../markdown';
import type { BenchContext, BenchSection } from '../scenario';
import { fitClients, withPair } from './pair';

/** A throwaway redis-server (its INFO commandstats count only this benchmark), or undefined. */
async function ownRedis(): Promise<{ url: string; stop(): void } | undefined> {
  try {
    execFileSync('bash', ['-c', 'command -v redis-server'], { stdio: 'ignore' });
  } catch {
    return undefined;
  }
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  const dir = mkdtempSync(join(tmpdir(), 'repopulse-bench-redis-'));
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const url = `redis://127.0.0.1:${port}`;
  const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => 50, maxRetriesPerRequest: null });
  probe.on('error', () => undefined);
  await probe.connect().catch(() => undefined);
  await probe.ping();
  probe.disconnect();
  return {
    url,
    stop() {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Calls per command from INFO commandstats. */
async function commandCalls(url: string): Promise<Record<string, number>> {
  const redis = new Redis(url);
  const info = await redis.info('commandstats');
  redis.disconnect();
  const calls: Record<string, number> = {};
  for (const m of info.matchAll(/cmdstat_([a-z|]+):calls=(\d+)/g)) calls[m[1] as string] = Number(m[2]);
  return calls;
}

/** Scenario 5: N clients resuming from one position at once on the Redis bus. */
export async function reconnectStorm({ quick, log, redisUrl }: BenchContext): Promise<BenchSection> {
  const own = await ownRedis();
  const url = own?.url ?? redisUrl;
  const sizes = quick ? [100] : [2000, fitClients(10_000, log).clients];
  const backlog = 300;
  const rows: (string | number)[][] = [];
  let worstReads = 0;
  try {
    for (const clients of sizes) {
      await withPair(
        'sse-express',
        async ({ server, load }) => {
          const { first } = await server.call<{ first: string }>('publish', { count: backlog, bytes: 100 });
          const before = await commandCalls(url);
          await load.call('reset');
          const started = performance.timeOrigin + performance.now();
          const done = load.call<{ at: number; events: number; timedOut?: boolean }>('expect', {
            total: clients * (backlog - 1),
          });
          await load.call('connect', { n: clients, lastEventId: first, concurrency: 1000 });
          const { at, events, timedOut } = await done;
          await new Promise((r) => setTimeout(r, 300)); // any duplicate would show up now
          const { events: settled } = await load.call<{ events: number }>('expect', { total: 0 });
          const after = await commandCalls(url);
          const { handler } = await server.call<{ handler: { catchUpReads: number } }>('stats');
          const delta = (name: string) => (after[name] ?? 0) - (before[name] ?? 0);
          worstReads = Math.max(worstReads, handler.catchUpReads);
          const exact = !timedOut && events === clients * (backlog - 1) && settled === events;
          rows.push([
            num(clients),
            num(at - started),
            String(handler.catchUpReads),
            String(delta('xrange')),
            String(delta('xrevrange')),
            exact ? 'yes' : `**no** (${num(settled)} of ${num(clients * (backlog - 1))})`,
          ]);
          log(
            `storm ${clients}: ${num(at - started)} ms, ${handler.catchUpReads} catch-up reads, XRANGE +${delta('xrange')}`,
          );
        },
        { BENCH_REDIS_URL: url },
      );
    }
  } finally {
    own?.stop();
  }
  return {
    markdown: [
      '## 5. Reconnect storm (Redis bus)',
      '',
      `The topic holds ${backlog} events; N clients connect at once (1,000 in flight at a time) with`,
      '`Last-Event-ID` at the first one, to a handler with no stream open yet (as after an instance',
      `died): time until every client has all ${backlog - 1} events, the handler's bus catch-up reads, and`,
      `Redis commands from \`INFO commandstats\` of a redis-server of its own${own ? '' : ' (**none found: the shared Redis was used, so the counts include other clients**)'}.`,
      "A catch-up read is one replay subscription; each reads history with the bus's read script",
      '(XRANGE pages inside it), so XRANGE counts pages, not clients.',
      '',
      table([
        [
          'clients',
          'ms until all caught up',
          'catch-up reads',
          'XRANGE calls',
          'XREVRANGE calls',
          'every client exact',
        ],
        ...rows,
      ]),
      '',
      `Target: ≤ 10 history reads per topic per storm (measured at most ${worstReads}).`,
    ].join('\n'),
    bars: [{ label: 'storm: catch-up reads ÷ 10', value: worstReads / 10, target: 1, better: 'lower' }],
  };
}
