import { describe, expect, it } from 'vitest';
import { type ContractContext, collect, numbered, settle } from '../harness';

/** subscribe: live, replay, resume points, isolation. */
export function subscribeSuite(ctx: ContractContext): void {
  const timeout = () => ctx.options.deliveryTimeoutMs;

  describe('subscribe', () => {
    it('without after delivers live events only, in order', async () => {
      const { bus, topic } = await ctx.fresh();
      await bus.publish(topic, numbered(0));
      const sub = await collect(bus, topic);
      for (let i = 1; i <= 20; i++) await bus.publish(topic, numbered(i));
      await sub.waitForEvents(20, timeout());
      expect(sub.numbers()).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      expect(sub.resets()).toEqual([]);
    });

    it('with after replays what followed, then continues live, with each event once', async () => {
      const { bus, topic } = await ctx.fresh();
      const published = [];
      for (let i = 0; i < 10; i++) published.push(await bus.publish(topic, numbered(i)));
      const sub = await collect(bus, topic, { after: published[3]!.position });
      for (let i = 10; i < 15; i++) await bus.publish(topic, numbered(i));
      await sub.waitForEvents(11, timeout());
      await settle();
      expect(sub.numbers()).toEqual([4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
      expect(sub.events()[0]!.position).toBe(published[4]!.position);
    });

    it('has no gap and no duplicate while publishes race the subscribe', async () => {
      const { bus, topic } = await ctx.fresh();
      let resumeAt = '';
      for (let i = 0; i < 50; i++) resumeAt = (await bus.publish(topic, numbered(i))).position;
      const racing = (async () => {
        for (let i = 50; i < 250; i++) {
          void bus.publish(topic, numbered(i));
          if (i % 7 === 0) await new Promise((r) => setImmediate(r));
        }
      })();
      const subs = await Promise.all([
        collect(bus, topic, { after: resumeAt }),
        (async () => {
          await new Promise((r) => setImmediate(r));
          return collect(bus, topic, { after: resumeAt });
        })(),
      ]);
      await racing;
      for (const sub of subs) {
        await sub.waitForEvents(200, timeout());
        await settle();
        expect(sub.numbers()).toEqual(Array.from({ length: 200 }, (_, i) => i + 50));
      }
    });

    it('replays nothing and sends no reset when after is the current head', async () => {
      const { bus, topic } = await ctx.fresh();
      let head = '';
      for (let i = 0; i < 3; i++) head = (await bus.publish(topic, numbered(i))).position;
      const sub = await collect(bus, topic, { after: head });
      await bus.publish(topic, numbered(3));
      await sub.waitForEvents(1, timeout());
      await settle();
      expect(sub.deliveries).toHaveLength(1);
      expect(sub.numbers()).toEqual([3]);
    });

    it('replays everything after 0-0 while nothing was trimmed', async () => {
      const { bus, topic } = await ctx.fresh();
      for (let i = 0; i < 5; i++) await bus.publish(topic, numbered(i));
      const sub = await collect(bus, topic, { after: '0-0' });
      await sub.waitForEvents(5, timeout());
      expect(sub.numbers()).toEqual([0, 1, 2, 3, 4]);
      expect(sub.resets()).toEqual([]);
    });

    it.each([
      ['malformed', 'not-a-position', 'malformed'],
      ['leading zero', '01-1', 'malformed'],
      ['from the future', `${Date.now() + 10 ** 9}-0`, 'unknown_position'],
    ])('sends one reset first for a %s point, then continues live', async (_label, after, reason) => {
      const { bus, topic } = await ctx.fresh();
      await bus.publish(topic, numbered(0));
      const head = await bus.head(topic);
      const sub = await collect(bus, topic, { after });
      await sub.waitForReset(timeout());
      await bus.publish(topic, numbered(1));
      await sub.waitForEvents(1, timeout());
      await settle();
      expect(sub.deliveries[0]).toEqual({ reset: true, position: head, reason });
      expect(sub.resets()).toHaveLength(1);
      expect(sub.numbers()).toEqual([1]);
    });

    it('sends a reset for a position this topic never issued', async () => {
      const { bus, topic } = await ctx.fresh();
      const first = await bus.publish(topic, numbered(0));
      await new Promise((r) => setTimeout(r, 5));
      await bus.publish(topic, numbered(1));
      const [ms] = first.position.split('-');
      const sub = await collect(bus, topic, { after: `${ms}-999999` });
      await sub.waitForReset(timeout());
      expect(sub.deliveries[0]).toMatchObject({ reset: true });
      expect(sub.numbers()).toEqual([]);
    });

    it('keeps topics apart', async () => {
      const bus = await ctx.create();
      const a = ctx.topic('a');
      const b = ctx.topic('b');
      const subA = await collect(bus, a);
      const subB = await collect(bus, b);
      await bus.publish(a, numbered(1));
      await bus.publish(b, numbered(2));
      await bus.publish(a, numbered(3));
      await subA.waitForEvents(2, timeout());
      await subB.waitForEvents(1, timeout());
      await settle();
      expect(subA.numbers()).toEqual([1, 3]);
      expect(subB.numbers()).toEqual([2]);
    });

    it(
      ctx.options.sharedHistory
        ? 'lets a second bus on the same store replay positions issued by the first'
        : 'answers positions of an earlier bus (an earlier process) with a reset',
      async () => {
        const first = await ctx.create();
        const topic = ctx.topic();
        const p0 = await first.publish(topic, numbered(0));
        await first.publish(topic, numbered(1));
        const second = await ctx.create();
        if (!ctx.options.sharedHistory) await first.close();
        const sub = await collect(second, topic, { after: p0.position });
        if (ctx.options.sharedHistory) {
          await sub.waitForEvents(1, timeout());
          await settle();
          expect(sub.numbers()).toEqual([1]);
          expect(sub.resets()).toEqual([]);
        } else {
          await sub.waitForReset(timeout());
          expect(sub.deliveries).toEqual([{ reset: true, position: '0-0', reason: 'unknown_position' }]);
        }
      },
    );
  });
}
