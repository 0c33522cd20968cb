// Memory per topic follows what the topic retains: a dropped or expired topic costs nothing, and
// history storage grows with its events rather than being allocated up front for historyLimit.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { collect, numbered, settle } from '@repopulse/bus-contract';
import { createEvent } from '@repopulse/events-core';
import { comparePositions } from '@repopulse/events-core/wire';
import { describe, expect, it } from 'vitest';
import { createMemoryBus } from '../src/index';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

describe('memory bus: bounded memory per topic', () => {
  it('creating, publishing to and dropping 3,000 topics returns to the baseline', async () => {
    const bus = createMemoryBus({ historyLimit: 5000 });
    const round = async (name: string) => {
      const topics = Array.from({ length: 3000 }, (_, i) => `${name}:${i}`);
      for (const topic of topics) {
        const sub = await bus.subscribe(topic, () => {});
        for (let i = 0; i < 3; i++) await bus.publish(topic, numbered(i));
        await sub.unsubscribe();
      }
      return topics;
    };
    // A first round warms up code and the bus's maps, so the baseline counts only what a round holds.
    for (const topic of await round('warm')) await bus.dropTopic(topic);
    const baseline = heapAfterGc();

    const topics = await round('repo');
    expect(bus.historyStats()).toEqual({ topics: 3000, events: 9000 });
    // Three events per topic cost what three events cost, not a 5,000-slot ring (~39 KB) each.
    const held = heapAfterGc() - baseline;
    expect(held / 3000).toBeLessThan(4096);

    for (const topic of topics) await bus.dropTopic(topic);
    expect(bus.historyStats()).toEqual({ topics: 0, events: 0 });
    expect(bus.stats()).toEqual({ topics: 0, subscriptions: 0 });
    // Back to the baseline, give or take the heap's own noise (the finding: +126 MB for 3,000).
    expect(heapAfterGc() - baseline).toBeLessThan(1024 * 1024);
  });

  it('subscribing to, reading and heading topics never published holds nothing', async () => {
    const bus = createMemoryBus();
    for (let i = 0; i < 1000; i++) {
      const sub = await bus.subscribe(`t${i}`, () => {}, { after: '0-0' });
      expect(await bus.head(`t${i}`)).toBe('0-0');
      await sub.unsubscribe();
    }
    expect(bus.historyStats()).toEqual({ topics: 0, events: 0 });
  });

  it('lets go of topics whose every event expired during later publishes, without a timer', async () => {
    let clock = 1_000_000;
    const bus = createMemoryBus({ historyTtlMs: 1_000, now: () => clock });
    const last = [];
    for (let i = 0; i < 100; i++) {
      await bus.publish(`old:${i}`, numbered(0));
      last.push(await bus.publish(`old:${i}`, numbered(1)));
      clock += 1;
    }
    await bus.publish('kept', numbered(0));
    clock += 500;
    await bus.publish('kept', numbered(1)); // 'kept' is published again: it moves to the back
    clock += 600; // every old:* event is now past the limit, 'kept' has one event left
    expect(bus.historyStats()).toEqual({ topics: 1, events: 1 });
    // The head of an expired topic is a resume point that misses nothing; older ones get a reset.
    const resumed = await collect(bus, 'old:99', { after: last[99]!.position });
    const expired = await collect(bus, 'old:99', { after: '0-0' });
    await bus.publish('old:99', numbered(2));
    await settle();
    expect(resumed.deliveries.map((d) => (d.reset ? d.reason : d.event.type))).toEqual(['log.append']);
    expect(comparePositions(resumed.events()[0]!.position, last[99]!.position)).toBeGreaterThan(0);
    expect(expired.deliveries[0]).toMatchObject({ reset: true, reason: 'expired' });
  });

  it('forgets an id exactly when its event leaves the history (count or age)', async () => {
    let clock = 5_000;
    const bus = createMemoryBus({ historyLimit: 3, historyTtlMs: 1_000, now: () => clock });
    const evicted = createEvent('log.append', { level: 'info', message: 'a' });
    const first = await bus.publish('t', evicted);
    for (let i = 0; i < 2; i++) await bus.publish('t', numbered(i));
    expect(await bus.publish('t', evicted)).toMatchObject({ position: first.position, duplicate: true });
    await bus.publish('t', numbered(2)); // evicts the first event
    const stored = await bus.publish('t', evicted);
    expect(stored.duplicate).toBeUndefined();
    expect(comparePositions(stored.position, first.position)).toBeGreaterThan(0);

    const aged = createEvent('log.append', { level: 'info', message: 'b' });
    const before = await bus.publish('u', aged);
    clock += 1_001;
    const after = await bus.publish('u', aged);
    expect(after.duplicate).toBeUndefined();
    expect(comparePositions(after.position, before.position)).toBeGreaterThan(0);
  });

  it('keeps positions increasing across drops and forgotten topics, also when the clock goes back', async () => {
    let clock = 1_000;
    const bus = createMemoryBus({ now: () => clock });
    const a = await bus.publish('t', numbered(0));
    await bus.dropTopic('t');
    const dropped = await bus.head('t');
    clock = 500;
    const b = await bus.publish('t', numbered(1));
    expect([a.position, dropped, b.position]).toEqual(['1000-0', '1000-1', '1000-2']);
    // A topic let go answers from the bus's floor; a resume point from before its drop is a reset.
    const other = await bus.publish('other', numbered(2));
    await bus.dropTopic('other');
    const floor = await bus.head('other');
    expect(comparePositions(floor, other.position)).toBeGreaterThan(0);
    const old = await collect(bus, 'other', { after: other.position });
    // A topic never let go is a new topic: head 0-0, and 0-0 replays without a reset.
    expect(await bus.head('never-published')).toBe('0-0');
    const fresh = await collect(bus, 'never-published', { after: '0-0' });
    await bus.publish('never-published', numbered(3));
    await settle();
    expect(old.deliveries).toEqual([{ reset: true, position: floor, reason: 'expired' }]);
    expect(fresh.deliveries.map((d) => (d.reset ? d.reason : d.event.type))).toEqual(['log.append']);
  });
});
