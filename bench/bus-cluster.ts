import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRedisBus, type RedisBus } from '@repopulse/bus-redis';
import { freePort, redisClusterMissing, spawnRedis, startRedisCluster } from '@repopulse/test-support';
import { Redis } from 'ioredis';
import { appEvent } from './app-event';
import { median as medianOf, num, runStamp } from './markdown';
import { BASELINE_SERVER_ARGS, startBaseline } from './redis-benchmark-baseline';

/** Options of {@link benchBusCluster}. */
export interface BusClusterOptions {
  /** Fewer and smaller rounds, for a quick look while developing. */
  quick: boolean;
}

/** Publishes in flight (a new one as each resolves), spread over {@link TOPICS} topics. */
const IN_FLIGHT = 2000;
/** Topics: enough that every shard of a 3-primary cluster owns some. */
const TOPICS = 12;

interface Variant {
  name: string;
  bus: RedisBus;
  /** Events per second of each round. */
  samples: number[];
  /** CPU µs per event of this process (creating, publishing and receiving) in each round. */
  cpu: number[];
}

/**
 * Publish → delivery on a Redis Cluster against one Redis, side by side, with the workload of the
 * throughput section: every publish a fresh `createEvent`, 2,000 in flight (a new one as each
 * resolves), here spread over 12 topics with one live subscriber each in this process; on a
 * private `redis-server` and on a private local cluster (3 primaries + 3 replicas, same binary,
 * same machine), the cluster both with `replicaAcks: 1` (the cluster default: each batch
 * confirmed by a replica with `WAIT`) and `replicaAcks: 0`; and the same `redis-benchmark`
 * baseline as the throughput section on the private `redis-server`. Interleaved rounds; the
 * section gives each variant's median events/s, the spread (min–max) over rounds, this process's
 * CPU per event, and the ratios to the single Redis and to `redis-benchmark` (per round, median).
 *
 * On a machine with few cores the cluster's six processes share them with the benchmark, so the
 * ratio shows what cluster mode costs per event here, not how a cluster on separate hosts scales.
 */
export async function benchBusCluster(options: BusClusterOptions): Promise<string> {
  const title = '## Bus publish → delivery: Redis Cluster vs one Redis';
  const missing = redisClusterMissing();
  if (missing) return `${title}\n\nSkipped: ${missing}.\n`;
  const stamp = runStamp();
  const rounds = options.quick ? 3 : 7;
  const events = options.quick ? 10_000 : 20_000;
  const benchmarkCalls = options.quick ? 50_000 : 200_000;
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'repopulse-bench-redis-'));
  const single = await spawnRedis(port, [
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
  const admin = new Redis(port, '127.0.0.1');
  const baseline = await startBaseline(port, admin, JSON.stringify(appEvent(0)));
  const cluster = await startRedisCluster();
  const variants: Variant[] = [
    {
      name: 'one Redis (url)',
      bus: createRedisBus({ url: `redis://127.0.0.1:${port}` }),
      samples: [],
      cpu: [],
    },
    {
      name: 'cluster, replicaAcks 1 (default)',
      bus: createRedisBus({ cluster: cluster.startupNodes }),
      samples: [],
      cpu: [],
    },
    {
      name: 'cluster, replicaAcks 0',
      bus: createRedisBus({ cluster: cluster.startupNodes, replicaAcks: 0 }),
      samples: [],
      cpu: [],
    },
  ];
  const reference: number[] = [];
  const topics = Array.from({ length: TOPICS }, (_, i) => `bench-cluster:${i}`);
  let received = 0;
  try {
    for (const { bus } of variants) {
      for (const topic of topics) await bus.subscribe(topic, () => void received++);
    }
    let serial = 0;
    const round = async (bus: RedisBus) => {
      const target = received + events;
      const [start, cpu] = [process.hrtime.bigint(), process.cpuUsage()];
      let issued = 0;
      await new Promise<void>((resolve, reject) => {
        let settled = 0;
        const next = (): void => {
          if (issued === events) return;
          const n = serial++;
          issued++;
          bus.publish(topics[n % TOPICS]!, appEvent(n)).then(() => {
            if (++settled === events) resolve();
            else next();
          }, reject);
        };
        for (let i = 0; i < IN_FLIGHT; i++) next();
      });
      await new Promise<void>((resolve) => {
        const check = () => (received >= target ? resolve() : setImmediate(check));
        check();
      });
      const used = process.cpuUsage(cpu);
      return {
        rate: events / (Number(process.hrtime.bigint() - start) / 1e9),
        cpu: (used.user + used.system) / events,
      };
    };
    const runBaseline = async () => {
      const run = await baseline.run(benchmarkCalls);
      return run.events / run.seconds;
    };
    for (const variant of variants) await round(variant.bus); // warm-up
    await runBaseline();
    for (let r = 0; r < rounds; r++) {
      for (const variant of variants) {
        const { rate, cpu } = await round(variant.bus);
        variant.samples.push(rate);
        variant.cpu.push(cpu);
      }
      reference.push(await runBaseline());
    }
  } finally {
    await Promise.all(variants.map((v) => v.bus.close()));
    baseline.stop();
    admin.disconnect();
    await cluster.destroy();
    await single.stop('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
  const base = medianOf(variants[0]!.samples);
  const k = (n: number) => `${(n / 1000).toFixed(1)}k`;
  const versusReference = (samples: number[]) =>
    `${medianOf(samples.map((rate, i) => rate / reference[i]!)).toFixed(2)}×`;
  const lines = [
    title,
    '',
    stamp,
    '',
    `${num(events)} events per round with ${num(IN_FLIGHT)} publishes in flight over ${TOPICS} topics, each a fresh \`createEvent\` (the \`task.progress\` of the throughput section), one subscriber per topic in this process; next to them, the throughput section's \`redis-benchmark\` baseline (${num(benchmarkCalls)} calls, \`redis-cli subscribe\` listening) on the one Redis. ${rounds} interleaved rounds (median, min–max; ratios to \`redis-benchmark\` are medians of per-round ratios). CPU per event: this process, which creates, publishes and receives every event.`,
    '',
    '| variant | events/s | spread | CPU µs/event | × one Redis | × redis-benchmark |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...variants.map((v) => {
      const m = medianOf(v.samples);
      return `| ${v.name} | ${k(m)} | ${k(Math.min(...v.samples))}–${k(Math.max(...v.samples))} | ${medianOf(v.cpu).toFixed(1)} | ${(m / base).toFixed(2)}× | ${versusReference(v.samples)} |`;
    }),
    `| \`redis-benchmark -P 16 -c 50\` on the one Redis | ${k(medianOf(reference))} | ${k(Math.min(...reference))}–${k(Math.max(...reference))} | — | — | 1.00× |`,
    '',
  ];
  return lines.join('\n');
}
