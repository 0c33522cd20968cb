import { expect, it } from 'vitest';
import { openStream, publishNumbered, type ServerContext } from '../harness';

/** Heartbeat comments on an idle stream. */
export function heartbeatSuite(ctx: ServerContext): void {
  it('writes a heartbeat comment to a stream idle for heartbeatMs', async () => {
    const { server, bus } = await ctx.start({ heartbeatMs: 100 });
    const id = ctx.id('heartbeat');
    const res = await openStream(ctx, server, id);
    const heartbeats = (text: string) =>
      text.split('\n:\n\n').length - 1 + (text.startsWith(':\n\n') ? 1 : 0);
    await res.waitFor((text) => heartbeats(text) >= 2, 5_000, 'two heartbeats');
    await publishNumbered(bus, id, 0, 1);
    await res.waitFor((text) => text.includes('event: log.append'));
    // Heartbeats are comments: a client sees only the event.
    expect(res.messages().map((m) => m.event)).toEqual(['log.append']);
    expect(res.text).toMatch(/\n:\n\n/);
  });
}
