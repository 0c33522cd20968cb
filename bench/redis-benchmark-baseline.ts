import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

/**
 * The Lua `redis-benchmark` runs: one event per call, `XADD MAXLEN ~` then `PUBLISH` of
 * `<id> <json>` (KEYS[1] stream · ARGV channel, MAXLEN, TTL, event id, JSON).
 */
export const REFERENCE_SCRIPT = `
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'i', ARGV[4], 'e', ARGV[5])
redis.call('PUBLISH', ARGV[1], id .. ' ' .. ARGV[5])
return id
`;

/** Arguments for the private `redis-server` a baseline runs on: no Pub/Sub output limit (see below). */
export const BASELINE_SERVER_ARGS = [
  // The redis-cli subscriber may fall behind on a loaded machine: Redis keeps its messages
  // (instead of dropping it at the default pubsub limit), and a round lasts until it has them.
  '--client-output-buffer-limit',
  'pubsub 0 0 0',
];

/** One round of the baseline: calls (= events), wall seconds, CPU seconds of its processes. */
export interface BaselineRun {
  events: number;
  seconds: number;
  /** CPU seconds of `redis-benchmark`. */
  benchmarkCpu: number;
  /** CPU seconds of the `redis-cli` subscriber (NaN without `/proc`). */
  subscriberCpu: number;
}

/** The `redis-benchmark` baseline, set up on one Redis: {@link startBaseline}. */
export interface Baseline {
  /** Runs `calls` events and waits until the subscriber has every message. */
  run(calls: number): Promise<BaselineRun>;
  /** Ends the subscriber. */
  stop(): void;
}

/**
 * The baseline the Redis bus is measured against: `redis-benchmark -P 16 -c 50` calling
 * {@link REFERENCE_SCRIPT} by `EVALSHA` once per event (`json`, the size of an app's event) on the
 * Redis at `port`, while `redis-cli subscribe` (a separate process that is not Node) receives every
 * message. A round lasts until Redis has sent the subscriber everything, as a bus round lasts
 * until its subscriber has every event.
 */
export async function startBaseline(port: number, admin: Redis, json: string): Promise<Baseline> {
  const channel = '{reference}';
  const sha = createHash('sha1').update(REFERENCE_SCRIPT).digest('hex');
  await admin.script('LOAD', REFERENCE_SCRIPT);
  const subscriber = await startRedisCliSubscriber(port, channel, admin);
  const id = (JSON.parse(json) as { id: string }).id;
  return {
    async run(calls) {
      const subscriberBefore = subscriber.cpuSeconds();
      const run = await redisBenchmark(port, calls, [
        'EVALSHA',
        sha,
        '1',
        channel,
        channel,
        '1000',
        '0',
        id,
        json,
      ]);
      const start = process.hrtime.bigint();
      await subscriber.drained();
      return {
        ...run,
        seconds: run.seconds + Number(process.hrtime.bigint() - start) / 1e9,
        subscriberCpu: subscriber.cpuSeconds() - subscriberBefore,
      };
    },
    stop: () => subscriber.stop(),
  };
}

/**
 * Runs `redis-benchmark` once with `command` (through bash, whose `times` reports the CPU time the
 * benchmark used) and returns the calls it ran, the time its own figure implies and its CPU seconds.
 */
function redisBenchmark(
  port: number,
  calls: number,
  command: string[],
): Promise<{ events: number; seconds: number; benchmarkCpu: number }> {
  const args = ['-h', '127.0.0.1', '-p', String(port), '-P', '16', '-c', '50', '-n', String(calls), '-q'];
  const script = 'redis-benchmark "$@" && times';
  return new Promise((resolve, reject) => {
    execFile(
      'bash',
      ['-c', script, 'bench', ...args, ...command],
      { maxBuffer: 1 << 20 },
      (error, stdout) => {
        if (error) return reject(error);
        const rate = /([\d.]+) requests per second/.exec(stdout);
        // `times`: the shell's user/sys on one line, then its children's: `0m1.234s 0m0.567s`.
        const children = /(\d+)m([\d.]+)s (\d+)m([\d.]+)s\s*$/.exec(stdout.trim());
        if (!rate || !children) return reject(new Error(`unexpected redis-benchmark output: ${stdout}`));
        const [, um, us, sm, ss] = children.map(Number) as number[];
        resolve({
          events: calls,
          seconds: calls / Number(rate[1]),
          benchmarkCpu: um! * 60 + us! + sm! * 60 + ss!,
        });
      },
    );
  });
}

/**
 * `redis-cli subscribe <channel>` as the baseline's subscriber: a separate process that is not
 * Node (its output goes to `/dev/null`, so this process does no work for it). Its CPU time is read
 * from `/proc`; `drained` resolves once Redis has sent it everything (and fails when Redis dropped
 * it).
 */
async function startRedisCliSubscriber(
  port: number,
  channel: string,
  admin: Redis,
): Promise<{
  cpuSeconds(): number;
  drained(): Promise<void>;
  stop(): void;
}> {
  const child: ChildProcess = spawn('redis-cli', ['-p', String(port), 'subscribe', channel], {
    stdio: 'ignore',
  });
  const stillSubscribed = async () => {
    const [, count] = (await admin.pubsub('NUMSUB', channel)) as [string, number];
    return Number(count) === 1;
  };
  for (let attempt = 0; !(await stillSubscribed()); attempt++) {
    if (attempt > 500) throw new Error('redis-cli subscribe did not subscribe');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const ticks = 100; // USER_HZ on Linux
  return {
    cpuSeconds() {
      try {
        const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
        return (Number(fields[11]) + Number(fields[12])) / ticks;
      } catch {
        return Number.NaN;
      }
    },
    async drained() {
      // Until Redis holds no unsent output for it (CLIENT LIST: `obl` buffer bytes, `oll` list items).
      for (;;) {
        const list = (await admin.call('CLIENT', 'LIST', 'TYPE', 'pubsub')) as string;
        const line = list.split('\n').find((l) => l.includes('cmd=subscribe'));
        if (!line) throw new Error('Redis dropped the redis-cli subscriber');
        if (/ obl=0 /.test(line) && / oll=0 /.test(line)) return;
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    },
    stop: () => void child.kill('SIGKILL'),
  };
}
