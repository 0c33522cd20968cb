import { expect, it } from 'vitest';
import { numbered, openStream, publishNumbered, range, type ServerContext } from '../harness';
import { topicOf } from '../mount';

const preamble = (retryMs: number) => `retry: ${retryMs}\n\n: ok\n\n`;

/** Headers, first bytes, frame format, byte-identical fan-out, HEAD and 405. */
export function streamSuite(ctx: ServerContext): void {
  it('answers SSE with the exact headers, first bytes and frame format', async () => {
    const { server, bus } = await ctx.start({ retryMs: 1500 });
    const id = ctx.id('headers');
    const res = await openStream(ctx, server, id);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/event-stream');
    expect(res.headers['cache-control']).toBe('no-cache, no-transform');
    expect(res.headers['x-accel-buffering']).toBe('no');
    expect(res.headers['content-length']).toBeUndefined();
    if (ctx.transport.protocol === 'http1') expect(res.headers.connection).toBe('keep-alive');
    else expect(res.headers.connection).toBeUndefined();
    await res.waitFor((text) => text.length >= preamble(1500).length, 10_000, 'the first bytes');
    expect(res.text).toBe(preamble(1500));

    const event = numbered(1);
    const { position } = await bus.publish(topicOf(id), event);
    const frame = `id: ${position}\nevent: log.append\ndata: ${JSON.stringify(event)}\n\n`;
    await res.waitFor((text) => text.includes(frame), 10_000, 'the frame');
    expect(res.text).toBe(preamble(1500) + frame);
  });

  it('sends every live event once, in order, with the same bytes to every stream of a topic', async () => {
    const { server, bus } = await ctx.start();
    const id = ctx.id('fanout');
    const streams = await Promise.all([1, 2, 3].map(() => openStream(ctx, server, id)));
    await Promise.all(streams.map((res) => res.waitFor((text) => text.includes(': ok\n\n'))));
    const positions = await publishNumbered(bus, id, 0, 50);
    const last = `id: ${positions.at(-1)}\n`;
    await Promise.all(
      streams.map((res) => res.waitFor((text) => text.includes(last), 10_000, 'the last event')),
    );
    const ids = streams[0]!.messages().filter((m) => m.event === 'log.append');
    expect(ids.map((m) => m.id)).toEqual(positions);
    expect(ids.map((m) => JSON.parse(m.data!).payload.message)).toEqual(range(0, 50).map((n) => `m${n}`));
    expect(streams[1]!.text).toBe(streams[0]!.text);
    expect(streams[2]!.text).toBe(streams[0]!.text);
  });

  it('answers HEAD with the stream headers and no body, other methods with 405 and Allow', async () => {
    const { server } = await ctx.start();
    const id = ctx.id('methods');
    const head = await ctx.transport.request(server.url(id), {
      method: 'HEAD',
      headers: { Accept: 'text/event-stream' },
    });
    await head.ended;
    expect(head.status).toBe(200);
    expect(head.headers['content-type']).toBe('text/event-stream');
    expect(head.text).toBe('');
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const res = await ctx.transport.request(server.url(id), {
        method,
        headers: { Accept: 'text/event-stream', 'Content-Length': '0' },
      });
      await res.ended;
      expect(res.status, method).toBe(405);
      expect(res.headers.allow).toBe('GET, HEAD');
      expect(JSON.parse(res.text)).toMatchObject({ error: { code: 'method_not_allowed' } });
    }
    const stats = await server.stats();
    expect(stats).toMatchObject({ connections: 0, streams: 0 });
  });
}
