import { collect, numbered } from '@repopulse/bus-contract';
import type { RedisBus, RedisBusOptions } from '@repopulse/bus-redis';
import { Cluster as Cluster5, Redis as Redis5 } from 'ioredis';
import { Cluster as Cluster6, Redis as Redis6 } from 'ioredis6';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createRedisBus as createBusOn5 } from '../src/index';
import { describeWithCluster } from './cluster-support';
import { describeWithRedis, type RedisServer, startRedisServer } from './redis-server';

/**
 * The bus with every `ioredis` import of its sources resolved to ioredis 6: a second copy of the
 * sources, loaded after `ioredis` is mapped to the `ioredis6` devDependency alias. (The static
 * import above is the bus on ioredis 5, the package's own devDependency.)
 */
async function loadBusOn6(): Promise<(options: RedisBusOptions) => RedisBus> {
  vi.resetModules();
  vi.doMock('ioredis', () => import('ioredis6'));
  try {
    const [source, seen] = await Promise.all([import('../src/index'), import('ioredis')]);
    expect(seen.Redis).toBe(Redis6);
    return source.createRedisBus;
  } finally {
    vi.doUnmock('ioredis');
  }
}

/** Publishes, replays from `0-0` and delivers live on `bus`; `topic` is the test's own. */
async function exercise(bus: RedisBus, topic: string): Promise<void> {
  const first = await bus.publish(topic, numbered(1));
  const sub = await collect(bus, topic, { after: '0-0' });
  const second = await bus.publish(topic, numbered(2));
  await sub.waitForEvents(2, 10_000);
  expect(sub.numbers()).toEqual([1, 2]);
  expect(sub.events().map((d) => d.position)).toEqual([first.position, second.position]);
  expect(await bus.head(topic)).toBe(second.position);
  await sub.subscription.unsubscribe();
}

describeWithRedis('bus-redis with a client of the other ioredis major (own redis-server)', () => {
  let server: RedisServer;
  let busOn6: (options: RedisBusOptions) => RedisBus;
  beforeAll(async () => {
    server = await startRedisServer();
    busOn6 = await loadBusOn6();
  });
  afterAll(async () => {
    await server?.destroy();
  });

  it('the bus on ioredis 5 works with an ioredis 6 client', async () => {
    const client = new Redis6(server.url, { enableAutoPipelining: true });
    const bus = createBusOn5({ client: client as never });
    await exercise(bus, 'mixed:five-six');
    await bus.close();
    expect(client.status).toBe('ready'); // a given client stays open
    await client.quit();
  });

  it('the bus on ioredis 6 works with an ioredis 5 client', async () => {
    const client = new Redis5(server.url);
    const bus = busOn6({ client: client as never });
    await exercise(bus, 'mixed:six-five');
    await bus.close();
    await client.quit();
  });

  it("sends its scripts as the client's own Command objects, with keys as the bus names them", async () => {
    // A client keyPrefix shows which path a command took: ioredis applies it to commands made
    // through its API (pipelines, auto-pipelining), not to a Command handed to sendCommand.
    const client = new Redis6(server.url, { keyPrefix: 'client-prefix:', enableAutoPipelining: true });
    const sent: object[] = [];
    const send = client.sendCommand.bind(client);
    client.sendCommand = ((command: object, stream?: never) => {
      sent.push(command);
      return send(command as never, stream);
    }) as typeof client.sendCommand;
    const bus = createBusOn5({ client: client as never, keyPrefix: 'own:' });
    await exercise(bus, 'mixed:class');
    const scripts = sent.filter((c) => ['evalsha', 'eval'].includes((c as { name: string }).name));
    expect(scripts.length).toBeGreaterThan(0);
    for (const command of scripts) expect(command).toBeInstanceOf(Redis6.Command);
    const admin = new Redis6(server.url);
    expect(await admin.exists('own:{mixed:class}')).toBe(1);
    expect(await admin.keys('client-prefix:*')).toEqual([]);
    await admin.quit();
    await bus.close();
    await client.quit();
  });

  it("works through the client's own pipelines when its Command class cannot be found", async () => {
    const client = new Redis6(server.url);
    // A client whose pipelines hold no readable command (a future ioredis): the probe finds nothing.
    const pipeline = client.pipeline.bind(client);
    client.pipeline = ((commands?: unknown[][]) =>
      commands ? pipeline(commands as never) : { ping: () => ({}) }) as typeof client.pipeline;
    const bus = createBusOn5({ client: client as never, keyPrefix: 'fallback:' });
    await exercise(bus, 'mixed:fallback');
    await bus.close();
    await client.quit();
  });

  it('replicaAcks on a given client of the other major goes through its own pipeline', async () => {
    const client = new Redis6(server.url);
    const bus = createBusOn5({ client: client as never, replicaAcks: 1, publishTimeoutMs: 500 });
    // No replica: the publish is stored but not confirmed, as with a client of the bus's own major.
    await expect(bus.publish('mixed:acks', numbered(1))).rejects.toThrow(/0 of 1 replicas confirmed/);
    await bus.close();
    await client.quit();
  });
});

describeWithCluster(
  'bus-redis with a Cluster client of the other ioredis major (own Redis Cluster)',
  { primaries: 3, replicasPerPrimary: 0 },
  (cluster) => {
    let busOn6: (options: RedisBusOptions) => RedisBus;
    beforeAll(async () => {
      busOn6 = await loadBusOn6();
    });

    // Several topics, so the publishes reach more than one shard.
    const topics = ['mixed:a', 'mixed:b', 'mixed:c', 'mixed:d'];

    describe.each([
      ['the bus on ioredis 5 with an ioredis 6 Cluster', () => createBusOn5, Cluster6],
      ['the bus on ioredis 6 with an ioredis 5 Cluster', () => busOn6, Cluster5],
    ] as const)('%s', (_name, factory, ClusterClass) => {
      it('publishes, replays and delivers live on every shard', async () => {
        const client = new ClusterClass(cluster().startupNodes, { enableAutoPipelining: true });
        const bus = factory()({ client: client as never, replicaAcks: 0 });
        for (const topic of topics) await exercise(bus, `${topic}:${ClusterClass === Cluster6 ? 6 : 5}`);
        await bus.close();
        await client.quit();
      });
    });
  },
);
