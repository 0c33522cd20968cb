import { createEvent } from '@repopulse/events-core';
import { comparePositions } from '@repopulse/events-core/wire';
import { describe, expect, it } from 'vitest';
import { type ContractContext, collect, numbered, settle } from '../harness';

/** publish is idempotent by event id while the topic retains the event. */
export function idempotenceSuite(ctx: ContractContext): void {
  const timeout = () => ctx.options.deliveryTimeoutMs;

  describe('idempotent publish', () => {
    it('the same id twice: the same position, the stored envelope, duplicate: true, one delivery', async () => {
      const { bus, topic } = await ctx.fresh();
      const sub = await collect(bus, topic);
      const event = numbered(1);
      const first = await bus.publish(topic, event);
      await bus.publish(topic, numbered(2));
      // The id alone decides: a different envelope with a known id is not stored either.
      const again = await bus.publish(topic, { ...event, payload: { level: 'warn', message: 'changed' } });
      expect(first.duplicate).toBeUndefined();
      expect('duplicate' in first).toBe(false);
      expect(again).toEqual({ position: first.position, event: first.event, duplicate: true });
      await bus.publish(topic, numbered(3));
      await sub.waitForEvents(3, timeout());
      await settle();
      expect(sub.numbers()).toEqual([1, 2, 3]);
      const replay = await collect(bus, topic, { after: '0-0' });
      await replay.waitForEvents(3, timeout());
      await settle();
      expect(replay.numbers()).toEqual([1, 2, 3]);
    });

    it('a duplicate moves nothing: the head stays, later events follow the last stored one', async () => {
      const { bus, topic } = await ctx.fresh();
      const event = numbered(1);
      await bus.publish(topic, event);
      const last = await bus.publish(topic, numbered(2));
      await bus.publish(topic, event);
      expect(await bus.head(topic)).toBe(last.position);
      const next = await bus.publish(topic, numbered(3));
      expect(comparePositions(next.position, last.position)).toBeGreaterThan(0);
    });

    it('publishes of one id racing each other store it once', async () => {
      const { bus, topic } = await ctx.fresh();
      const sub = await collect(bus, topic);
      const events = Array.from({ length: 20 }, (_, i) => numbered(i));
      // Every event three times, all in flight at once, interleaved.
      const results = await Promise.all([...events, ...events, ...events].map((e) => bus.publish(topic, e)));
      for (let i = 0; i < events.length; i++) {
        const same = [results[i]!, results[i + 20]!, results[i + 40]!];
        expect(new Set(same.map((r) => r.position)).size).toBe(1);
        expect(same.filter((r) => r.duplicate).length).toBe(2);
        expect(same.every((r) => r.event.id === events[i]!.id)).toBe(true);
      }
      await sub.waitForEvents(20, timeout());
      await settle();
      expect(sub.numbers()).toEqual(Array.from({ length: 20 }, (_, i) => i));
    });

    it('publishes of one id racing from two buses on one store (two processes) store it once', async () => {
      if (!ctx.options.sharedHistory) return; // each bus has its own store: nothing is shared
      const a = await ctx.create();
      const b = await ctx.create();
      const topic = ctx.topic();
      const sub = await collect(a, topic);
      const events = Array.from({ length: 20 }, (_, i) => numbered(i));
      const results = await Promise.all(events.flatMap((e) => [a.publish(topic, e), b.publish(topic, e)]));
      for (let i = 0; i < events.length; i++) {
        const pair = [results[2 * i]!, results[2 * i + 1]!];
        expect(pair[0]!.position).toBe(pair[1]!.position);
        expect(pair.filter((r) => r.duplicate).length).toBe(1);
      }
      await sub.waitForEvents(20, timeout());
      await settle();
      expect(sub.numbers().sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    });

    it('ids are per topic: the same event on another topic is stored there', async () => {
      const bus = await ctx.create();
      const event = createEvent('log.append', { level: 'info', message: 'both' });
      const one = await bus.publish(ctx.topic('one'), event);
      const two = await bus.publish(ctx.topic('two'), event);
      expect(one.duplicate).toBeUndefined();
      expect(two.duplicate).toBeUndefined();
    });

    it('remembers an id as long as its event is retained', async () => {
      const historyLimit = 5;
      const { bus, topic } = await ctx.fresh({ historyLimit });
      const oldest = numbered(0);
      const first = await bus.publish(topic, oldest);
      for (let i = 1; i < historyLimit; i++) await bus.publish(topic, numbered(i));
      expect(await bus.publish(topic, oldest)).toMatchObject({ position: first.position, duplicate: true });
    });
  });
}
