import { collect, numbered, settle } from '@repopulse/bus-contract';
import type { BusErrorContext } from '@repopulse/events-core';
import { afterEach, expect, it } from 'vitest';
import { channelOf } from '../src/channel-name';
import type { PostgresBus } from '../src/index';
import { quoteIdentifier } from '../src/schema-sql';
import { describeWithPostgres, useBusSchema } from './postgres-support';

describeWithPostgres('bus-postgres: live reads', () => {
  const db = useBusSchema('bus_live');
  const open: PostgresBus[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((b) => b.close()));
  });

  it('reports a stored row it cannot parse once, skips it, and goes on past it on later wake-ups', async () => {
    const reports: BusErrorContext[] = [];
    const b = db.bus({ onError: (_error, context) => void reports.push(context) });
    open.push(b);
    const t = `live:${Date.now().toString(36)}`;
    const sub = await collect(b, t);
    const { pool, name } = db.schema();
    const channel = channelOf(name, t);
    // A row whose envelope is not JSON, stored the way a publish stores one (and notified).
    await pool.query(`SELECT * FROM ${quoteIdentifier(name)}.append_events($1, $2, $3, $4, 1000, 0, NULL)`, [
      t,
      channel,
      ['not-json'],
      ['{"broken'],
    ]);
    await expect.poll(() => reports.length, { timeout: 5000 }).toBe(1);
    expect(reports[0]).toMatchObject({ topic: t, source: 'connection' });
    // Later wake-ups with nothing new: the broken row is behind the bus, not read and reported again.
    for (let i = 0; i < 3; i++) {
      await pool.query('SELECT pg_notify($1, $2)', [channel, '']);
      await settle(100);
    }
    await settle(200);
    expect(reports).toHaveLength(1);
    await b.publish(t, numbered(1));
    await sub.waitForEvents(1, 5000);
    expect(sub.numbers()).toEqual([1]);
    expect(reports).toHaveLength(1);
  });
});
