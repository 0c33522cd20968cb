import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRedisBus } from '@repopulse/bus-redis';
import { freePort, redisClusterMissing, spawnRedis } from '@repopulse/test-support';
import { Redis } from 'ioredis';
import { appEvent } from './app-event';
import { median, num, ratio, runStamp, spread, table } from './markdown';
import { BASELINE_SERVER_ARGS, startBaseline } from './redis-benchmark-baseline';

/** Options of {@link benchBusThroughput}. */
export interface BusThroughputOptions {
  /** Fewer and smaller rounds, for a quick look while developing. */
  quick: boolean;
}

/** Publishes in flight: a new one starts as each one resolves. */
const IN_FLIGHT = 2000;

interface Row {
  name: string;
  /** Events per second of each round. */
  rates: number[];
  /** CPU µs per event of the publishing client (this process, or redis-benchmark) per round. */
  clientCpu: number[];
  /** CPU µs per event of redis-server per round. */
  serverCpu: number[];
  /** CPU µs per event of the subscriber when it is a separate process (redis-cli), per round. */
  subscriberCpu: number[];
}

/** One measured round: events, wall seconds, CPU seconds of the baseline's processes. */
interface Run {
  events: number;
  seconds: number;
  /** redis-benchmark's. */
  childCpu?: number;
  /** redis-cli's. */
  subscriberCpu?: number;
}

/**
 * Publish → delivery to one live subscriber on a private `redis-server`, as an app publishes:
 * every publish is a fresh `createEvent` with a realistic payload, at most 2,000 in flight.
 * Side by side, in interleaved rounds: `@repopulse/bus-redis` (the subscriber is a bus
 * subscription in the same process), a naive `await XADD; await PUBLISH` publisher, and
 * `redis-benchmark -P 16 -c 50` running one XADD + PUBLISH Lua call per event by `EVALSHA` while
 * `redis-cli subscribe` (not a Node process) receives every message. Reports events/s (median,
 * min–max), CPU per event of the publisher, of redis-server and of the `redis-cli` subscriber,
 * and the bus's ratio to `redis-benchmark` per round.
 */
export async function benchBusThroughput(options: BusThroughputOptions): Promise<string> {
  const title = '## Bus publish throughput: publish → delivery to one subscriber';
  // The same tools as a local cluster: redis-server, and redis-cli (redis-benchmark comes with them).
  const missing = redisClusterMissing();
  if (missing) return `${title}\n\nSkipped: ${missing}.\n`;
  const stamp = runStamp();
  const rounds = options.quick ? 3 : 7;
  const busEvents = options.quick ? 10_000 : 20_000;
  const naiveEvents = 2000;
  const benchmarkCalls = options.quick ? 50_000 : 200_000;
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'repopulse-bench-redis-'));
  const server = await spawnRedis(port, [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    ...BASELINE_SERVER_ARGS,
  ]);
  const url = `redis://127.0.0.1:${port}`;
  const admin = new Redis(url);
  const bus = createRedisBus({ url });
  const listener = admin.duplicate();
  const naiveKey = '{naive}';
  const sample = JSON.stringify(appEvent(0));
  let received = 0;
  const waitFor = (target: number) =>
    new Promise<void>((resolve) => {
      const check = () => (received >= target ? resolve() : setImmediate(check));
      check();
    });
  const busSubscription = await bus.subscribe('throughput', () => void received++);
  await listener.subscribe(naiveKey);
  listener.on('message', () => void received++);
  const baseline = await startBaseline(port, admin, sample);
  let serial = 0;

  const timed = async (run: () => Promise<void>, events: number): Promise<Run> => {
    const start = process.hrtime.bigint();
    await run();
    return { events, seconds: Number(process.hrtime.bigint() - start) / 1e9 };
  };
  const redisCpu = async () => {
    const info = await admin.info('cpu');
    const read = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0);
    return read('used_cpu_user') + read('used_cpu_sys');
  };
  const variants: { name: string; external: boolean; run: () => Promise<Run> }[] = [
    {
      name: '`@repopulse/bus-redis`: `createEvent` + `publish`, 2,000 in flight',
      external: false,
      run: () =>
        timed(async () => {
          const start = received;
          let issued = 0;
          await new Promise<void>((resolve, reject) => {
            let settled = 0;
            const next = (): void => {
              if (issued === busEvents) return;
              issued++;
              bus.publish('throughput', appEvent(serial++)).then(() => {
                if (++settled === busEvents) resolve();
                else next();
              }, reject);
            };
            for (let i = 0; i < IN_FLIGHT; i++) next();
          });
          await waitFor(start + busEvents);
        }, busEvents),
    },
    {
      name: 'naive: `createEvent`, `await XADD; await PUBLISH` per event',
      external: false,
      run: () =>
        timed(async () => {
          const start = received;
          for (let i = 0; i < naiveEvents; i++) {
            const event = appEvent(serial++);
            const json = JSON.stringify(event);
            const id = await admin.xadd(naiveKey, 'MAXLEN', '~', '1000', '*', 'i', event.id, 'e', json);
            await admin.publish(naiveKey, `${id} ${json}`);
          }
          await waitFor(start + naiveEvents);
        }, naiveEvents),
    },
    {
      name: '`redis-benchmark -P 16 -c 50`: `EVALSHA` of XADD + PUBLISH per event, `redis-cli subscribe` listening',
      external: true,
      run: async () => {
        const run = await baseline.run(benchmarkCalls);
        return {
          events: run.events,
          seconds: run.seconds,
          childCpu: run.benchmarkCpu,
          subscriberCpu: run.subscriberCpu,
        };
      },
    },
  ];
  const rows: Row[] = variants.map((v) => ({
    name: v.name,
    rates: [],
    clientCpu: [],
    serverCpu: [],
    subscriberCpu: [],
  }));
  try {
    for (const variant of variants) await variant.run(); // warm-up
    for (let round = 0; round < rounds; round++) {
      for (const [i, variant] of variants.entries()) {
        const row = rows[i]!;
        const [ownBefore, redisBefore] = [process.cpuUsage(), await redisCpu()];
        const result = await variant.run();
        const own = process.cpuUsage(ownBefore);
        const micros = (seconds: number) => (seconds * 1e6) / result.events;
        row.rates.push(result.events / result.seconds);
        row.clientCpu.push(
          variant.external ? micros(result.childCpu ?? Number.NaN) : (own.user + own.system) / result.events,
        );
        row.serverCpu.push(micros((await redisCpu()) - redisBefore));
        if (variant.external) row.subscriberCpu.push(micros(result.subscriberCpu ?? Number.NaN));
      }
    }
  } finally {
    await busSubscription.unsubscribe();
    await bus.close();
    listener.disconnect();
    baseline.stop();
    admin.disconnect();
    await server.stop('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
  return renderSection(`${title}\n\n${stamp}`, rows, {
    rounds,
    busEvents,
    naiveEvents,
    benchmarkCalls,
    bytes: sample.length,
  });
}

function renderSection(
  title: string,
  rows: Row[],
  setting: { rounds: number; busEvents: number; naiveEvents: number; benchmarkCalls: number; bytes: number },
): string {
  const [bus, naive, reference] = rows as [Row, Row, Row];
  const perRound = bus.rates.map((rate, i) => rate / reference.rates[i]!);
  const cpu = (values: number[]) => (values.length === 0 ? '—' : num(median(values), 1));
  const busCpu = median(bus.clientCpu.map((c, i) => c + bus.serverCpu[i]!));
  const referenceCpu = median(
    reference.clientCpu.map((c, i) => c + reference.serverCpu[i]! + reference.subscriberCpu[i]!),
  );
  return [
    title,
    '',
    `${setting.rounds} interleaved rounds on a private \`redis-server\` started by the bench. As an app publishes, every`,
    'event is a fresh `createEvent` (`task.progress` with a message that differs per event, repo, task and',
    `request ids; ${setting.bytes} bytes of JSON). A bus round is ${num(setting.busEvents)} events with at most ${num(IN_FLIGHT)} publishes`,
    'in flight (a new one as each resolves), delivered to one bus subscription in the same process; a',
    `naive round ${num(setting.naiveEvents)} events; a \`redis-benchmark\` round ${num(setting.benchmarkCalls)} calls of the same-sized event,`,
    'each delivered to `redis-cli subscribe` (a separate, non-Node process). Median and min–max over',
    'rounds; CPU per event in µs: the publisher (this Node process, which for the bus also creates and',
    'receives every event; `redis-benchmark` for the baseline), redis-server, and the `redis-cli` subscriber.',
    '',
    table([
      [
        'variant',
        'events/s (median)',
        'min–max',
        'publisher CPU µs/event',
        'redis-server µs/event',
        'subscriber µs/event',
      ],
      ...rows.map((row) => [
        row.name,
        num(median(row.rates)),
        spread(row.rates),
        cpu(row.clientCpu),
        cpu(row.serverCpu),
        row === reference ? cpu(row.subscriberCpu) : 'in the publisher',
      ]),
    ]),
    '',
    `- bus-redis ÷ redis-benchmark, events/s per round: ${perRound.map((r) => r.toFixed(2)).join(', ')} (median **${ratio(median(perRound))}**, min–max ${ratio(Math.min(...perRound))}–${ratio(Math.max(...perRound))}).`,
    `- CPU per event of every process a variant runs on, medians: bus-redis ${num(busCpu, 1)} µs (this process + redis-server), redis-benchmark ${num(referenceCpu, 1)} µs (redis-benchmark + redis-server + redis-cli); as a ratio of events per CPU-second, which depends much less on what else the machine runs than events/s: **${ratio(referenceCpu / busCpu)}**.`,
    `- bus-redis ÷ naive, events/s: ${ratio(median(bus.rates) / median(naive.rates))}.`,
    '',
  ].join('\n');
}
