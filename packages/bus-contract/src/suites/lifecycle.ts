import { BusClosedError } from '@repopulse/events-core';
import { describe, expect, it, vi } from 'vitest';
import { type ContractContext, collect, numbered, settle } from '../harness';

/** Unsubscribe, abort, close: nothing left behind. */
export function lifecycleSuite(ctx: ContractContext): void {
  const timeout = () => ctx.options.deliveryTimeoutMs;
  const released = (bus: { stats(): { topics: number; subscriptions: number } }) =>
    vi.waitFor(() => expect(bus.stats()).toEqual({ topics: 0, subscriptions: 0 }), { timeout: timeout() });

  describe('lifecycle', () => {
    it('unsubscribe stops delivery and releases every listener', async () => {
      const { bus, topic } = await ctx.fresh();
      const sub = await collect(bus, topic);
      expect(bus.stats()).toEqual({ topics: 1, subscriptions: 1 });
      await bus.publish(topic, numbered(1));
      await sub.waitForEvents(1, timeout());
      await sub.subscription.unsubscribe();
      await sub.subscription.unsubscribe(); // idempotent
      await bus.publish(topic, numbered(2));
      await settle();
      expect(sub.numbers()).toEqual([1]);
      await released(bus);
    });

    it('leaves no listener behind after many subscribe/unsubscribe cycles on many topics', async () => {
      const bus = await ctx.create();
      const topics = Array.from({ length: 5 }, (_, i) => ctx.topic(`cycle${i}`));
      for (let round = 0; round < 20; round++) {
        const subs = await Promise.all(
          topics.flatMap((t) => [bus.subscribe(t, () => {}), bus.subscribe(t, () => {}, { after: '0-0' })]),
        );
        expect(bus.stats()).toEqual({ topics: 5, subscriptions: 10 });
        await Promise.all(subs.map((s) => s.unsubscribe()));
      }
      await released(bus);
    });

    it('an aborted signal unsubscribes; an already aborted one never subscribes', async () => {
      const { bus, topic } = await ctx.fresh();
      const controller = new AbortController();
      const sub = await collect(bus, topic, { signal: controller.signal });
      await bus.publish(topic, numbered(1));
      await sub.waitForEvents(1, timeout());
      controller.abort();
      await released(bus);
      await bus.publish(topic, numbered(2));
      const early = await collect(bus, topic, { signal: AbortSignal.abort(), after: '0-0' });
      await settle();
      expect(sub.numbers()).toEqual([1]);
      expect(early.deliveries).toEqual([]);
      expect(bus.stats().subscriptions).toBe(0);
    });

    it('close ends every subscription; publish and subscribe afterwards reject with bus_closed', async () => {
      const { bus, topic } = await ctx.fresh();
      const sub = await collect(bus, topic);
      await bus.close();
      expect(bus.stats()).toEqual({ topics: 0, subscriptions: 0 });
      const error = await bus.publish(topic, numbered(1)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BusClosedError);
      expect(error).toMatchObject({ code: 'bus_closed' });
      await expect(bus.subscribe(topic, () => {})).rejects.toMatchObject({ code: 'bus_closed' });
      await sub.subscription.unsubscribe();
      await bus.close(); // idempotent
      expect(sub.deliveries).toEqual([]);
    });
  });
}
