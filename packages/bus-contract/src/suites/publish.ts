import { BusError, createEvent, EventValidationError } from '@repopulse/events-core';
import { comparePositions, isPosition } from '@repopulse/events-core/wire';
import { describe, expect, it } from 'vitest';
import { type ContractContext, collect, numbered, settle } from '../harness';

/** publish: validation, positions, storage. */
export function publishSuite(ctx: ContractContext): void {
  describe('publish', () => {
    it('resolves with a well-formed position and the normalized event', async () => {
      const bus = await ctx.create();
      const event = createEvent('task.progress', { phase: 'llm', percent: 40 }, { repo_id: 7, task_id: 3 });
      const result = await bus.publish(ctx.topic(), event);
      expect(isPosition(result.position)).toBe(true);
      expect(result.event).toEqual(event);
      expect(result.event.repo_id).toBe('7');
    });

    it('gives strictly increasing positions, also for a burst within one millisecond', async () => {
      const { bus, topic } = await ctx.fresh();
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, i) => bus.publish(topic, numbered(i))),
      );
      for (let i = 1; i < results.length; i++) {
        expect(comparePositions(results[i - 1]!.position, results[i]!.position)).toBeLessThan(0);
      }
      expect(await bus.head(topic)).toBe(results.at(-1)!.position);
    });

    it('rejects an invalid event with EventValidationError and stores nothing', async () => {
      const { bus, topic } = await ctx.fresh();
      await bus.publish(topic, numbered(1));
      const head = await bus.head(topic);
      const bad = { ...numbered(2), payload: { level: 'loud', message: 'x' } };
      await expect(bus.publish(topic, bad as never)).rejects.toMatchObject({
        code: 'invalid_payload',
        field: 'payload.level',
      });
      await expect(
        bus.publish(topic, { ...numbered(3), type: 'log.append\n' } as never),
      ).rejects.toBeInstanceOf(EventValidationError);
      await expect(bus.publish(topic, { ...numbered(4), id: 'a\r\nb' } as never)).rejects.toMatchObject({
        code: 'invalid_field',
      });
      expect(await bus.head(topic)).toBe(head);
      const late = await collect(bus, topic, { after: '0-0' });
      await settle();
      expect(late.numbers()).toEqual([1]);
    });

    it('rejects a malformed topic with BusError invalid_topic', async () => {
      const bus = await ctx.create();
      for (const topic of ['', 'a\nb', 'x'.repeat(257)]) {
        const error = await bus.publish(topic, numbered(1)).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(BusError);
        expect(error).toMatchObject({ code: 'invalid_topic' });
      }
      await expect(bus.subscribe('bad\r', () => {})).rejects.toMatchObject({ code: 'invalid_topic' });
    });

    it('stores a copy: changing the published object later changes nothing delivered', async () => {
      const { bus, topic } = await ctx.fresh();
      // A hand-made envelope: one from createEvent is frozen (see the next case).
      const event = structuredClone(numbered(1));
      await bus.publish(topic, event);
      if (event.type === 'log.append') event.payload.message = 'changed';
      const late = await collect(bus, topic, { after: '0-0' });
      await late.waitForEvents(1, ctx.options.deliveryTimeoutMs);
      expect(late.numbers()).toEqual([1]);
    });

    it('stores a createEvent envelope as made: it is frozen, so it cannot change after publish', async () => {
      const { bus, topic } = await ctx.fresh();
      const event = numbered(1);
      await bus.publish(topic, event);
      expect(() => {
        if (event.type === 'log.append') event.payload.message = 'changed';
      }).toThrow(TypeError);
      const late = await collect(bus, topic, { after: '0-0' });
      await late.waitForEvents(1, ctx.options.deliveryTimeoutMs);
      expect(late.events()[0]!.event).toEqual(event);
    });

    it('reports head 0-0 for a topic without events', async () => {
      const bus = await ctx.create();
      expect(await bus.head(ctx.topic())).toBe('0-0');
    });
  });
}
