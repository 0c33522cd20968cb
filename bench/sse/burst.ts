import { median, num, ratio, spread, table } from '../markdown';
import type { BenchContext, BenchSection } from '../scenario';
import { type Pair, withPair } from './pair';
import { VARIANT_LABELS, VARIANTS, type VariantName } from './variants';

/** Scenario 1: a burst of events to many clients; deliveries/s until every client has all. */
export async function burst({ quick, log }: BenchContext): Promise<BenchSection> {
  const clients = quick ? 100 : 2000;
  const events = quick ? 50 : 500;
  const rounds = quick ? 1 : 3;
  const samples = new Map<VariantName, number[]>(VARIANTS.map((v) => [v, []]));
  for (let round = 0; round < rounds; round++) {
    for (const variant of VARIANTS) {
      await withPair(variant, async (pair) => {
        await pair.load.call('connect', { n: clients });
        const rate = await burstRate(pair, clients, events);
        samples.get(variant)!.push(rate);
        log(`burst round ${round + 1} ${variant}: ${num(rate)} deliveries/s`);
      });
    }
  }
  const med = (v: VariantName) => median(samples.get(v)!);
  const base = med('coalescing');
  const vsBetter = med('sse-express') / med('better-sse');
  return {
    markdown: [
      '## 1. Burst',
      '',
      `${num(clients)} clients, ${num(events)} events of ~100-byte payload published at once; deliveries/s`,
      `until every client has every event. ${rounds} interleaved round(s).`,
      '',
      table([
        ['variant', 'deliveries/s (median)', 'spread', 'vs coalescing'],
        ...VARIANTS.map((v) => [
          VARIANT_LABELS[v],
          num(med(v)),
          spread(samples.get(v)!),
          ratio(med(v) / base),
        ]),
      ]),
      '',
      `Targets: sse-express ≥ 0.90× the coalescing baseline (measured ${ratio(med('sse-express') / base)}) and`,
      `≥ 10× better-sse (measured ${ratio(vsBetter)}).`,
    ].join('\n'),
    bars: [
      { label: 'burst: vs coalescing', value: med('sse-express') / base, target: 0.9, better: 'higher' },
      { label: 'burst: vs better-sse (÷10)', value: vsBetter / 10, target: 1, better: 'higher' },
    ],
  };
}

/**
 * Publishes `events` of ~100 B at once to the connected `clients`; deliveries/s until every client
 * has every one. A burst not delivered within `timeoutMs` gives the rate over that window instead
 * (what arrived by then), when `partial`; `NaN` otherwise.
 */
export async function burstRate(
  pair: Pair,
  clients: number,
  events: number,
  { timeoutMs = 120_000, partial = false } = {},
): Promise<number> {
  const { rate, timedOut } = await timedBurst(pair, clients, events, timeoutMs);
  return timedOut && !partial ? Number.NaN : rate;
}

/**
 * One burst as {@link burstRate} makes it: deliveries/s, over the `timeoutMs` window when it was
 * not all delivered by then (`timedOut`).
 */
export async function timedBurst(
  pair: Pair,
  clients: number,
  events: number,
  timeoutMs: number,
): Promise<{ rate: number; timedOut: boolean }> {
  await pair.load.call('reset');
  const done = pair.load.call<{ at: number; events: number; timedOut?: boolean }>('expect', {
    total: clients * events,
    timeoutMs,
  });
  const { startedAt } = await pair.server.call<{ startedAt: number }>('publish', {
    count: events,
    bytes: 100,
  });
  const result = await done;
  return { rate: result.events / ((result.at - startedAt) / 1000), timedOut: result.timedOut === true };
}
