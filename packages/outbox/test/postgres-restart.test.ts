import { createMemoryBus } from '@repopulse/bus-memory';
import { createEvent } from '@repopulse/events-core';
import {
  type PostgresProcess,
  postgresServerMissing,
  requirement,
  startPostgres,
} from '@repopulse/test-support';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOutbox, type OutboxError } from '../src/index';
import { createPostgresStore } from '../src/postgres/index';
import { replayTopic, until } from './helpers/collect';

const mode = requirement('outbox', postgresServerMissing(), 'the Postgres restart tests of the outbox');
const TOPICS = ['repo:1', 'repo:2', 'repo:3'];

describe.skipIf(mode === 'skip')('the Postgres store while its server restarts', () => {
  let server: PostgresProcess;
  beforeAll(async () => {
    server = await startPostgres();
  }, 60_000);
  afterAll(() => server?.destroy());

  it.each(['fast', 'immediate'] as const)(
    'a %s restart while relaying: the relay takes its lease again and delivers every committed event once, in commit order',
    async (stopMode) => {
      const pool = new pg.Pool({ connectionString: server.url, max: 4 });
      pool.on('error', () => {});
      const table = `outbox_${stopMode}`;
      const bus = createMemoryBus({ historyLimit: 100_000 });
      const errors: OutboxError[] = [];
      const outbox = createOutbox({
        store: await createPostgresStore({ pool, table }),
        bus,
        keepDeliveredMs: 600_000, // rows stay, to compare with what was delivered
        retryMinMs: 20,
        retryMaxMs: 300,
        batchSize: 50,
        onError: (error) => errors.push(error),
      });
      try {
        let committed = 0;
        const commitBatch = async () => {
          const client = await pool.connect().catch(() => undefined);
          if (!client) return; // the server is restarting
          client.on('error', () => {}); // the restart ends it; the COMMIT below then fails
          try {
            await client.query('BEGIN');
            for (let i = 0; i < 20; i++) {
              const topic = TOPICS[(committed + i) % TOPICS.length] as string;
              await outbox.enqueue(client, topic, createEvent('task.progress', { phase: 'p', percent: i }));
            }
            await client.query('COMMIT');
            committed += 20;
            client.release();
          } catch {
            client.release(true); // the server went away: this transaction did not commit
          }
        };
        for (let i = 0; i < 50; i++) await commitBatch();
        await until(() => outbox.stats().then((s) => s.delivered > 100), 20_000, 'relaying');
        const writing = (async () => {
          for (let i = 0; i < 100; i++) await commitBatch();
        })();
        await server.restart(stopMode);
        await writing;
        for (let i = 0; i < 20; i++) await commitBatch();
        await outbox.drained(60_000);
        expect(errors.map((e) => e.code)).toContain('store_failed');
        expect(errors.filter((e) => e.code === 'event_refused' || e.code === 'order_violated')).toEqual([]);
        for (const topic of TOPICS) {
          const rows = await pool.query(`SELECT event_id FROM ${table} WHERE topic = $1 ORDER BY id`, [
            topic,
          ]);
          const delivered = (await replayTopic(bus, topic)).map((e) => e.event.id);
          expect(delivered).toEqual(rows.rows.map((r) => r.event_id));
        }
        const total = await pool.query(`SELECT count(*)::int AS n FROM ${table}`);
        expect(total.rows[0].n).toBeGreaterThanOrEqual(committed);
      } finally {
        await outbox.close();
        await bus.close();
        await pool.end();
      }
    },
    120_000,
  );
});
