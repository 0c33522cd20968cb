import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRedisBus } from '@repopulse/bus-redis';
import { createEvent } from '@repopulse/events-core';
import { Redis } from 'ioredis';

/** Options of {@link benchBusThroughput}. */
export interface BusThroughputOptions {
  /** Fewer and smaller rounds, for a quick look while developing. */
  quick: boolean;
  /** Redis to use when no private `redis-server` can be started (keys under a unique prefix). */
  redisUrl: string;
}

/**
 * The Lua the issue measured `redis-benchmark` with: one event per call, `XADD MAXLEN ~` then
 * `PUBLISH` of `<id> <json>` (KEYS[1] stream · ARGV channel, MAXLEN, TTL, event id, JSON).
 */
const REFERENCE_SCRIPT = `
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'i', ARGV[4], 'e', ARGV[5])
redis.call('PUBLISH', ARGV[1], id .. ' ' .. ARGV[5])
return id
`;

const IN_FLIGHT = 2000;
/** Bursts of {@link IN_FLIGHT} publishes per bus round. */
const BURSTS = 5;

interface Row {
  name: string;
  samples: number[];
}

/**
 * Publish → delivery to one live subscriber with 2,000 publishes in flight, on one private Redis:
 * `@repopulse/bus-redis`, a naive `await XADD; await PUBLISH` publisher, and `redis-benchmark`
 * (`-P 16`, 50 clients) running the same XADD + PUBLISH Lua by `EVALSHA` while one subscriber
 * listens. The three run in interleaved rounds; the section gives each one's median events/s, the
 * spread (min–max) over rounds, and the bus's ratio to the other two, measured side by side.
 */
export async function benchBusThroughput(options: BusThroughputOptions): Promise<string> {
  const rounds = options.quick ? 3 : 7;
  const benchmarkOps = options.quick ? 50_000 : 200_000;
  const server = await startPrivateRedis();
  const url = server?.url ?? options.redisUrl;
  const prefix = `bench-throughput:${process.pid}:${Date.now().toString(36)}:`;
  const admin = new Redis(url);
  const bus = createRedisBus({ url, keyPrefix: prefix });
  const listener = admin.duplicate();
  const event = createEvent(
    'task.progress',
    { phase: 'llm', percent: 40, message: 'x'.repeat(200) },
    { repo_id: 1 },
  );
  const json = JSON.stringify(event);
  const naiveKey = `${prefix}{naive}`;
  const referenceKey = `${prefix}{reference}`;
  let received = 0;
  const waitFor = (target: number) =>
    new Promise<void>((resolve) => {
      const check = () => (received >= target ? resolve() : setImmediate(check));
      check();
    });
  const busSubscription = await bus.subscribe('throughput', () => void received++);
  await listener.subscribe(naiveKey, referenceKey);
  listener.on('message', () => void received++);
  const sha = createHash('sha1').update(REFERENCE_SCRIPT).digest('hex');
  await admin.script('LOAD', REFERENCE_SCRIPT);
  const port = new URL(url).port || '6379';
  const host = new URL(url).hostname;

  const timed = async (run: () => Promise<void>, events: number) => {
    const start = process.hrtime.bigint();
    await run();
    return events / (Number(process.hrtime.bigint() - start) / 1e9);
  };
  const variants: { name: string; run: () => Promise<number> }[] = [
    {
      name: '`@repopulse/bus-redis`, 2,000 publishes in flight',
      run: () =>
        timed(async () => {
          for (let burst = 0; burst < BURSTS; burst++) {
            const start = received;
            await Promise.all(Array.from({ length: IN_FLIGHT }, () => bus.publish('throughput', event)));
            await waitFor(start + IN_FLIGHT);
          }
        }, IN_FLIGHT * BURSTS),
    },
    {
      name: 'naive: `await XADD; await PUBLISH` per event',
      run: () =>
        timed(async () => {
          const start = received;
          for (let i = 0; i < IN_FLIGHT; i++) {
            const id = await admin.xadd(naiveKey, 'MAXLEN', '~', '1000', '*', 'e', json);
            await admin.publish(naiveKey, `${id} ${json}`);
          }
          await waitFor(start + IN_FLIGHT);
        }, IN_FLIGHT),
    },
    {
      name: '`redis-benchmark -P 16 -c 50` EVALSHA of the same XADD + PUBLISH',
      run: () =>
        redisBenchmark(host, port, benchmarkOps, [
          'EVALSHA',
          sha,
          '1',
          referenceKey,
          referenceKey,
          '1000',
          '0',
          event.id,
          json,
        ]),
    },
  ];
  const rows: Row[] = variants.map((v) => ({ name: v.name, samples: [] }));
  try {
    for (const variant of variants) await variant.run(); // warm-up
    for (let round = 0; round < rounds; round++) {
      for (const [i, variant] of variants.entries()) rows[i]!.samples.push(await variant.run());
    }
  } finally {
    await busSubscription.unsubscribe();
    await bus.close();
    listener.disconnect();
    if (server) {
      admin.disconnect();
      await server.stop();
    } else {
      const keys = await admin.keys(`${prefix}*`);
      if (keys.length > 0) await admin.del(...keys);
      admin.disconnect();
    }
  }
  return renderSection(rows, {
    rounds,
    benchmarkOps,
    redis: server ? 'a private `redis-server` started by the bench' : `the Redis at ${url}`,
  });
}

function renderSection(
  rows: Row[],
  setting: { rounds: number; benchmarkOps: number; redis: string },
): string {
  const [bus, naive, reference] = rows.map((row) => median(row.samples)) as [number, number, number];
  const ratios = rows[0]!.samples.map((s, i) => s / rows[2]!.samples[i]!);
  const lines = [
    '## Bus publish throughput: publish → delivery to one subscriber',
    '',
    `${setting.rounds} interleaved rounds on ${setting.redis}; a bus round is ${BURSTS} bursts of ${IN_FLIGHT.toLocaleString('en-US')} concurrent publishes, each waited for until delivered, a naive round ${IN_FLIGHT.toLocaleString('en-US')} events, a \`redis-benchmark\` round ${setting.benchmarkOps.toLocaleString('en-US')} calls. Median and min–max over rounds.`,
    '',
    '| variant | events/s (median) | min–max | bus-redis is |',
    '| --- | ---: | ---: | ---: |',
    ...rows.map((row) => {
      const m = median(row.samples);
      const spread = `${format(Math.min(...row.samples))}–${format(Math.max(...row.samples))}`;
      return `| ${row.name} | ${format(m)} | ${spread} | ${row === rows[0] ? '—' : `${(bus / m).toFixed(2)}×`} |`;
    }),
    '',
    `bus-redis ÷ redis-benchmark per round: ${ratios.map((r) => r.toFixed(2)).join(', ')} (median ${median(ratios).toFixed(2)}×); ÷ naive: ${(bus / naive).toFixed(2)}×; redis-benchmark ÷ naive: ${(reference / naive).toFixed(1)}×.`,
    '',
  ];
  return lines.join('\n');
}

/** Runs `redis-benchmark` once with `command` and returns its requests per second. */
function redisBenchmark(host: string, port: string, ops: number, command: string[]): Promise<number> {
  const args = ['-h', host, '-p', port, '-P', '16', '-c', '50', '-n', String(ops), '-q', ...command];
  return new Promise((resolve, reject) => {
    execFile('redis-benchmark', args, { maxBuffer: 1 << 20 }, (error, stdout) => {
      if (error) return reject(error);
      const match = /([\d.]+) requests per second/.exec(stdout);
      if (!match) return reject(new Error(`unexpected redis-benchmark output: ${stdout}`));
      resolve(Number(match[1]));
    });
  });
}

/** A throwaway `redis-server` on a free port (no persistence), or `undefined` without the binary. */
async function startPrivateRedis(): Promise<{ url: string; stop: () => Promise<void> } | undefined> {
  const port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
  const dir = mkdtempSync(join(tmpdir(), 'repopulse-bench-'));
  let child: ChildProcess;
  try {
    child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', ''],
      {
        stdio: 'ignore',
      },
    );
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
  const url = `redis://127.0.0.1:${port}`;
  for (let attempt = 0; ; attempt++) {
    const probe = new Redis(url, { retryStrategy: () => null, lazyConnect: true, maxRetriesPerRequest: 0 });
    probe.on('error', () => {});
    const up = await probe.connect().then(
      () => true,
      () => false,
    );
    probe.disconnect();
    if (up) break;
    if (attempt > 200) throw new Error(`redis-server on port ${port} did not start`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return {
    url,
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
const format = (n: number) => Math.round(n).toLocaleString('en-US');
