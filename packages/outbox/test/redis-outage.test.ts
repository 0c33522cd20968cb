import { createRedisBus } from '@repopulse/bus-redis';
import { type BusDelivery, createEvent } from '@repopulse/events-core';
import {
  freePort,
  hasRedisServer,
  type RedisProcess,
  requirement,
  spawnRedis,
} from '@repopulse/test-support';
import { cleanupAfterEach } from '@repopulse/test-support/vitest';
import { describe, expect, it } from 'vitest';
import { createOutbox, type OutboxError } from '../src/index';
import { createSqliteStore } from '../src/sqlite/index';
import { replayTopic, until } from './helpers/collect';
import { sqliteFile } from './helpers/sqlite-file';

const mode = requirement(
  'outbox',
  hasRedisServer() ? undefined : 'no redis-server on PATH',
  'the outbox Redis outage tests',
);
const TOPICS = ['repo:1', 'repo:2', 'repo:3', 'repo:4'];

const cleanups = cleanupAfterEach();

async function setup() {
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  let redis: RedisProcess = await spawnRedis(port, args);
  const file = sqliteFile();
  const bus = createRedisBus({
    url: `redis://127.0.0.1:${port}`,
    publishTimeoutMs: 500,
    historyLimit: 20_000,
    onError: () => {},
  });
  const errors: OutboxError[] = [];
  const outbox = createOutbox({
    store: createSqliteStore(file.db),
    bus,
    retryMinMs: 20,
    retryMaxMs: 500,
    onError: (error) => errors.push(error),
  });
  cleanups.push(
    file.remove,
    () => redis.stop('SIGKILL'),
    () => bus.close(),
    () => outbox.close(),
  );
  const commit = (topic: string, i: number) =>
    file.db.transaction(() => {
      file.db.prepare('INSERT OR REPLACE INTO tasks (id, status) VALUES (?, ?)').run(i, 'running');
      return outbox.enqueue(
        file.db,
        topic,
        createEvent('task.progress', { phase: 'p', percent: i % 100 }, { task_id: i }),
      ).id;
    })();
  return {
    bus,
    outbox,
    errors,
    commit,
    stopRedis: (signal: NodeJS.Signals = 'SIGKILL') => redis.stop(signal),
    startRedis: async () => {
      redis = await spawnRedis(port, args);
    },
  };
}

describe.skipIf(mode === 'skip')('the relay while Redis is down', () => {
  it('transactions keep committing; a backlog of 10,000 is reported by stats() and drains in commit order once Redis is back', async () => {
    const { bus, outbox, errors, commit, stopRedis, startRedis } = await setup();
    await stopRedis();
    const committed = new Map<string, string[]>(TOPICS.map((t) => [t, []]));
    for (let i = 0; i < 10_000; i++) {
      const topic = TOPICS[i % TOPICS.length] as string;
      committed.get(topic)?.push(commit(topic, i));
    }
    await until(() => outbox.stats().then((s) => s.retrying), 20_000, 'the relay to back off');
    const during = await outbox.stats();
    expect(during).toMatchObject({ pending: 10_000, failed: 0, retrying: true, relaying: true });
    await until(
      () => outbox.stats().then((s) => (s.oldestPendingAgeMs ?? 0) >= 500),
      20_000,
      'the backlog to age',
    );
    expect(errors.some((e) => e.code === 'publish_failed' && e.cause instanceof Error)).toBe(true);
    await startRedis();
    await outbox.drained(120_000);
    for (const [topic, ids] of committed) {
      expect((await replayTopic(bus, topic)).map((e) => e.event.id)).toEqual(ids);
    }
    expect(await outbox.stats()).toMatchObject({
      pending: 0,
      failed: 0,
      retrying: false,
      oldestPendingAgeMs: undefined,
    });
    expect(errors.filter((e) => e.code !== 'publish_failed')).toEqual([]);
  }, 180_000);

  it('a Redis restart without persistence while relaying: subscribers get a history_lost reset, the rest is delivered in order', async () => {
    const { bus, outbox, commit, stopRedis, startRedis } = await setup();
    const deliveries: BusDelivery[] = [];
    await bus.subscribe('repo:1', (d) => {
      deliveries.push(d);
    });
    const committed: string[] = [];
    for (let i = 0; i < 5_000; i++) committed.push(commit('repo:1', i));
    await until(() => deliveries.length > 300, 20_000, 'some deliveries');
    await stopRedis('SIGKILL');
    await startRedis(); // empty: no RDB, no AOF
    for (let i = 5_000; i < 6_000; i++) committed.push(commit('repo:1', i));
    await outbox.drained(120_000);
    const kept = (await replayTopic(bus, 'repo:1')).map((e) => e.event.id);
    // What the new Redis holds is the tail of the commit order, in order, each once.
    expect(kept.length).toBeGreaterThanOrEqual(1_000);
    expect(kept).toEqual(committed.slice(committed.length - kept.length));
    await until(() => deliveries.some((d) => d.reset), 20_000, 'the reset');
    expect(deliveries.find((d) => d.reset)).toMatchObject({ reset: true, reason: 'history_lost' });
    expect(await outbox.stats()).toMatchObject({ pending: 0, failed: 0 });
  }, 180_000);
});
