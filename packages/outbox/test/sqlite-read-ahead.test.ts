import { createMemoryBus } from '@repopulse/bus-memory';
import { createEvent } from '@repopulse/events-core';
import { cleanupAfterEach } from '@repopulse/test-support/vitest';
import { describe, expect, it } from 'vitest';
import { createOutbox } from '../src/index';
import { createSqliteStore } from '../src/sqlite/index';
import { READ_AHEAD_ROWS } from '../src/sqlite/read-ahead';
import { replayTopic, until } from './helpers/collect';
import { sqliteFile } from './helpers/sqlite-file';

const cleanups = cleanupAfterEach();

function setup() {
  const file = sqliteFile();
  const bus = createMemoryBus({ historyLimit: 100_000 });
  const store = createSqliteStore(file.db);
  const writer = createOutbox({ store, bus, relay: false });
  cleanups.push(file.remove, () => bus.close());
  /** Commits `count` events to `topic` (100 per transaction), relayed by no one yet; their ids. */
  const commit = (topics: (i: number) => string, count: number) => {
    const ids = new Map<string, string[]>();
    const batch = file.db.transaction((from: number) => {
      for (let i = from; i < Math.min(count, from + 100); i++) {
        const topic = topics(i);
        const event = writer.enqueue(
          file.db,
          topic,
          createEvent('task.progress', { phase: 'x', percent: i % 100 }),
        );
        ids.set(topic, [...(ids.get(topic) ?? []), event.id]);
      }
    });
    for (let i = 0; i < count; i += 100) batch(i);
    return ids;
  };
  /** A relay whose fallback sweep never runs during a test: only wake-ups move it. */
  const relay = () => {
    const outbox = createOutbox({ store, bus, sweepMs: 600_000 });
    cleanups.push(() => outbox.close());
    return outbox;
  };
  return { ...file, bus, commit, relay };
}

async function expectRelayed(bus: ReturnType<typeof createMemoryBus>, ids: Map<string, string[]>) {
  for (const [topic, committed] of ids) {
    expect(
      (await replayTopic(bus, topic)).map((e) => e.event.id),
      topic,
    ).toEqual(committed);
  }
}

describe('the SQLite store reading pending rows ahead (no per-topic index)', () => {
  it('relays a backlog larger than its read-ahead over many topics, and a topic whose rows all lie beyond it, each in commit order', async () => {
    const { db, bus, commit, relay } = setup();
    const spread = commit((i) => `repo:${i % 40}`, READ_AHEAD_ROWS + 2_000);
    const late = commit(() => 'repo:late', 300); // committed after all of them: beyond the read-ahead
    let delivered = 0;
    for (const topic of [...spread.keys(), ...late.keys()])
      await bus.subscribe(topic, () => void delivered++);
    const outbox = relay();
    // No drained(), which wakes the relay itself: it must go on by its own wake-ups.
    await until(() => delivered === READ_AHEAD_ROWS + 2_300, 30_000, 'every event delivered');
    await expectRelayed(bus, spread);
    await expectRelayed(bus, late);
    await outbox.drained(); // the last marks
    expect(await outbox.stats()).toMatchObject({ pending: 0, failed: 0, duplicates: 0 });
    expect(db.prepare('SELECT count(*) AS n FROM repopulse_outbox').get()).toEqual({ n: 1 }); // the newest, kept
  });

  it('has no index on pending rows: an insert writes the table alone', () => {
    const { db } = setup();
    const indexes = db
      .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'repopulse_outbox'")
      .all() as { name: string; sql: string }[];
    expect(indexes.map((i) => i.name).sort()).toEqual([
      'repopulse_outbox_delivered',
      'repopulse_outbox_failed',
    ]);
    for (const index of indexes) expect(index.sql).toMatch(/WHERE (delivered_at|failed_at) IS NOT NULL/);
  });

  it('drops the pending index of a table made by an earlier version, keeping its rows', async () => {
    const { db, bus, commit } = setup();
    db.exec(
      'CREATE INDEX repopulse_outbox_pending ON repopulse_outbox (topic, id) WHERE delivered_at IS NULL AND failed_at IS NULL',
    );
    const ids = commit(() => 'repo:1', 5);
    const outbox = createOutbox({ store: createSqliteStore(db), bus });
    cleanups.push(() => outbox.close());
    await outbox.drained();
    await expectRelayed(bus, ids);
    expect(
      db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'repopulse_outbox_pending'").get(),
    ).toEqual({
      n: 0,
    });
  });

  it('reads from the start again when the table was emptied behind it', async () => {
    const { db, bus, commit, relay } = setup();
    const outbox = relay();
    const first = commit(() => 'repo:1', 50);
    await outbox.drained();
    db.exec('DELETE FROM repopulse_outbox'); // by hand: the next ids start at 1 again
    const second = commit(() => 'repo:2', 20);
    await outbox.drained();
    await expectRelayed(bus, first);
    await expectRelayed(bus, second);
  });
});
