import type { ResetDelivery, StreamPosition } from '@repopulse/events-core';
import { comparePositions } from '@repopulse/events-core/wire';
import { describe, expect, it } from 'vitest';
import { type ContractContext, collect, numbered, settle } from '../harness';

/** dropTopic: the history and remembered ids go, subscribers are reset, positions keep increasing. */
export function dropSuite(ctx: ContractContext): void {
  const timeout = () => ctx.options.deliveryTimeoutMs;

  describe('dropTopic', () => {
    it('subscribers get one history_lost reset at the new head, then continue live', async () => {
      const { bus, topic } = await ctx.fresh();
      const old: StreamPosition[] = [];
      for (let i = 0; i < 3; i++) old.push((await bus.publish(topic, numbered(i))).position);
      const live = await collect(bus, topic);
      const replayed = await collect(bus, topic, { after: '0-0' });
      await replayed.waitForEvents(3, timeout());
      await bus.dropTopic(topic);
      await live.waitForReset(timeout());
      await replayed.waitForReset(timeout());
      const head = await bus.head(topic);
      expect(comparePositions(head, old.at(-1)!)).toBeGreaterThan(0);
      for (const sub of [live, replayed]) {
        expect(sub.resets()).toEqual([{ reset: true, position: head, reason: 'history_lost' }]);
      }
      const next = await bus.publish(topic, numbered(3));
      expect(comparePositions(next.position, head)).toBeGreaterThan(0);
      await live.waitForEvents(1, timeout());
      await replayed.waitForEvents(4, timeout());
      await settle();
      expect(live.deliveries.map((d) => (d.reset ? 'reset' : d.position))).toEqual(['reset', next.position]);
      expect(replayed.numbers()).toEqual([0, 1, 2, 3]);
      expect(replayed.resets()).toHaveLength(1);
    });

    it('a resume point from before the drop is a reset, also the old head; events after it follow', async () => {
      const { bus, topic } = await ctx.fresh();
      const old: StreamPosition[] = [];
      for (let i = 0; i < 3; i++) old.push((await bus.publish(topic, numbered(i))).position);
      await bus.dropTopic(topic);
      for (const after of [old[0]!, old.at(-1)!, '0-0']) {
        const sub = await collect(bus, topic, { after });
        await sub.waitForReset(timeout());
        await settle();
        expect(sub.deliveries).toHaveLength(1);
        expect(sub.events()).toEqual([]);
        await sub.subscription.unsubscribe();
      }
      const next = await bus.publish(topic, numbered(3));
      const resumed = await collect(bus, topic, { after: old.at(-1)! });
      await resumed.waitForReset(timeout());
      const reset = resumed.deliveries[0] as ResetDelivery;
      expect(reset.position).toBe(next.position);
      expect(reset.retainedAfter).toBeDefined();
      // Where the retained history starts again: after it, the new event replays without a reset.
      const tail = await collect(bus, topic, { after: reset.retainedAfter! });
      await tail.waitForEvents(1, timeout());
      await settle();
      expect(tail.numbers()).toEqual([3]);
      expect(tail.resets()).toEqual([]);
      expect(resumed.events()).toEqual([]);
    });

    it('forgets the ids of the dropped events: republishing one stores it again, later', async () => {
      const { bus, topic } = await ctx.fresh();
      const event = numbered(1);
      const first = await bus.publish(topic, event);
      await bus.dropTopic(topic);
      const again = await bus.publish(topic, event);
      expect(again.duplicate).toBeUndefined();
      expect(comparePositions(again.position, first.position)).toBeGreaterThan(0);
      expect(await bus.publish(topic, event)).toMatchObject({ position: again.position, duplicate: true });
    });

    it('leaves other topics alone; dropping a topic twice or one never written works', async () => {
      const bus = await ctx.create();
      const kept = ctx.topic('kept');
      const dropped = ctx.topic('dropped');
      const keptEvent = await bus.publish(kept, numbered(7));
      await bus.publish(dropped, numbered(8));
      await bus.dropTopic(dropped);
      await bus.dropTopic(dropped);
      await bus.dropTopic(ctx.topic('never'));
      expect(await bus.head(kept)).toBe(keptEvent.position);
      const replay = await collect(bus, kept, { after: '0-0' });
      await replay.waitForEvents(1, timeout());
      expect(replay.numbers()).toEqual([7]);
      expect(replay.resets()).toEqual([]);
    });

    it('reaches subscribers of another bus on the same store (another process)', async () => {
      if (!ctx.options.sharedHistory) return; // each bus has its own store
      const a = await ctx.create();
      const b = await ctx.create();
      const topic = ctx.topic();
      await a.publish(topic, numbered(0));
      const sub = await collect(b, topic, { after: '0-0' });
      await sub.waitForEvents(1, timeout());
      await a.dropTopic(topic);
      await sub.waitForReset(timeout());
      expect(sub.resets()).toEqual([{ reset: true, position: await a.head(topic), reason: 'history_lost' }]);
      await a.publish(topic, numbered(1));
      await sub.waitForEvents(2, timeout());
      expect(sub.numbers()).toEqual([0, 1]);
    });

    it('rejects a malformed topic with invalid_topic, and bus_closed after close', async () => {
      const bus = await ctx.create();
      await expect(bus.dropTopic('a\nb')).rejects.toMatchObject({ code: 'invalid_topic' });
      await bus.close();
      await expect(bus.dropTopic(ctx.topic())).rejects.toMatchObject({ code: 'bus_closed' });
    });
  });
}
