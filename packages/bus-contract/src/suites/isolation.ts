import type { BusErrorContext } from '@repopulse/events-core';
import { describe, expect, it } from 'vitest';
import { type ContractContext, collect, numbered, settle } from '../harness';

/** One subscriber's failure never affects another. */
export function isolationSuite(ctx: ContractContext): void {
  const timeout = () => ctx.options.deliveryTimeoutMs;

  describe('handler isolation', () => {
    it('a throwing or rejecting handler goes to onError; everyone keeps receiving', async () => {
      const errors: { error: unknown; context: BusErrorContext }[] = [];
      const bus = await ctx.create({ onError: (error, context) => errors.push({ error, context }) });
      const topic = ctx.topic();
      const thrower = await collect(bus, topic, {}, () => {
        throw new Error('boom');
      });
      const rejected: number[] = [];
      await bus.subscribe(topic, async (d) => {
        if (!d.reset) rejected.push(d.position.length);
        throw new Error('async boom');
      });
      const healthy = await collect(bus, topic);
      for (let i = 0; i < 5; i++) await bus.publish(topic, numbered(i));
      await healthy.waitForEvents(5, timeout());
      await thrower.waitForEvents(5, timeout());
      await settle();
      expect(healthy.numbers()).toEqual([0, 1, 2, 3, 4]);
      expect(thrower.numbers()).toEqual([0, 1, 2, 3, 4]);
      expect(rejected).toHaveLength(5);
      expect(errors).toHaveLength(10);
      expect(errors.every((e) => e.context.source === 'handler' && e.context.topic === topic)).toBe(true);
      expect(errors.map((e) => (e.error as Error).message).sort()).toEqual([
        ...Array(5).fill('async boom'),
        ...Array(5).fill('boom'),
      ]);
    });

    it('a handler that never settles does not hold up others', async () => {
      const { bus, topic } = await ctx.fresh();
      let stuckCalls = 0;
      await bus.subscribe(topic, () => {
        stuckCalls++;
        return new Promise<void>(() => {});
      });
      const healthy = await collect(bus, topic);
      for (let i = 0; i < 5; i++) await bus.publish(topic, numbered(i));
      await healthy.waitForEvents(5, timeout());
      expect(healthy.numbers()).toEqual([0, 1, 2, 3, 4]);
      expect(stuckCalls).toBe(5);
    });
  });
}
