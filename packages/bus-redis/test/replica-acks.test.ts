import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collect, numbered } from '@repopulse/bus-contract';
import { isRepoPulseError } from '@repopulse/events-core';
import { freePort, type RedisProcess, spawnRedis } from '@repopulse/test-support';
import { Redis } from 'ioredis';
import { afterEach, expect, it, vi } from 'vitest';
import { createRedisBus, topicKey } from '../src/index';
import { describeWithRedis, type RedisServer, startRedisServer } from './redis-server';

describeWithRedis('bus-redis: replicaAcks on one Redis (WAIT after the append)', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0)) await step();
  });
  const primary = async () => {
    const server = await startRedisServer();
    cleanup.push(() => server.destroy());
    return server;
  };
  const replicaOf = async (server: RedisServer): Promise<RedisProcess> => {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'repopulse-replica-'));
    const replica = await spawnRedis(port, [
      ...['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', ''],
      ...['--replicaof', '127.0.0.1', String(server.port)],
    ]);
    cleanup.push(async () => {
      await replica.stop('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    });
    const redis = new Redis(port);
    await vi.waitFor(async () => {
      if (!(await redis.info('replication')).includes('master_link_status:up'))
        throw new Error('not in sync yet');
    }, 10_000);
    redis.disconnect();
    return replica;
  };

  it('resolves once the replica holds the event', async () => {
    const server = await primary();
    await replicaOf(server);
    const bus = createRedisBus({ url: server.url, replicaAcks: 1, publishTimeoutMs: 2000 });
    cleanup.unshift(() => bus.close());
    const live = await collect(bus, 'repo:acks');
    const results = await Promise.all([0, 1, 2, 3, 4].map((i) => bus.publish('repo:acks', numbered(i))));
    await live.waitForEvents(5, 5000);
    expect(live.numbers()).toEqual([0, 1, 2, 3, 4]);
    const admin = new Redis(server.url);
    expect(await admin.xlen(topicKey('repopulse:', 'repo:acks'))).toBe(5);
    expect(results.map((r) => r.position)).toEqual(live.events().map((e) => e.position));
    admin.disconnect();
  });

  it('rejects with BusUnavailableError when no replica confirms in time (the event may or may not survive)', async () => {
    const server = await primary();
    const bus = createRedisBus({ url: server.url, replicaAcks: 1, publishTimeoutMs: 600 });
    cleanup.unshift(() => bus.close());
    const error = await bus.publish('repo:no-replica', numbered(0)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isRepoPulseError(error, 'bus_unavailable')).toBe(true);
    expect(String(error)).toMatch(/0 of 1 replicas confirmed/);
    // Without replicaAcks the same Redis acknowledges at once.
    const plain = createRedisBus({ url: server.url });
    cleanup.unshift(() => plain.close());
    expect((await plain.publish('repo:no-replica', numbered(1))).position).toMatch(/^\d+-\d+$/);
  });
});
