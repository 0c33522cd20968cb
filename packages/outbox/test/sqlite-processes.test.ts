import { randomBytes } from 'node:crypto';
import { createRedisBus } from '@repopulse/bus-redis';
import { createEvent } from '@repopulse/events-core';
import { deleteKeys, reachableRedis, redisUrl, requirement } from '@repopulse/test-support';
import { cleanupAfterEach } from '@repopulse/test-support/vitest';
import { describe, expect, it } from 'vitest';
import { createOutbox } from '../src/index';
import { createSqliteStore } from '../src/sqlite/index';
import { replayTopic } from './helpers/collect';
import { openApp, sqliteFile } from './helpers/sqlite-file';

const mode = requirement(
  'outbox',
  (await reachableRedis()) ? undefined : 'no Redis at REDIS_URL',
  'the SQLite multi-process test',
);

const cleanups = cleanupAfterEach();

describe.skipIf(mode === 'skip')('two app processes on one SQLite file and one Redis', () => {
  it('both relay; every event is stored once, each topic in commit order', async () => {
    const file = sqliteFile();
    const keyPrefix = `test:outbox:${randomBytes(4).toString('hex')}:`;
    cleanups.push(file.remove, () => deleteKeys(redisUrl(), keyPrefix));
    // Two connections and two buses on one Redis: what two processes have.
    const apps = [file.db, openApp(file.path)].map((db) => {
      const bus = createRedisBus({ url: redisUrl(), keyPrefix, historyLimit: 5_000 });
      const outbox = createOutbox({ store: createSqliteStore(db), bus, keepDeliveredMs: 600_000 });
      cleanups.push(
        () => db.close(),
        () => bus.close(),
        () => outbox.close(),
      );
      return { db, bus, outbox };
    });
    for (let i = 0; i < 1_000; i++) {
      const { db, outbox } = apps[Math.floor(i / 7) % 2] as (typeof apps)[number];
      db.transaction(() => {
        outbox.enqueue(db, `repo:${i % 3}`, createEvent('task.progress', { phase: 'p', percent: i % 100 }));
      })();
      if (i % 50 === 0) await new Promise((resolve) => setImmediate(resolve)); // let both relays run meanwhile
    }
    await Promise.all(apps.map((app) => app.outbox.drained()));
    const stats = await Promise.all(apps.map((app) => app.outbox.stats()));
    expect(stats.every((s) => s.delivered > 0)).toBe(true); // both relayed
    for (const topic of ['repo:0', 'repo:1', 'repo:2']) {
      const rows = file.db
        .prepare('SELECT event_id FROM repopulse_outbox WHERE topic = ? ORDER BY id')
        .pluck()
        .all(topic);
      expect((await replayTopic(apps[0]!.bus, topic)).map((e) => e.event.id)).toEqual(rows);
    }
  });
});
