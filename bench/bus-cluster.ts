import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRedisBus, type RedisBus } from '@repopulse/bus-redis';
import { freePort, redisClusterMissing, spawnRedis, startRedisCluster } from '@repopulse/test-support';
import { appEvent } from './app-event';

/** Options of {@link benchBusCluster}. */
export interface BusClusterOptions {
  /** Fewer and smaller rounds, for a quick look while developing. */
  quick: boolean;
}

/** Publishes in flight per round, spread over {@link TOPICS} topics. */
const IN_FLIGHT = 2000;
/** Topics per round: enough that every shard of a 3-primary cluster owns some. */
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
 * Publish → delivery on a Redis Cluster against one Redis, side by side: 2,000 publishes in
 * flight over 12 topics (one live subscriber each), every one a fresh `createEvent` as an app
 * makes it, on a private `redis-server` and on a private
 * local cluster (3 primaries + 3 replicas, same binary, same machine), the cluster both with
 * `replicaAcks: 1` (the cluster default: each batch confirmed by a replica with `WAIT`) and
 * `replicaAcks: 0`. Interleaved rounds; the section gives each variant's median events/s, the
 * spread (min–max) over rounds, this process's CPU per event and the ratio to the single Redis.
 *
 * On a machine with few cores the cluster's six processes share them with the benchmark, so the
 * ratio shows what cluster mode costs per event here, not how a cluster on separate hosts scales.
 */
export async function benchBusCluster(options: BusClusterOptions): Promise<string> {
  const title = '## Bus publish → delivery: Redis Cluster vs one Redis';
  const missing = redisClusterMissing();
  if (missing) return `${title}\n\nSkipped: ${missing}.\n`;
  const rounds = options.quick ? 3 : 7;
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
  ]);
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
  const topics = Array.from({ length: TOPICS }, (_, i) => `bench-cluster:${i}`);
  let received = 0;
  try {
    for (const { bus } of variants) {
      for (const topic of topics) await bus.subscribe(topic, () => void received++);
    }
    let serial = 0;
    const round = async (bus: RedisBus) => {
      const target = received + IN_FLIGHT;
      const [start, cpu] = [process.hrtime.bigint(), process.cpuUsage()];
      await Promise.all(
        Array.from({ length: IN_FLIGHT }, (_, i) => bus.publish(topics[i % TOPICS]!, appEvent(serial++))),
      );
      await new Promise<void>((resolve) => {
        const check = () => (received >= target ? resolve() : setImmediate(check));
        check();
      });
      const used = process.cpuUsage(cpu);
      return {
        rate: IN_FLIGHT / (Number(process.hrtime.bigint() - start) / 1e9),
        cpu: (used.user + used.system) / IN_FLIGHT,
      };
    };
    for (const variant of variants) await round(variant.bus); // warm-up
    for (let r = 0; r < rounds; r++) {
      for (const variant of variants) {
        const { rate, cpu } = await round(variant.bus);
        variant.samples.push(rate);
        variant.cpu.push(cpu);
      }
    }
  } finally {
    await Promise.all(variants.map((v) => v.bus.close()));
    await cluster.destroy();
    await single.stop('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
  const base = median(variants[0]!.samples);
  const k = (n: number) => `${(n / 1000).toFixed(1)}k`;
  const lines = [
    title,
    '',
    `${IN_FLIGHT} publishes in flight over ${TOPICS} topics, each a fresh \`createEvent\` (the \`task.progress\` of the throughput section), one subscriber per topic in this process; ${rounds} interleaved rounds (median, min–max). CPU per event: this process, which creates, publishes and receives every event.`,
    '',
    '| variant | events/s | spread | CPU µs/event | × one Redis |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...variants.map((v) => {
      const m = median(v.samples);
      return `| ${v.name} | ${k(m)} | ${k(Math.min(...v.samples))}–${k(Math.max(...v.samples))} | ${median(v.cpu).toFixed(1)} | ${(m / base).toFixed(2)}× |`;
    }),
    '',
  ];
  return lines.join('\n');
}
