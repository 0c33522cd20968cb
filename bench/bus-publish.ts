import { createMemoryBus } from '@repopulse/bus-memory';
import { createRedisBus } from '@repopulse/bus-redis';
import { createEvent, type EventBus } from '@repopulse/events-core';
import { Redis } from 'ioredis';
import { compare, resultsTable } from './harness';
import { num } from './markdown';
import type { BenchContext, BenchSection } from './scenario';

/**
 * Publish throughput with one live subscriber per topic: the memory bus, the Redis bus (one Lua
 * script doing XADD + PUBLISH, auto-pipelined), and a naive Redis publisher that awaits XADD and
 * then PUBLISH for each event (two round trips, no pipelining) as the baseline.
 */
export async function busPublish({ quick, redisUrl }: BenchContext): Promise<BenchSection> {
  const prefix = `bench:${process.pid}:${Date.now()}:`;
  const memory = createMemoryBus();
  const redis = createRedisBus({ url: redisUrl, keyPrefix: prefix });
  const naive = new Redis(redisUrl);
  // A fresh event per publish, as an app makes them (a bus stores one id once per topic).
  const event = () =>
    createEvent('task.progress', { phase: 'llm', percent: 40, message: 'x'.repeat(200) }, { repo_id: 1 });
  let received = 0;
  const waitFor = (target: number) =>
    new Promise<void>((resolve) => {
      const check = () => (received >= target ? resolve() : setImmediate(check));
      check();
    });
  const subscribe = async (bus: EventBus, topic: string) => bus.subscribe(topic, () => void received++);
  await subscribe(memory, 'bench:memory');
  await subscribe(redis, 'bench:redis');
  const burst = async (bus: EventBus, topic: string, ops: number) => {
    const start = received;
    await Promise.all(Array.from({ length: ops }, () => bus.publish(topic, event())));
    await waitFor(start + ops);
  };
  try {
    const ops = quick ? 300 : 2000;
    const rounds = quick ? 1 : 5;
    const results = await compare(
      [
        {
          name: 'naive redis: await XADD, then PUBLISH',
          run: async (ops) => {
            for (let i = 0; i < ops; i++) {
              const json = JSON.stringify(event());
              const id = await naive.xadd(`${prefix}naive`, 'MAXLEN', '~', '1000', '*', 'e', json);
              await naive.publish(`${prefix}naive`, `${id} ${json}`);
            }
          },
        },
        { name: '@repopulse/bus-redis', run: (ops) => burst(redis, 'bench:redis', ops) },
        { name: '@repopulse/bus-memory', run: (ops) => burst(memory, 'bench:memory', ops) },
      ],
      { ops, rounds },
    );
    return {
      markdown: [
        '## Bus publish → delivery to one subscriber',
        '',
        `${num(ops)} concurrent publishes per round, ${rounds} interleaved round(s), in one process; the`,
        'baseline is a naive Redis publisher (`await XADD`, then `await PUBLISH`, per event).',
        '',
        resultsTable(results),
      ].join('\n'),
    };
  } finally {
    const keys = await naive.keys(`${prefix}*`);
    if (keys.length) await naive.del(...keys);
    await Promise.all([memory.close(), redis.close()]);
    naive.disconnect();
  }
}
