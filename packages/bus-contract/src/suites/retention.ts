import { describe, expect, it } from 'vitest';
import { type ContractContext, collect, numbered, settle } from '../harness';

/** Retention: historyLimit and historyTtlMs. */
export function retentionSuite(ctx: ContractContext): void {
  const timeout = () => ctx.options.deliveryTimeoutMs;

  describe('retention', () => {
    it('keeps at least historyLimit events; an evicted point gets a reset (expired)', async () => {
      const historyLimit = 10;
      const bus = await ctx.create({ historyLimit });
      const topic = ctx.topic();
      const total = historyLimit * 3 + ctx.options.trimSlack;
      const published = [];
      for (let i = 0; i < total; i++) published.push(await bus.publish(topic, numbered(i)));

      const evicted = await collect(bus, topic, { after: published[0]!.position });
      await evicted.waitForReset(timeout());
      expect(evicted.deliveries[0]).toEqual({
        reset: true,
        position: published.at(-1)!.position,
        reason: 'expired',
      });

      const fromZero = await collect(bus, topic, { after: '0-0' });
      await fromZero.waitForReset(timeout());
      expect(fromZero.deliveries[0]).toMatchObject({ reset: true, reason: 'expired' });

      const keptFrom = total - historyLimit;
      const retained = await collect(bus, topic, { after: published[keptFrom]!.position });
      await retained.waitForEvents(historyLimit - 1, timeout());
      await settle();
      expect(retained.numbers()).toEqual(
        Array.from({ length: historyLimit - 1 }, (_, i) => keptFrom + 1 + i),
      );
      expect(retained.resets()).toEqual([]);
    });

    it('drops events older than historyTtlMs', async () => {
      const bus = await ctx.create({ historyTtlMs: 100 });
      const topic = ctx.topic();
      const old = await bus.publish(topic, numbered(0));
      await bus.publish(topic, numbered(1));
      await new Promise((r) => setTimeout(r, 250));
      const fresh = await bus.publish(topic, numbered(2));
      await bus.publish(topic, numbered(3));

      const expired = await collect(bus, topic, { after: old.position });
      await expired.waitForReset(timeout());
      expect(expired.deliveries[0]).toMatchObject({ reset: true, reason: 'expired' });

      const kept = await collect(bus, topic, { after: fresh.position });
      await kept.waitForEvents(1, timeout());
      await settle();
      expect(kept.numbers()).toEqual([3]);
    });
  });
}
