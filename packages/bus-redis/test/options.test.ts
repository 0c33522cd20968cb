import { collect, numbered } from '@repopulse/bus-contract';
import { Redis } from 'ioredis';
import { expect, it } from 'vitest';
import { createRedisBus, topicKey } from '../src/index';
import { describeWithRedis, redisServerPerSuite } from './redis-server';

describeWithRedis('bus-redis: options', () => {
  const server = redisServerPerSuite();

  it('uses a given (lazy) client, keeps it open on close, and honours keyPrefix', async () => {
    const client = new Redis(server().url, { lazyConnect: true, enableAutoPipelining: true });
    const bus = createRedisBus({ client, keyPrefix: 'app1:' });
    const sub = await collect(bus, 'repo:7', { after: '0-0' });
    const { position } = await bus.publish('repo:7', numbered(1));
    await sub.waitForEvents(1, 5000);
    expect(await client.xlen(topicKey('app1:', 'repo:7'))).toBe(1);
    expect(await client.exists('repopulse:{repo:7}')).toBe(0);
    await bus.close();
    expect(client.status).toBe('ready');
    expect(await client.xrange('app1:{repo:7}', '-', '+')).toHaveLength(1);
    expect(sub.events()[0]!.position).toBe(position);
    await client.quit();
  });

  it('rejects oversized events with too_large and stores nothing', async () => {
    const bus = createRedisBus({ url: server().url, maxEventBytes: 300 });
    const big = numbered(1, 'x'.repeat(400));
    await expect(bus.publish('repo:big', big)).rejects.toMatchObject({ code: 'too_large' });
    expect(await bus.head('repo:big')).toBe('0-0');
    await bus.close();
  });

  it.each([
    [{}, /exactly one of `url`, `client` and `cluster`/],
    [{ url: 'redis://x', client: new Redis({ lazyConnect: true }) }, /exactly one/],
    [{ url: 'redis://x', cluster: [{ host: '127.0.0.1', port: 7000 }] }, /exactly one/],
    [{ cluster: [] }, /cluster must be a non-empty list of cluster nodes/],
    [{ cluster: 'redis://x' as never }, /cluster must be a non-empty list/],
    [{ url: 'redis://x', replicaAcks: -1 }, /replicaAcks must be a non-negative integer/],
    [{ url: 'redis://x', replicaAcks: 1.5 }, /replicaAcks must be a non-negative integer/],
    [{ url: 'redis://x', historyLimit: 0 }, /historyLimit/],
    [{ url: 'redis://x', historyTtlMs: -1 }, /historyTtlMs/],
    [{ url: 'redis://x', maxPendingPublishes: 1.5 }, /maxPendingPublishes/],
    [{ url: 'redis://x', publishTimeoutMs: 0 }, /publishTimeoutMs/],
    [{ url: 'redis://x', keyPrefix: 7 as never }, /keyPrefix must be a string/],
  ])('refuses bad options %# before connecting, with a typed OptionsError', (options, message) => {
    expect(() => createRedisBus(options)).toThrow(message);
    expect(() => createRedisBus(options)).toThrow(expect.objectContaining({ name: 'OptionsError' }));
  });

  it('refuses an unknown option key, naming the valid ones', () => {
    const make = () => createRedisBus({ url: 'redis://x', publishTimeoutMS: 5 } as never);
    expect(make).toThrow(expect.objectContaining({ code: 'unknown_option', option: 'publishTimeoutMS' }));
    expect(make).toThrow(/did you mean "publishTimeoutMs"\?\); valid options: historyLimit, .*keyPrefix/);
  });
});
