import { median, num, ratio, spread, table } from '../markdown';
import type { BenchContext, BenchSection } from '../scenario';
import { measureLatency } from './latency';
import { fitClients, withPair } from './pair';
import { VARIANT_LABELS, VARIANTS, type VariantName } from './variants';

interface Sample {
  rssPerConnection: number;
  heapPerConnection: number;
  p99: number;
}

/** Scenario 3: many idle connections — memory per connection, and p99 at a low event rate. */
export async function idleConnections({ quick, log }: BenchContext): Promise<BenchSection> {
  const { clients, note } = fitClients(quick ? 200 : 10_000, log);
  const rounds = quick ? 1 : 2;
  const samples = new Map<VariantName, Sample[]>(VARIANTS.map((v) => [v, []]));
  for (let round = 0; round < rounds; round++) {
    for (const variant of VARIANTS) {
      await withPair(variant, async (pair) => {
        // Warm the route up (first-request allocations are not per connection).
        await pair.load.call('connect', { n: 50 });
        await pair.load.call('disconnect');
        const before = await pair.server.call<{ rss: number; heapUsed: number }>('memory');
        await pair.load.call('connect', { n: clients, sampleEvery: 20, concurrency: 1000 });
        await new Promise((r) => setTimeout(r, 500));
        const after = await pair.server.call<{ rss: number; heapUsed: number }>('memory');
        const { p99 } = await measureLatency(pair, 5, quick ? 1 : 4);
        const sample = {
          rssPerConnection: (after.rss - before.rss) / clients,
          heapPerConnection: (after.heapUsed - before.heapUsed) / clients,
          p99,
        };
        samples.get(variant)!.push(sample);
        log(
          `idle round ${round + 1} ${variant}: ${num(sample.rssPerConnection)} B RSS/conn, p99 ${num(p99, 1)} ms`,
        );
      });
    }
  }
  const med = (v: VariantName, k: keyof Sample) => median(samples.get(v)!.map((s) => s[k]));
  const rssRatio = med('sse-express', 'rssPerConnection') / med('coalescing', 'rssPerConnection');
  const p99Ratio = med('sse-express', 'p99') / med('coalescing', 'p99');
  return {
    markdown: [
      '## 3. Idle connections',
      '',
      `${num(clients)} idle connections through Express; server RSS and heap growth per connection (after GC),`,
      `then p99 publish→receive at 5 events/s. Median over ${rounds} interleaved round(s).`,
      ...(note ? ['', note] : []),
      '',
      table([
        [
          'variant',
          'RSS / connection',
          'heap / connection',
          'RSS spread',
          'p99 ms at 5/s',
          'RSS vs coalescing',
        ],
        ...VARIANTS.map((v) => [
          VARIANT_LABELS[v],
          `${num(med(v, 'rssPerConnection') / 1024, 1)} KB`,
          `${num(med(v, 'heapPerConnection') / 1024, 1)} KB`,
          spread(
            samples.get(v)!.map((s) => s.rssPerConnection / 1024),
            1,
          ),
          num(med(v, 'p99'), 1),
          ratio(med(v, 'rssPerConnection') / med('coalescing', 'rssPerConnection')),
        ]),
      ]),
      '',
      `Targets: p99 ≤ 1.5× the coalescing baseline (measured ${ratio(p99Ratio)}); RSS per connection ≤ 1.2×`,
      `(measured ${ratio(rssRatio)}).`,
    ].join('\n'),
    bars: [
      { label: `p99 ${num(clients)} idle: vs coalescing`, value: p99Ratio, target: 1.5, better: 'lower' },
      { label: 'RSS/connection: vs coalescing', value: rssRatio, target: 1.2, better: 'lower' },
    ],
  };
}
