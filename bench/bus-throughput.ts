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
/** Events per bus round: bursts of {@link IN_FLIGHT}, or a window of {@link IN_FLIGHT} sliding over them. */
const BUS_ROUND = 10_000;
const BURSTS = BUS_ROUND / IN_FLIGHT;

interface Row {
  name: string;
  /** Events per second of each round. */
  samples: number[];
  /** Events per CPU-second of each round: this process, redis-server and redis-benchmark together. */
  efficiency: number[];
}

/** One measured run: events, wall seconds, CPU seconds of child processes (redis-benchmark). */
interface Run {
  events: number;
  seconds: number;
  childCpu: number;
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

  const timed = async (run: () => Promise<void>, events: number): Promise<Run> => {
    const start = process.hrtime.bigint();
    await run();
    return { events, seconds: Number(process.hrtime.bigint() - start) / 1e9, childCpu: 0 };
  };
  const redisCpu = async () => {
    const info = await admin.info('cpu');
    const read = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0);
    return read('used_cpu_user') + read('used_cpu_sys');
  };
  const measure = async (run: () => Promise<Run>) => {
    const [ownBefore, redisBefore] = [process.cpuUsage(), await redisCpu()];
    const result = await run();
    const own = process.cpuUsage(ownBefore);
    const cpu = (own.user + own.system) / 1e6 + ((await redisCpu()) - redisBefore) + result.childCpu;
    return { rate: result.events / result.seconds, efficiency: result.events / cpu };
  };
  const variants: { name: string; run: () => Promise<Run> }[] = [
    {
      name: '`@repopulse/bus-redis`, a window of 2,000 publishes in flight',
      run: () =>
        timed(async () => {
          const start = received;
          let issued = 0;
          await new Promise<void>((resolve, reject) => {
            let settled = 0;
            const next = (): void => {
              if (issued === BUS_ROUND) return;
              issued++;
              bus.publish('throughput', event).then(() => {
                if (++settled === BUS_ROUND) resolve();
                else next();
              }, reject);
            };
            for (let i = 0; i < IN_FLIGHT; i++) next();
          });
          await waitFor(start + BUS_ROUND);
        }, BUS_ROUND),
    },
    {
      name: '`@repopulse/bus-redis`, bursts of 2,000 concurrent publishes',
      run: () =>
        timed(async () => {
          for (let burst = 0; burst < BURSTS; burst++) {
            const start = received;
            await Promise.all(Array.from({ length: IN_FLIGHT }, () => bus.publish('throughput', event)));
            await waitFor(start + IN_FLIGHT);
          }
        }, BUS_ROUND),
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
  const rows: Row[] = variants.map((v) => ({ name: v.name, samples: [], efficiency: [] }));
  try {
    for (const variant of variants) await variant.run(); // warm-up
    for (let round = 0; round < rounds; round++) {
      for (const [i, variant] of variants.entries()) {
        const { rate, efficiency } = await measure(variant.run);
        rows[i]!.samples.push(rate);
        rows[i]!.efficiency.push(efficiency);
      }
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
  const [windowed, bursts, naive, reference] = rows as [Row, Row, Row, Row];
  const perRound = (a: number[], b: number[]) => a.map((x, i) => x / b[i]!);
  const list = (values: number[]) => values.map((r) => r.toFixed(2)).join(', ');
  const versus = (bus: Row, label: string) => {
    const rate = perRound(bus.samples, reference.samples);
    const cpu = perRound(bus.efficiency, reference.efficiency);
    return `- ${label} ÷ redis-benchmark — events/s per round: ${list(rate)} (median **${median(rate).toFixed(2)}×**); events per CPU-second per round: ${list(cpu)} (median **${median(cpu).toFixed(2)}×**).`;
  };
  const lines = [
    '## Bus publish throughput: publish → delivery to one subscriber',
    '',
    `${setting.rounds} interleaved rounds on ${setting.redis}; a bus round is ${BUS_ROUND.toLocaleString('en-US')} events — published with at most ${IN_FLIGHT.toLocaleString('en-US')} in flight (a new publish as each one resolves), or in bursts of ${IN_FLIGHT.toLocaleString('en-US')} concurrent publishes each waited for until delivered —, a naive round ${IN_FLIGHT.toLocaleString('en-US')} events, a \`redis-benchmark\` round ${setting.benchmarkOps.toLocaleString('en-US')} calls (one subscriber listening). Median and min–max over rounds. "Events per CPU-second" counts the CPU time of this process, redis-server and redis-benchmark together, so it depends much less on what else the machine runs than events/s.`,
    '',
    '| variant | events/s (median) | min–max | events per CPU-second (median) |',
    '| --- | ---: | ---: | ---: |',
    ...rows.map(
      (row) =>
        `| ${row.name} | ${format(median(row.samples))} | ${format(Math.min(...row.samples))}–${format(Math.max(...row.samples))} | ${format(median(row.efficiency))} |`,
    ),
    '',
    versus(windowed, 'bus-redis, window of 2,000'),
    versus(bursts, 'bus-redis, bursts of 2,000'),
    `- bus-redis ÷ naive, events/s: window ${(median(windowed.samples) / median(naive.samples)).toFixed(2)}×, bursts ${(median(bursts.samples) / median(naive.samples)).toFixed(2)}×.`,
    '',
  ];
  return lines.join('\n');
}

/**
 * Runs `redis-benchmark` once with `command` (through bash, whose `times` reports the CPU time the
 * benchmark used) and returns the events it ran, its own throughput figure and its CPU seconds.
 */
function redisBenchmark(host: string, port: string, ops: number, command: string[]): Promise<Run> {
  const args = ['-h', host, '-p', port, '-P', '16', '-c', '50', '-n', String(ops), '-q', ...command];
  const script = 'redis-benchmark "$@" && times';
  return new Promise((resolve, reject) => {
    execFile('bash', ['-c', script, 'bench', ...args], { maxBuffer: 1 << 20 }, (error, stdout) => {
      if (error) return reject(error);
      const rate = /([\d.]+) requests per second/.exec(stdout);
      // `times`: the shell's user/sys on one line, then its children's: `0m1.234s 0m0.567s`.
      const children = /(\d+)m([\d.]+)s (\d+)m([\d.]+)s\s*$/.exec(stdout.trim());
      if (!rate || !children) return reject(new Error(`unexpected redis-benchmark output: ${stdout}`));
      const [, um, us, sm, ss] = children.map(Number) as number[];
      resolve({
        events: ops,
        seconds: ops / Number(rate[1]),
        childCpu: um! * 60 + us! + sm! * 60 + ss!,
      });
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
