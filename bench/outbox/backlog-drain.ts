import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEvent, type EventBus } from '@repopulse/events-core';
import { createOutbox } from '@repopulse/outbox';
import { createSqliteStore } from '@repopulse/outbox/sqlite';
import Database from 'better-sqlite3';

/** Events per second of each round: the bus's own publish rate, and the relay draining a backlog. */
export interface DrainRates {
  publish: number[];
  drain: number[];
}

/** Publishes per topic in flight, in both variants: the relay's default `maxInFlight`. */
const IN_FLIGHT = 64;

const progress = (i: number) =>
  createEvent('task.progress', { phase: 'analysis', percent: i % 100 }, { repo_id: 1 });

/** Counts deliveries on `topics`; `reached(n)` resolves once `n` arrived. */
async function countDeliveries(bus: EventBus, topics: string[]) {
  let count = 0;
  let target = Number.POSITIVE_INFINITY;
  let done: () => void = () => {};
  const subs = await Promise.all(
    topics.map((topic) =>
      bus.subscribe(topic, (d) => {
        if (d.reset) return;
        if (++count >= target) done();
      }),
    ),
  );
  return {
    reached(n: number) {
      target = n;
      return count >= n ? Promise.resolve() : new Promise<void>((resolve) => (done = resolve));
    },
    close: () => Promise.all(subs.map((s) => s.unsubscribe())),
  };
}

/**
 * The bus's own publish rate: `events` fresh events over `topics.length` topics, {@link IN_FLIGHT}
 * in flight per topic, topics in parallel, until every one reached a subscriber.
 */
async function publishRate(bus: EventBus, topics: string[], events: number): Promise<number> {
  const counter = await countDeliveries(bus, topics);
  const perTopic = Math.ceil(events / topics.length);
  const start = process.hrtime.bigint();
  await Promise.all(
    topics.map(async (topic) => {
      for (let sent = 0; sent < perTopic; sent += IN_FLIGHT) {
        const n = Math.min(IN_FLIGHT, perTopic - sent);
        await Promise.all(Array.from({ length: n }, (_, i) => bus.publish(topic, progress(sent + i))));
      }
    }),
  );
  await counter.reached(perTopic * topics.length);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  await counter.close();
  return (perTopic * topics.length) / seconds;
}

/**
 * The relay draining a backlog after an outage: `events` fresh events committed to SQLite while no
 * relay ran (one transaction per 100 events, unmeasured), then a relay starts; timed until every
 * event reached a subscriber.
 */
async function drainRate(bus: EventBus, topics: string[], events: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'repopulse-bench-drain-'));
  const db = new Database(join(dir, 'app.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  const store = createSqliteStore(db);
  const writer = createOutbox({ store, bus, relay: false });
  const perTopic = Math.ceil(events / topics.length);
  const total = perTopic * topics.length;
  const commit = db.transaction((from: number) => {
    for (let i = from; i < Math.min(total, from + 100); i++) {
      writer.enqueue(db, topics[i % topics.length] as string, progress(i));
    }
  });
  for (let i = 0; i < total; i += 100) commit(i);
  const counter = await countDeliveries(bus, topics);
  try {
    const start = process.hrtime.bigint();
    const relay = createOutbox({ store, bus });
    await counter.reached(total);
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    await relay.close();
    return total / seconds;
  } finally {
    await counter.close();
    await writer.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Interleaved rounds of {@link publishRate} and {@link drainRate} on `bus`, each round on fresh
 * topics (`<prefix><round>:<n>`).
 */
export async function drainVsPublish(
  bus: EventBus,
  topicCount: number,
  events: number,
  rounds: number,
  log: (m: string) => void,
): Promise<DrainRates> {
  const rates: DrainRates = { publish: [], drain: [] };
  for (let round = 0; round <= rounds; round++) {
    const topics = (kind: string) =>
      Array.from({ length: topicCount }, (_, i) => `bench:drain:${process.pid}:${kind}${round}:${i}`);
    const publish = await publishRate(bus, topics('p'), events);
    const drain = await drainRate(bus, topics('d'), events);
    log(`drain round ${round}: publish ${Math.round(publish)}/s, drain ${Math.round(drain)}/s`);
    if (round === 0) continue; // warm-up
    rates.publish.push(publish);
    rates.drain.push(drain);
  }
  return rates;
}
