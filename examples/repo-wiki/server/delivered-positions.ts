import type { EventBus, StreamPosition } from '@repopulse/events-core';
import { comparePositions } from '@repopulse/events-core/wire';
import type { Db } from './db';

/**
 * The bus position of the last event the outbox relay delivered, per topic: what a snapshot
 * carries as its `position`, so a page loads without asking the bus (it loads while the bus is
 * down).
 *
 * Why it is a safe starting point for the page's stream: an event is relayed only after its
 * transaction committed, so every event at or before a delivered position is already in any
 * snapshot read afterwards. Events after it are either committed but not yet relayed (already in
 * the snapshot: the page's reducers skip what they already show) or not committed yet (not in
 * the snapshot: the stream brings them). The page misses nothing.
 */
export interface DeliveredPositions {
  /** The app's bus as the relay sees it: every position it stores is noted here. */
  readonly relayBus: EventBus;
  /** The newest position known delivered on `topic`, or `undefined` when none is known. */
  get(topic: string): StreamPosition | undefined;
  /** Writes the positions noted since the last flush (also done once per event-loop turn). */
  flush(): void;
}

/**
 * Notes the positions the relay gets from `bus`. With `persist` (a bus that outlives the process:
 * Redis) they are also written to the `bus_positions` table, shared by every process on the
 * database, so a page loads with a tight position after a restart too; without it (the memory bus,
 * which starts empty with the process) they are kept in memory only.
 */
export function createDeliveredPositions(db: Db, bus: EventBus, persist: boolean): DeliveredPositions {
  const known = new Map<string, StreamPosition>();
  const unsaved = new Map<string, StreamPosition>();
  const read = db.prepare('SELECT position FROM bus_positions WHERE topic = ?').pluck();
  const write = db.prepare(
    'INSERT INTO bus_positions (topic, position) VALUES (?, ?) ON CONFLICT(topic) DO UPDATE SET position = excluded.position',
  );
  let flushing: NodeJS.Immediate | undefined;

  const newer = (a: StreamPosition | undefined, b: StreamPosition | undefined) =>
    a === undefined ? b : b === undefined || comparePositions(a, b) >= 0 ? a : b;

  const flush = () => {
    if (flushing) clearImmediate(flushing);
    flushing = undefined;
    if (unsaved.size === 0 || !db.open) return;
    const rows = [...unsaved];
    unsaved.clear();
    db.transaction(() => {
      for (const [topic, position] of rows) write.run(topic, position);
    })();
  };

  const note = (topic: string, position: StreamPosition) => {
    const best = newer(known.get(topic), position) as StreamPosition;
    known.set(topic, best);
    if (!persist) return;
    unsaved.set(topic, best);
    flushing ??= setImmediate(flush);
  };

  const relayBus: EventBus = {
    async publish(topic, event) {
      const result = await bus.publish(topic, event);
      note(topic, result.position);
      return result;
    },
    subscribe: (topic, handler, options) => bus.subscribe(topic, handler, options),
    head: (topic) => bus.head(topic),
    dropTopic: (topic) => bus.dropTopic(topic),
    stats: () => bus.stats(),
    close: () => bus.close(),
  };

  return {
    relayBus,
    get(topic) {
      const here = known.get(topic);
      if (!persist) return here;
      return newer(here, read.get(topic) as StreamPosition | undefined);
    },
    flush,
  };
}
