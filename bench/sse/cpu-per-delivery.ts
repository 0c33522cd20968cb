// Server CPU time and write syscalls per delivery of adapter variants, side by side (interleaved
// rounds): measures that hold under load, unlike deliveries/s. Run from bench/:
//   node --conditions=@repopulse/source --import tsx --expose-gc sse/cpu-per-delivery.ts \
//     express:coalescing express:repopulse hono:coalescing hono:repopulse
// BENCH_CPU_ROUNDS (default 3), BENCH_CPU_CLIENTS (default 2,000), BENCH_CPU_SINGLES (default 100).
import { median, num, spread } from '../markdown';
import type { AdapterVariant } from './adapter-variants';
import { burstRate } from './burst';
import { type Child, startChild } from './processes';

interface Usage {
  user: number;
  system: number;
  clock: number;
  syscw?: number;
}

interface Sample {
  /** Server CPU µs per delivery in bursts of 500 events. */
  burstCpu: number;
  /** Write syscalls per stream per burst. */
  burstWrites: number;
  /** Server CPU µs per delivery of single events (each delivered to all before the next). */
  singleCpu: number;
  /** Write syscalls per delivery of single events. */
  singleWrites: number;
}

const variants = process.argv.slice(2) as AdapterVariant[];
const rounds = Number(process.env.BENCH_CPU_ROUNDS ?? 3);
const clients = Number(process.env.BENCH_CPU_CLIENTS ?? 2000);
const BURSTS = 3;
const BURST_EVENTS = 500;
const SINGLE_EVENTS = Number(process.env.BENCH_CPU_SINGLES ?? 100);

const delta = (a: Usage, b: Usage) => ({
  cpu: b.user + b.system - (a.user + a.system),
  writes: (b.syscw ?? 0) - (a.syscw ?? 0),
});

async function measure(variant: AdapterVariant, load: Child): Promise<Sample> {
  const server = await startChild('server.ts', { BENCH_VARIANT: variant });
  const pair = { server, load };
  try {
    const { port } = await server.call<{ port: number }>('ready');
    await load.call('connect', { n: clients, port });
    await burstRate(pair, clients, BURST_EVENTS); // warm-up
    const u0 = await server.call<Usage>('usage');
    for (let i = 0; i < BURSTS; i++) await burstRate(pair, clients, BURST_EVENTS);
    const u1 = await server.call<Usage>('usage');
    // One event per tick, as at a steady rate (the p99 scenario), without the batching a late
    // timer causes on a loaded machine.
    for (let i = 0; i < SINGLE_EVENTS; i++) await burstRate(pair, clients, 1);
    const u2 = await server.call<Usage>('usage');
    const burst = delta(u0, u1);
    const single = delta(u1, u2);
    // With BENCH_NODE_FLAGS=--cpu-prof: the windows to cut from the server's profile.
    console.error(`${variant} windows (µs): burst ${u0.clock}-${u1.clock} single ${u1.clock}-${u2.clock}`);
    return {
      burstCpu: burst.cpu / (BURSTS * BURST_EVENTS * clients),
      burstWrites: burst.writes / (BURSTS * clients),
      singleCpu: single.cpu / (SINGLE_EVENTS * clients),
      singleWrites: single.writes / (SINGLE_EVENTS * clients),
    };
  } finally {
    await load.call('disconnect');
    await server.stop();
  }
}

const load = await startChild('load.ts', { BENCH_PROTOCOL: 'h1' });
const samples = new Map<AdapterVariant, Sample[]>();
try {
  for (let round = 0; round < rounds; round++) {
    for (const variant of variants) {
      const sample = await measure(variant, load);
      samples.set(variant, [...(samples.get(variant) ?? []), sample]);
      console.error(`round ${round + 1} ${variant}: ${JSON.stringify(sample)}`);
    }
  }
} finally {
  await load.stop();
}
const keys: (keyof Sample)[] = ['burstCpu', 'burstWrites', 'singleCpu', 'singleWrites'];
for (const variant of variants) {
  const list = samples.get(variant) ?? [];
  const cells = keys.map(
    (key) =>
      `${key} ${num(median(list.map((s) => s[key])), 3)} (${spread(
        list.map((s) => s[key]),
        3,
      )})`,
  );
  console.log(`${variant}: ${cells.join(', ')}`);
}
