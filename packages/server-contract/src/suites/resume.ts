import { createEventStream } from '@repopulse/client';
import { sleep, waitFor } from '@repopulse/test-support';
import { EventSource } from 'eventsource';
import { expect, it } from 'vitest';
import { numberOf, publishNumbered, range, type ServerContext } from '../harness';

/** Replay after `Last-Event-ID` and `?last_event_id=`, and real clients resuming across drops. */
export function resumeSuite(ctx: ServerContext): void {
  it('replays after ?last_event_id= and after Last-Event-ID (the header wins), then goes live', async () => {
    const { server, bus } = await ctx.start();
    const id = ctx.id('replay');
    const positions = await publishNumbered(bus, id, 0, 10);
    const byQuery = await ctx.transport.request(server.url(id, `?last_event_id=${positions[3]}`));
    const byHeader = await ctx.transport.request(server.url(id, `?last_event_id=${positions[1]}`), {
      headers: { Accept: 'text/event-stream', 'Last-Event-ID': positions[6]! },
    });
    for (const res of [byQuery, byHeader]) ctx.defer(() => res.destroy());
    const live = await publishNumbered(bus, id, 10, 2);
    const end = `id: ${live[1]}\n`;
    await Promise.all([byQuery, byHeader].map((res) => res.waitFor((text) => text.includes(end))));
    const numbers = (text: typeof byQuery) =>
      text
        .messages()
        .filter((m) => m.event === 'log.append')
        .map((m) => numberOf(m.data!));
    expect(numbers(byQuery)).toEqual(range(4, 8));
    expect(numbers(byHeader)).toEqual(range(7, 5));
    expect(byQuery.messages().some((m) => m.event === 'reset')).toBe(false);
  });

  it('an EventSource resumes with Last-Event-ID across dropped connections: no gap, no duplicate', async () => {
    const { server, bus } = await ctx.start({ retryMs: 20 });
    const id = ctx.id('eventsource');
    const source = new EventSource(server.url(id), { fetch: ctx.transport.fetch });
    ctx.defer(() => source.close());
    const received: { n: number; id: string }[] = [];
    let opens = 0;
    source.addEventListener('open', () => {
      opens++;
    });
    source.addEventListener('log.append', (message) => {
      received.push({ n: numberOf(message.data), id: message.lastEventId });
    });
    await waitFor(async () => opens === 1 && (await server.stats()).streams === 1, { what: 'the stream' });
    const total = 120;
    const positions: string[] = [];
    const publisher = (async () => {
      for (let n = 0; n < total; n += 5) {
        positions.push(...(await publishNumbered(bus, id, n, 5)));
        await sleep(2);
      }
    })();
    for (const after of [20, 60]) {
      await waitFor(() => received.length >= after, { what: `${after} events` });
      const before = opens;
      server.dropConnections();
      await waitFor(() => opens > before, { what: 'a reconnect' });
    }
    await publisher;
    await waitFor(() => received.length >= total, { what: 'every event' });
    await sleep(30); // a duplicate would show up here
    expect(received.map((r) => r.n)).toEqual(range(0, total));
    expect(received.map((r) => r.id)).toEqual(positions);
    expect(opens).toBeGreaterThanOrEqual(3);
  });

  it('@repopulse/client follows the stream from a snapshot position and resumes across drops', async () => {
    const { server, bus } = await ctx.start({ retryMs: 20 });
    const id = ctx.id('client');
    const snapshot = await publishNumbered(bus, id, 0, 5);
    const stream = createEventStream(server.url(id), {
      fetch: ctx.transport.fetch,
      lastEventId: snapshot[2],
      backoff: { initialMs: 10, maxMs: 50 },
    });
    ctx.defer(() => stream.close());
    const got: number[] = [];
    stream.on('log.append', (event) => got.push(numberOf(event)));
    await waitFor(() => got.length === 2, { what: 'the replay' });
    await publishNumbered(bus, id, 5, 5);
    await waitFor(() => got.length === 7, { what: 'live events' });
    server.dropConnections();
    await publishNumbered(bus, id, 10, 5);
    await waitFor(() => got.length === 12, { what: 'events after the drop' });
    expect(got).toEqual(range(3, 12));
    expect(stream.lastEventId).not.toBe('');
  });
}
