import { median, num, ratio, spread, table } from '../markdown';
import type { BenchContext, BenchSection } from '../scenario';
import { percentile, withPair } from './pair';
import { VARIANT_LABELS, VARIANTS, type VariantName } from './variants';

interface Latency {
  p50: number;
  p99: number;
  max: number;
}

/** Publishes at `rate`/s for `seconds` to the connected clients; latency percentiles of the samples. */
export async function measureLatency(
  pair: Parameters<Parameters<typeof withPair>[1]>[0],
  rate: number,
  seconds: number,
): Promise<Latency> {
  await pair.load.call('reset');
  await pair.server.call('publish', { count: Math.round(rate * seconds), rate, bytes: 100 });
  await new Promise((r) => setTimeout(r, 300));
  const { latencies } = await pair.load.call<{ latencies: number[] }>('latencies');
  const sorted = latencies.sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) ?? Number.NaN };
}

/** Scenario 2: p50/p99/max publish→receive at a steady rate to many clients. */
export async function steadyLatency({ quick, log }: BenchContext): Promise<BenchSection> {
  const clients = quick ? 100 : 2000;
  const rate = 50;
  const seconds = quick ? 1 : 5;
  const rounds = quick ? 1 : 3;
  const samples = new Map<VariantName, Latency[]>(VARIANTS.map((v) => [v, []]));
  for (let round = 0; round < rounds; round++) {
    for (const variant of VARIANTS) {
      await withPair(variant, async (pair) => {
        await pair.load.call('connect', { n: clients, sampleEvery: 10 });
        const result = await measureLatency(pair, rate, seconds);
        samples.get(variant)!.push(result);
        log(`latency round ${round + 1} ${variant}: p50 ${num(result.p50, 1)} p99 ${num(result.p99, 1)} ms`);
      });
    }
  }
  const med = (v: VariantName, k: keyof Latency) => median(samples.get(v)!.map((s) => s[k]));
  const p99 = (v: VariantName) => med(v, 'p99');
  return {
    markdown: [
      '## 2. Latency at steady load',
      '',
      `${num(clients)} clients, ${rate} events/s for ${seconds} s; publish→receive in ms (every 10th client`,
      `sampled), median over ${rounds} interleaved round(s).`,
      '',
      table([
        ['variant', 'p50 ms', 'p99 ms', 'max ms', 'p99 spread', 'p99 vs coalescing'],
        ...VARIANTS.map((v) => [
          VARIANT_LABELS[v],
          num(med(v, 'p50'), 1),
          num(p99(v), 1),
          num(med(v, 'max'), 1),
          spread(
            samples.get(v)!.map((s) => s.p99),
            1,
          ),
          ratio(p99(v) / p99('coalescing')),
        ]),
      ]),
      '',
      `Targets: p99 ≤ 1.2× the coalescing baseline (measured ${ratio(p99('sse-express') / p99('coalescing'))}) and`,
      `≤ 0.5× better-sse (measured ${ratio(p99('sse-express') / p99('better-sse'))}).`,
    ].join('\n'),
    bars: [
      {
        label: 'p99 2k×50/s: vs coalescing',
        value: p99('sse-express') / p99('coalescing'),
        target: 1.2,
        better: 'lower',
      },
      {
        label: 'p99 2k×50/s: vs better-sse',
        value: p99('sse-express') / p99('better-sse'),
        target: 0.5,
        better: 'lower',
      },
    ],
  };
}
