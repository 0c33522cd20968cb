import { createMemoryBus } from '@repopulse/bus-memory';
import { BusError, createEvent, EventValidationError, OptionsError } from '@repopulse/events-core';
import { cleanupAfterEach } from '@repopulse/test-support/vitest';
import { describe, expect, it } from 'vitest';
import { createOutbox, type OutboxError } from '../src/index';
import { createSqliteStore } from '../src/sqlite/index';
import { replayTopic, until } from './helpers/collect';
import { sqliteFile } from './helpers/sqlite-file';

const cleanups = cleanupAfterEach();

function setup(options: { busMaxBytes?: number; keepDeliveredMs?: number } = {}) {
  const file = sqliteFile();
  const bus = createMemoryBus({ historyLimit: 100_000, maxEventBytes: options.busMaxBytes });
  const errors: OutboxError[] = [];
  const outbox = createOutbox({
    store: createSqliteStore(file.db),
    bus,
    keepDeliveredMs: options.keepDeliveredMs,
    onError: (error) => errors.push(error),
  });
  cleanups.push(
    file.remove,
    () => bus.close(),
    () => outbox.close(),
  );
  const setStatus = (id: number, status: string, topic = 'repo:1') =>
    file.db.transaction(() => {
      file.db.prepare('INSERT OR REPLACE INTO tasks (id, status) VALUES (?, ?)').run(id, status);
      return outbox.enqueue(
        file.db,
        topic,
        createEvent('task.status_changed', { from: 'queued', to: 'running' }, { task_id: id, repo_id: 1 }),
      );
    })();
  return { ...file, bus, outbox, errors, setStatus };
}

describe('the SQLite store', () => {
  it('publishes an event once its transaction commits, at commit, with no polling delay', async () => {
    const { bus, setStatus } = setup();
    const seen: string[] = [];
    await bus.subscribe('repo:1', (d) => {
      if (!d.reset) seen.push(d.event.id);
    });
    const event = setStatus(7, 'running');
    // The sweep runs every 5 s: a delivery well before it was woken by the commit.
    await until(() => seen.length === 1, 2_000, 'the commit wake-up');
    expect(seen).toEqual([event.id]);
  });

  it('never publishes the event of a transaction that rolls back', async () => {
    const { db, bus, outbox } = setup();
    expect(() =>
      db.transaction(() => {
        db.prepare('INSERT INTO tasks (id, status) VALUES (1, ?)').run('running');
        outbox.enqueue(db, 'repo:1', createEvent('log.append', { level: 'info', message: 'rolled back' }));
        throw new Error('business failure');
      })(),
    ).toThrow('business failure');
    db.transaction(() => {
      outbox.enqueue(db, 'repo:1', createEvent('log.append', { level: 'info', message: 'committed' }));
    })();
    await outbox.drained();
    const events = await replayTopic(bus, 'repo:1');
    expect(events.map((e) => (e.event.payload as { message: string }).message)).toEqual(['committed']);
    expect(db.prepare('SELECT count(*) AS n FROM tasks').get()).toEqual({ n: 0 });
  });

  it('refuses an invalid event at enqueue with EventValidationError, writing nothing, so the transaction can roll back', async () => {
    const { db, outbox } = setup();
    const bad = {
      ...createEvent('task.status_changed', { from: 'queued', to: 'running' }),
      payload: { to: 'flying' },
    };
    expect(() =>
      db.transaction(() => {
        db.prepare('INSERT INTO tasks (id, status) VALUES (1, ?)').run('running');
        outbox.enqueue(db, 'repo:1', bad as never);
      })(),
    ).toThrow(EventValidationError);
    expect(() =>
      db.transaction(() => outbox.enqueue(db, 'bad\ntopic', createEvent('repo.deleted', {})))(),
    ).toThrow(BusError);
    expect(db.prepare('SELECT count(*) AS n FROM repopulse_outbox').get()).toEqual({ n: 0 });
    expect(db.prepare('SELECT count(*) AS n FROM tasks').get()).toEqual({ n: 0 });
    expect((await outbox.stats()).pending).toBe(0);
  });

  it('refuses enqueue outside a transaction (not_in_transaction)', () => {
    const { db, outbox } = setup();
    expect(() => outbox.enqueue(db, 'repo:1', createEvent('repo.deleted', {}))).toThrow(
      expect.objectContaining({ code: 'not_in_transaction' }),
    );
    expect(db.prepare('SELECT count(*) AS n FROM repopulse_outbox').get()).toEqual({ n: 0 });
  });

  it('publishes each topic in commit order, and many topics at once', async () => {
    const { db, bus, outbox } = setup();
    const committed = new Map<string, string[]>();
    for (let i = 0; i < 600; i++) {
      const topic = `repo:${i % 5}`;
      const event = db.transaction(() =>
        outbox.enqueue(db, topic, createEvent('task.progress', { phase: 'p', percent: i % 100 })),
      )();
      committed.set(topic, [...(committed.get(topic) ?? []), event.id]);
    }
    await outbox.drained();
    for (const [topic, ids] of committed) {
      expect((await replayTopic(bus, topic)).map((e) => e.event.id)).toEqual(ids);
    }
    expect(await outbox.stats()).toMatchObject({ pending: 0, failed: 0, delivered: 600, relaying: true });
  });

  it('does not read through the connection while a transaction is open on it (BEGIN … COMMIT across awaits)', async () => {
    const { db, bus, outbox } = setup();
    db.exec('BEGIN');
    outbox.enqueue(db, 'repo:1', createEvent('repo.deleted', {}));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await bus.head('repo:1')).toBe('0-0');
    db.exec('ROLLBACK');
    db.exec('BEGIN');
    const kept = outbox.enqueue(db, 'repo:1', createEvent('repo.created', { name: 'x' }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    db.exec('COMMIT');
    await outbox.drained();
    expect((await replayTopic(bus, 'repo:1')).map((e) => e.event.id)).toEqual([kept.id]);
  });

  it('keeps an event the bus refuses for good, marked failed and reported, and goes on with the topic', async () => {
    const { db, bus, outbox, errors } = setup({ busMaxBytes: 2_000 });
    const ids = db.transaction(() => [
      outbox.enqueue(db, 'repo:1', createEvent('log.append', { level: 'info', message: 'before' })).id,
      outbox.enqueue(db, 'repo:1', createEvent('log.append', { level: 'info', message: 'x'.repeat(5_000) }))
        .id,
      outbox.enqueue(db, 'repo:1', createEvent('log.append', { level: 'info', message: 'after' })).id,
    ])();
    await outbox.drained();
    expect((await replayTopic(bus, 'repo:1')).map((e) => e.event.id)).toEqual([ids[0], ids[2]]);
    expect(errors.map((e) => [e.code, e.topic])).toEqual([['event_refused', 'repo:1']]);
    expect(errors[0]?.cause).toMatchObject({ code: 'too_large' });
    expect(await outbox.stats()).toMatchObject({ pending: 0, failed: 1 });
    const row = db.prepare('SELECT event_id, error FROM repopulse_outbox WHERE failed_at IS NOT NULL').get();
    expect(row).toMatchObject({ event_id: ids[1], error: expect.stringContaining('2000') });
  });

  it('deletes delivered rows at once by default (the newest stays, marked, so ids are never reused), or keeps them for keepDeliveredMs', async () => {
    const a = setup();
    a.setStatus(1, 'running');
    a.setStatus(2, 'running');
    const newest = a.setStatus(3, 'running');
    await a.outbox.drained();
    expect(
      a.db.prepare('SELECT event_id, delivered_at > 0 AS delivered FROM repopulse_outbox').all(),
    ).toEqual([{ event_id: newest.id, delivered: 1 }]);
    const next = a.setStatus(4, 'running');
    await a.outbox.drained();
    const rows = a.db.prepare('SELECT id, event_id FROM repopulse_outbox').all() as {
      id: number;
      event_id: string;
    }[];
    expect(rows.map((r) => r.event_id)).toEqual([next.id]);
    expect(rows[0]?.id).toBe(4); // after 1, 2, 3: not a reused id
    const b = setup({ keepDeliveredMs: 60_000 });
    b.setStatus(1, 'running');
    await b.outbox.drained();
    expect(
      b.db.prepare('SELECT count(*) AS n FROM repopulse_outbox WHERE delivered_at IS NOT NULL').get(),
    ).toEqual({
      n: 1,
    });
  });

  it('keeps writing after close(): the rows wait for the next relay', async () => {
    const { db, bus, outbox } = setup();
    await outbox.close();
    const event = db.transaction(() => outbox.enqueue(db, 'repo:1', createEvent('repo.deleted', {})))();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await bus.head('repo:1')).toBe('0-0');
    const next = createOutbox({ store: createSqliteStore(db), bus });
    cleanups.push(() => next.close());
    await next.drained();
    expect((await replayTopic(bus, 'repo:1')).map((e) => e.event.id)).toEqual([event.id]);
    await expect(outbox.drained()).rejects.toMatchObject({ code: 'outbox_closed' });
  });

  it('checks its options', () => {
    const { db, bus } = setup();
    const store = createSqliteStore(db);
    expect(() => createOutbox({ store, bus, batchsize: 1 } as never)).toThrow(OptionsError);
    expect(() => createOutbox({ store } as never)).toThrow(
      expect.objectContaining({ code: 'missing_option' }),
    );
    expect(() => createOutbox({ store, bus, retryMinMs: 500, retryMaxMs: 10 })).toThrow(/retryMaxMs/);
    expect(() => createSqliteStore(db, { table: 'x; DROP TABLE tasks' })).toThrow(
      expect.objectContaining({ code: 'invalid_option', option: 'table' }),
    );
  });
});
