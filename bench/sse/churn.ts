import { num, table } from '../markdown';
import type { BenchContext, BenchSection } from '../scenario';
import { withPair } from './pair';

interface Stats {
  handler: { connections: number; streams: number; topics: number };
  bus: { topics: number; subscriptions: number };
}

/** Scenario 4: connect/disconnect cycles — everything released, heap back near the start. */
export async function churn({ quick, log }: BenchContext): Promise<BenchSection> {
  const cycles = quick ? 400 : 20_000;
  return withPair('sse-express', async ({ server, load }) => {
    await load.call('churn', { cycles: 400 }); // warm-up
    const before = await server.call<{ heapUsed: number }>('memory');
    const started = Date.now();
    await load.call('churn', { cycles, concurrency: 200 });
    let stats = await server.call<Stats>('stats');
    for (let i = 0; i < 100 && (stats.handler.connections > 0 || stats.bus.subscriptions > 0); i++) {
      await new Promise((r) => setTimeout(r, 50));
      stats = await server.call<Stats>('stats');
    }
    const after = await server.call<{ heapUsed: number }>('memory');
    const seconds = (Date.now() - started) / 1000;
    const heapChange = (after.heapUsed - before.heapUsed) / before.heapUsed;
    log(`churn: ${cycles} cycles in ${seconds.toFixed(1)} s, heap ${(heapChange * 100).toFixed(1)} %`);
    const left =
      stats.handler.connections + stats.handler.topics + stats.bus.subscriptions + stats.bus.topics;
    return {
      markdown: [
        '## 4. Churn',
        '',
        `${num(cycles)} connect/disconnect cycles (200 at a time) against sse-express on the memory bus, in`,
        `${seconds.toFixed(1)} s.`,
        '',
        table([
          ['measure', 'after the cycles', 'target'],
          ['handler connections / topics', `${stats.handler.connections} / ${stats.handler.topics}`, '0 / 0'],
          ['bus subscriptions / topics', `${stats.bus.subscriptions} / ${stats.bus.topics}`, '0 / 0'],
          [
            'heap used (after GC)',
            `${num(before.heapUsed / 2 ** 20, 1)} → ${num(after.heapUsed / 2 ** 20, 1)} MiB (${heapChange >= 0 ? '+' : ''}${(heapChange * 100).toFixed(1)} %)`,
            'within 10 %',
          ],
          ['verdict', left === 0 && Math.abs(heapChange) <= 0.1 ? 'met' : '**missed**', ''],
        ]),
      ].join('\n'),
      bars: [
        {
          label: 'churn: heap after / before',
          value: after.heapUsed / before.heapUsed,
          target: 1.1,
          better: 'lower',
        },
      ],
    };
  });
}
