import { type Collector, numbered } from '@repopulse/bus-contract';
import { type EventBus, isRepoPulseError, type StreamPosition } from '@repopulse/events-core';
import { comparePositions } from '@repopulse/events-core/wire';
import type { ClusterNodeRole, RedisCluster } from '@repopulse/test-support';
import type { Cluster } from 'ioredis';
import { expect } from 'vitest';
import { keySlot } from '../src/cluster/key-slot';
import { DEFAULT_KEY_PREFIX, topicKey } from '../src/index';

/** Topics named `<label>:<n>` chosen so that each primary owns `perShard` of them. */
export async function topicsOnEveryShard(
  cluster: RedisCluster,
  label: string,
  perShard = 1,
): Promise<{ topic: string; slot: number; primary: ClusterNodeRole }[]> {
  const primaries = await slotOwners(cluster);
  const owner = (slot: number) => primaries.find((p) => p.slots.some(([a, b]) => slot >= a && slot <= b));
  const chosen: { topic: string; slot: number; primary: ClusterNodeRole }[] = [];
  for (let n = 0; chosen.length < primaries.length * perShard; n++) {
    if (n > 100_000)
      throw new Error(`no ${perShard} topic(s) found on each of ${primaries.length} primaries`);
    const topic = `${label}:${n}`;
    const slot = keySlot(topicKey(DEFAULT_KEY_PREFIX, topic));
    const primary = owner(slot);
    if (primary && chosen.filter((c) => c.primary.id === primary.id).length < perShard)
      chosen.push({ topic, slot, primary });
  }
  return chosen;
}

/**
 * The primaries that own slots, once they cover all 16,384 (right after a fault the view can
 * still list a primary without slots, or miss a promotion): waits up to 10 s for a whole view.
 */
async function slotOwners(cluster: RedisCluster): Promise<ClusterNodeRole[]> {
  for (let attempt = 0; ; attempt++) {
    const owners = (await cluster.roles()).filter((r) => r.role === 'primary' && r.slots.length > 0);
    const covered = owners.reduce((sum, p) => sum + p.slots.reduce((n, [a, b]) => n + b - a + 1, 0), 0);
    if (covered === 16_384 || attempt >= 100) return owners;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** One publish and how it ended. */
export interface PublishRecord {
  n: number;
  eventId: string;
  calledAt: number;
  settledAt: number;
  /** Set when it resolved. */
  position?: StreamPosition;
  /** Set when it rejected (always `bus_unavailable`, checked by {@link checkPublishes}). */
  error?: unknown;
}

/** Publishes numbered events to `topic` one after another (so in order) until `stop()`. */
export function publishUntilStopped(bus: EventBus, topic: string, pauseMs = 5) {
  const records: PublishRecord[] = [];
  let running = true;
  const done = (async () => {
    for (let n = 0; running; n++) {
      const event = numbered(n);
      const record: PublishRecord = { n, eventId: event.id, calledAt: Date.now(), settledAt: 0 };
      records.push(record);
      try {
        record.position = (await bus.publish(topic, event)).position;
      } catch (error) {
        record.error = error;
      }
      record.settledAt = Date.now();
      await new Promise((r) => setTimeout(r, pauseMs));
    }
  })();
  return {
    records,
    async stop() {
      running = false;
      await done;
    },
  };
}

/** The stream of `topic` as stored now: positions and event ids, oldest first. */
export async function storedEntries(
  admin: Cluster,
  topic: string,
): Promise<{ position: StreamPosition; eventId: string }[]> {
  const entries = await admin.xrange(topicKey(DEFAULT_KEY_PREFIX, topic), '-', '+');
  return entries.map(([position, fields]) => ({
    position: position as StreamPosition,
    eventId: fields[fields.indexOf('i') + 1]!,
  }));
}

/**
 * Every publish either resolved and is in the stream (at its position, once), or rejected with
 * `BusUnavailableError`; nothing is stored that nobody published, nothing twice. Returns the
 * counts.
 */
export function checkPublishes(
  records: PublishRecord[],
  stored: { position: StreamPosition; eventId: string }[],
): { resolved: number; rejected: number; rejectedButStored: number } {
  const byId = new Map(stored.map((s) => [s.eventId, s]));
  expect(byId.size).toBe(stored.length); // no event stored twice
  const published = new Set(records.map((r) => r.eventId));
  expect(stored.filter((s) => !published.has(s.eventId))).toEqual([]);
  let rejected = 0;
  let rejectedButStored = 0;
  for (const record of records) {
    if (record.position !== undefined) {
      expect(byId.get(record.eventId)?.position, `resolved publish #${record.n} is stored`).toBe(
        record.position,
      );
    } else {
      rejected++;
      expect(isRepoPulseError(record.error, 'bus_unavailable'), String(record.error)).toBe(true);
      if (byId.has(record.eventId)) rejectedButStored++;
    }
  }
  return { resolved: records.length - rejected, rejected, rejectedButStored };
}

/**
 * A subscriber saw every stored event once, in order — or an explicit reset, after which it saw
 * every stored event after the reset's position. `from` is where its view starts: `'0-0'` for
 * a replay of everything, else the head it subscribed at. Returns its reset count.
 */
export function checkSubscriber(
  collector: Collector,
  stored: { position: StreamPosition; eventId: string }[],
  from: StreamPosition,
): number {
  const { deliveries } = collector;
  let lastReset = -1;
  deliveries.forEach((d, i) => {
    if (d.reset) lastReset = i;
  });
  const start = lastReset >= 0 ? deliveries[lastReset]!.position : from;
  const after = deliveries.slice(lastReset + 1).flatMap((d) => (d.reset ? [] : [d]));
  const expected = stored.filter((s) => comparePositions(s.position, start) > 0);
  expect(after.map((d) => d.position)).toEqual(expected.map((s) => s.position));
  expect(after.map((d) => d.event.id)).toEqual(expected.map((s) => s.eventId));
  // Before the last reset too: in order, no duplicates.
  const before = deliveries.slice(0, Math.max(0, lastReset)).flatMap((d) => (d.reset ? [] : [d.position]));
  for (let i = 1; i < before.length; i++)
    expect(comparePositions(before[i]!, before[i - 1]!)).toBeGreaterThan(0);
  return collector.resets().length;
}
