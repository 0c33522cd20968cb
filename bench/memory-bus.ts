import { createMemoryBus } from '@repopulse/bus-memory';
import { createEvent } from '@repopulse/events-core';
import mitt from 'mitt';
import { compare, resultsTable } from './harness';
import { num, ratio } from './markdown';
import type { BenchContext, BenchSection } from './scenario';

/**
 * Scenario 6: the memory bus publishing to one subscriber (validation, position, history ring,
 * delivery) next to a bare `mitt` `emit` of an envelope made the same way — what the bus adds on top of the
 * emitter it is built on.
 */
export async function memoryBusVsMitt({ quick }: BenchContext): Promise<BenchSection> {
  const bus = createMemoryBus({ historyLimit: 1000 });
  const emitter = mitt<{ e: unknown }>();
  // A fresh event per publish (and per emit), as an app makes them: a bus stores one id once per topic.
  const event = () =>
    createEvent('task.progress', { phase: 'llm', percent: 40, message: 'x'.repeat(100) }, { repo_id: 1 });
  let received = 0;
  emitter.on('e', () => void received++);
  await bus.subscribe('bench:memory', () => void received++);
  const ops = quick ? 5_000 : 50_000;
  const rounds = quick ? 1 : 7;
  try {
    const results = await compare(
      [
        {
          name: 'bare mitt emit',
          run: (n) => {
            for (let i = 0; i < n; i++) emitter.emit('e', event());
          },
        },
        {
          name: '@repopulse/bus-memory publish',
          run: async (n) => {
            const all: Promise<unknown>[] = [];
            for (let i = 0; i < n; i++) all.push(bus.publish('bench:memory', event()));
            await Promise.all(all);
          },
        },
      ],
      { ops, rounds },
    );
    const bus_ = results[1]!;
    return {
      markdown: [
        '## Memory bus: publish to one subscriber next to bare `mitt`',
        '',
        `${num(ops)} events per round, ${rounds} interleaved round(s), in one process. The bus validates`,
        'each envelope, assigns its position, keeps it in the history ring and delivers it; `mitt` only',
        `calls the handler. The bus runs at ${ratio(bus_.ratio)} the speed of a bare emit.`,
        '',
        resultsTable(results),
      ].join('\n'),
    };
  } finally {
    await bus.close();
  }
}
