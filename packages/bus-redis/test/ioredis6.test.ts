import { collect, numbered } from '@repopulse/bus-contract';
import { Redis } from 'ioredis6';
import { expect, it, vi } from 'vitest';
import { createRedisBus } from '../src/index';
import { describeWithRedis, redisServerPerSuite } from './redis-server';
import { contractSuite } from './suites/contract';
import { faultsSuite } from './suites/faults';

// Every `ioredis` import of this file's module graph — the bus's sources and the tests' own admin
// clients alike — resolves to ioredis 6 (the `ioredis6` devDependency alias).
vi.mock('ioredis', () => import('ioredis6'));

it('runs on ioredis 6', async () => {
  const [seen, six] = await Promise.all([import('ioredis'), import('ioredis6')]);
  expect(seen.Redis).toBe(six.Redis);
  const { Redis: five } = await vi.importActual<typeof import('ioredis')>('ioredis');
  expect(seen.Redis).not.toBe(five);
});

contractSuite('ioredis 6');
faultsSuite('ioredis 6');

describeWithRedis('bus-redis on a given ioredis 6 client with RESP3 reply mapping', () => {
  const server = redisServerPerSuite();

  it('publishes, replays and delivers live', async () => {
    const client = new Redis(server().url, {
      protocol: 3,
      replyMapping: 'resp3',
      enableAutoPipelining: true,
    });
    const bus = createRedisBus({ client: client as never });
    const first = await bus.publish('repo:resp3', numbered(1));
    const sub = await collect(bus, 'repo:resp3', { after: '0-0' });
    await bus.publish('repo:resp3', numbered(2));
    await sub.waitForEvents(2, 5000);
    expect(sub.numbers()).toEqual([1, 2]);
    expect(sub.events()[0]!.position).toBe(first.position);
    expect(await bus.head('repo:resp3')).toBe(sub.events()[1]!.position);
    await bus.close();
    await client.quit();
  });
});
