import { waitFor } from '@repopulse/test-support';
import { expect, it } from 'vitest';
import { numberOf, publishNumbered, range, type ServerContext } from '../harness';

/** Resets: malformed, unknown and expired resume points, and history lost under an open stream. */
export function resetSuite(ctx: ServerContext): void {
  it('starts with one reset frame for a malformed, future or expired resume point, then goes live', async () => {
    const { server, bus } = await ctx.start({ historyLimit: 5 });
    const id = ctx.id('reset');
    const total = 20 + (ctx.options.trimSlack ?? 0);
    const positions = await publishNumbered(bus, id, 0, total);
    const head = positions.at(-1)!;
    const cases = [
      ['not-a-position', 'malformed'],
      [`${Date.now() + 86_400_000}-0`, 'unknown_position'],
      [positions[0]!, 'expired'],
    ] as const;
    for (const [from, reason] of cases) {
      const res = await ctx.transport.request(server.url(id), {
        headers: { Accept: 'text/event-stream', 'Last-Event-ID': from },
      });
      ctx.defer(() => res.destroy());
      await res.waitFor((text) => text.includes('event: reset'), 10_000, `a ${reason} reset`);
      const [reset, ...rest] = res.messages();
      expect(reset).toMatchObject({ event: 'reset', id: head });
      expect(JSON.parse(reset!.data!)).toMatchObject({ reason, position: head });
      expect(rest).toEqual([]);
      if (reason === 'expired') {
        // Still retained: the newest events, after `retained_after`.
        const { retained_after: retainedAfter } = JSON.parse(reset!.data!) as { retained_after?: string };
        expect(retainedAfter).toBeDefined();
        const tail = await ctx.transport.request(server.url(id, `?last_event_id=${retainedAfter}`));
        ctx.defer(() => tail.destroy());
        await tail.waitFor((text) => text.includes(`id: ${head}\n`), 10_000, 'the retained tail');
        const numbers = tail.messages().map((m) => numberOf(m.data!));
        expect(numbers.length).toBeGreaterThan(0);
        expect(numbers).toEqual(range(total - numbers.length, numbers.length));
      }
    }
  });

  it('sends history_lost in the middle of a stream when its topic is dropped, and continues live', async () => {
    const { server, bus } = await ctx.start();
    const id = ctx.id('lost');
    await publishNumbered(bus, id, 0, 3);
    const res = await ctx.transport.request(server.url(id, '?last_event_id=0-0'));
    ctx.defer(() => res.destroy());
    await res.waitFor((text) => text.split('event: log.append').length === 4, 10_000, 'the replay');
    await bus.dropTopic(`contract:${id}`);
    await res.waitFor((text) => text.includes('event: reset'), 10_000, 'the reset');
    const [after] = await publishNumbered(bus, id, 3, 1);
    await res.waitFor((text) => text.includes(`id: ${after}\n`), 10_000, 'the next live event');
    const messages = res.messages();
    expect(messages.map((m) => m.event)).toEqual([
      'log.append',
      'log.append',
      'log.append',
      'reset',
      'log.append',
    ]);
    expect(JSON.parse(messages[3]!.data!)).toMatchObject({ reason: 'history_lost' });
    await waitFor(async () => (await server.stats()).streams === 1, { what: 'the stream to stay open' });
  });
}
