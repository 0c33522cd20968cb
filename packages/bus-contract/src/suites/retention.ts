import type { EventBus, ResetDelivery } from '@repopulse/events-core';
import { comparePositions } from '@repopulse/events-core/wire';
import { describe, expect, it } from 'vitest';
import { type ContractContext, collect, numbered, settle } from '../harness';

/**
 * The age limit of the tests that expect the newest events to be kept: long enough for the
 * subscriptions that follow the publishes to read them on a loaded machine.
 */
const KEPT_TTL_MS = 600;

/** The count limit of the count-trimming tests. */
const HISTORY_LIMIT = 10;

/** Retention: historyLimit and historyTtlMs. */
export function retentionSuite(ctx: ContractContext): void {
  const timeout = () => ctx.options.deliveryTimeoutMs;

  /** Subscribes after `after`: exactly `replayed` in order, then one live event `next`, no reset. */
  async function expectReplayThenLive(
    bus: EventBus,
    topic: string,
    after: string,
    replayed: number[],
    next: number,
  ): Promise<void> {
    const sub = await collect(bus, topic, { after });
    await sub.waitForEvents(replayed.length, timeout());
    await bus.publish(topic, numbered(next));
    await sub.waitForEvents(replayed.length + 1, timeout());
    await settle();
    expect(sub.numbers()).toEqual([...replayed, next]);
    expect(sub.resets()).toEqual([]);
  }

  /** A bus keeping `HISTORY_LIMIT` events, and a topic it published three times as many to (plus the slack). */
  async function publishPastLimit() {
    const { bus, topic } = await ctx.fresh({ historyLimit: HISTORY_LIMIT });
    const total = HISTORY_LIMIT * 3 + ctx.options.trimSlack;
    const published = [];
    for (let i = 0; i < total; i++) published.push(await bus.publish(topic, numbered(i)));
    return { bus, topic, total, published };
  }

  describe('retention', () => {
    it('keeps at least historyLimit events; an evicted point gets a reset (expired)', async () => {
      const { bus, topic, total, published } = await publishPastLimit();

      const evicted = await collect(bus, topic, { after: published[0]!.position });
      await evicted.waitForReset(timeout());
      expect(evicted.deliveries[0]).toMatchObject({
        reset: true,
        position: published.at(-1)!.position,
        reason: 'expired',
      });

      const fromZero = await collect(bus, topic, { after: '0-0' });
      await fromZero.waitForReset(timeout());
      expect(fromZero.deliveries[0]).toMatchObject({ reset: true, reason: 'expired' });

      const keptFrom = total - HISTORY_LIMIT;
      const retained = await collect(bus, topic, { after: published[keptFrom]!.position });
      await retained.waitForEvents(HISTORY_LIMIT - 1, timeout());
      await settle();
      expect(retained.numbers()).toEqual(
        Array.from({ length: HISTORY_LIMIT - 1 }, (_, i) => keptFrom + 1 + i),
      );
      expect(retained.resets()).toEqual([]);
    });

    it('drops events older than historyTtlMs', async () => {
      const { bus, topic } = await ctx.fresh({ historyTtlMs: KEPT_TTL_MS });
      const old = await bus.publish(topic, numbered(0));
      await bus.publish(topic, numbered(1));
      await new Promise((r) => setTimeout(r, KEPT_TTL_MS + 200));
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

    it('an expired reset after count trimming carries retainedAfter; after it the tail replays, then live', async () => {
      const { bus, topic, total, published } = await publishPastLimit();

      const fromZero = await collect(bus, topic, { after: '0-0' });
      const evicted = await collect(bus, topic, { after: published[0]!.position });
      await fromZero.waitForReset(timeout());
      await evicted.waitForReset(timeout());
      const reset = fromZero.deliveries[0] as ResetDelivery;
      expect(reset).toMatchObject({ reset: true, reason: 'expired', position: published.at(-1)!.position });
      expect(evicted.deliveries[0]).toEqual(reset);
      // Where the retained tail starts: after the first event, with at least historyLimit kept.
      const retainedAfter = reset.retainedAfter!;
      expect(comparePositions(retainedAfter, published[0]!.position)).toBeGreaterThanOrEqual(0);
      const expected = published.flatMap((p, i) =>
        comparePositions(p.position, retainedAfter) > 0 ? [i] : [],
      );
      expect(expected.length).toBeGreaterThanOrEqual(HISTORY_LIMIT);
      expect(expected.length).toBeLessThan(total);

      await expectReplayThenLive(bus, topic, retainedAfter, expected, total);
    });

    it('an expired reset after age trimming carries retainedAfter, between the expired and the kept', async () => {
      const { bus, topic } = await ctx.fresh({ historyTtlMs: KEPT_TTL_MS });
      const old = await bus.publish(topic, numbered(0));
      const newestExpired = await bus.publish(topic, numbered(1));
      await new Promise((r) => setTimeout(r, KEPT_TTL_MS + 200));
      const oldestKept = await bus.publish(topic, numbered(2));
      await bus.publish(topic, numbered(3));

      const resets: ResetDelivery[] = [];
      for (const after of ['0-0', old.position]) {
        const expired = await collect(bus, topic, { after });
        await expired.waitForReset(timeout());
        expect(expired.deliveries[0]).toMatchObject({ reset: true, reason: 'expired' });
        resets.push(expired.deliveries[0] as ResetDelivery);
      }
      const retainedAfter = resets[0]!.retainedAfter!;
      expect(resets[1]!.retainedAfter).toBe(retainedAfter);
      expect(comparePositions(retainedAfter, newestExpired.position)).toBeGreaterThanOrEqual(0);
      expect(comparePositions(retainedAfter, oldestKept.position)).toBeLessThan(0);

      await expectReplayThenLive(bus, topic, retainedAfter, [2, 3], 4);
    });

    it('a topic whose every event expired gives an expired reset without retainedAfter', async () => {
      const { bus, topic } = await ctx.fresh({ historyTtlMs: 100 });
      const old = await bus.publish(topic, numbered(0));
      const last = await bus.publish(topic, numbered(1));
      await new Promise((r) => setTimeout(r, 250));

      for (const after of ['0-0', old.position]) {
        const expired = await collect(bus, topic, { after });
        await expired.waitForReset(timeout());
        expect(expired.deliveries[0]).toEqual({ reset: true, position: last.position, reason: 'expired' });
      }
      // The head itself stays a valid resume point: live events follow it.
      await expectReplayThenLive(bus, topic, last.position, [], 2);
    });
  });
}
