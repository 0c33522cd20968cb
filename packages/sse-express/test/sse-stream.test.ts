import { createServer as createHttpServer, type ServerResponse } from 'node:http';
import { connect as connectHttp2, createServer as createHttp2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { createEvent, type EventBus, EventValidationError } from '@repopulse/events-core';
import { comparePositions } from '@repopulse/events-core/wire';
import { sleep, waitFor } from '@repopulse/test-support';
import { describe, expect, it } from 'vitest';
import { logEvent, numberOf, publishNumbered, uniqueTopic } from '../../sse-server/test/helpers/events';
import { getJson, openRaw } from '../../sse-server/test/helpers/raw-stream';
import { createEventStreamCore } from '../src/index';
import { busFactories } from './helpers/bus-factories';
import { type ExpressVersion, serverStarter, type startServer } from './helpers/server';

const factories = await busFactories('sse-stream');
const PREAMBLE = 'retry: 3000\n\n: ok\n\n';

describe.each(factories)('SSE stream on the $name bus', (factory) => {
  const serve = serverStarter(factory);

  const start = async (
    bus: EventBus,
    extra: Parameters<typeof startServer>[0] = { bus },
    express: ExpressVersion = 5,
  ) => {
    return serve({ ...extra, bus }, { express });
  };

  it.each([4, 5] as const)('Express %i: exact headers, first bytes and frame format', async (version) => {
    const bus = await factory.create();
    const s = await start(bus, { bus }, version);
    const id = uniqueTopic('hdr').slice(5);
    const res = await openRaw(s.url(id));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/event-stream');
    expect(res.headers['cache-control']).toBe('no-cache, no-transform');
    expect(res.headers['x-accel-buffering']).toBe('no');
    expect(res.headers.connection).toBe('keep-alive');
    expect(res.headers['content-length']).toBeUndefined();
    await res.waitFor((text) => text.length >= PREAMBLE.length);
    expect(res.chunks[0]?.text).toBe(PREAMBLE);

    const event = logEvent(1, id);
    const { position } = await bus.publish(`repo:${id}`, event);
    const frame = `id: ${position}\nevent: log.append\ndata: ${JSON.stringify(event)}\n\n`;
    await res.waitFor((text) => text.length >= PREAMBLE.length + frame.length);
    expect(res.text).toBe(PREAMBLE + frame);
    res.destroy();
  });

  it('coalesces one tick of frames into one write per connection, sharing the bytes', async () => {
    const bus = await factory.create();
    const writes = new Map<ServerResponse, unknown[]>();
    const server = await serve(
      { bus },
      {
        before: [
          (_req, res, next) => {
            const list: unknown[] = [];
            writes.set(res, list);
            const original = res.write.bind(res) as (chunk: unknown) => boolean;
            res.write = ((chunk: unknown) => {
              list.push(chunk);
              return original(chunk);
            }) as typeof res.write;
            next();
          },
        ],
      },
    );
    const id = uniqueTopic('tick').slice(5);
    const clients = await Promise.all([1, 2, 3].map(() => openRaw(server.url(id))));
    await Promise.all(clients.map((c) => c.waitFor((t) => t.includes(': ok'))));
    await waitFor(() => server.handler.stats().streams === 3);
    expect(bus.stats().subscriptions).toBe(1);
    // 20 publishes started in the same tick: delivered (memory: synchronously) in one burst.
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => bus.publish(`repo:${id}`, logEvent(i, id))),
    );
    const last = results.at(-1)!.position;
    await Promise.all(clients.map((c) => c.waitFor((t) => t.includes(`id: ${last}\n`))));
    for (const c of clients) {
      const numbers = c
        .blocks()
        .filter((b) => b.event === 'log.append')
        .map((b) => numberOf(JSON.parse(b.data!)));
      expect(numbers).toEqual(Array.from({ length: 20 }, (_, i) => i));
    }
    const eventWrites = [...writes.values()].map((list) => list.slice(1)); // [0] is the preamble
    expect(eventWrites).toHaveLength(3);
    if (factory.name === 'memory') {
      // One tick → one write per connection, and the three connections got the very same Buffer.
      for (const list of eventWrites) expect(list).toHaveLength(1);
      expect(eventWrites[1]![0]).toBe(eventWrites[0]![0]);
      expect(eventWrites[2]![0]).toBe(eventWrites[0]![0]);
    } else {
      // Over Redis deliveries arrive in a few network reads: still fewer writes than frames, and
      // every connection got the same bytes.
      const joined = eventWrites.map((list) => Buffer.concat(list as Buffer[]).toString('utf8'));
      for (const list of eventWrites) expect(list.length).toBeLessThan(20);
      expect(joined[1]).toBe(joined[0]);
      expect(joined[2]).toBe(joined[0]);
    }
    for (const c of clients) c.destroy();
  });

  it('writes heartbeats only to idle connections, from one shared timer', async () => {
    const bus = await factory.create();
    const heartbeatMs = 200;
    // Server-side truth: every write() of every response, with its time.
    const writes = new Map<string, { at: number; text: string }[]>();
    const server = await serve(
      { bus, heartbeatMs },
      {
        before: [
          (req, res, next) => {
            const list: { at: number; text: string }[] = [];
            writes.set(req.url, list);
            const original = res.write.bind(res) as (chunk: unknown) => boolean;
            res.write = ((chunk: Buffer) => {
              list.push({ at: Date.now(), text: chunk.toString('utf8') });
              return original(chunk);
            }) as typeof res.write;
            next();
          },
        ],
      },
    );
    const s = server;
    const idleId = uniqueTopic('idle').slice(5);
    const busyId = uniqueTopic('busy').slice(5);
    const idle = await openRaw(s.url(idleId));
    const busy = await openRaw(s.url(busyId));
    await idle.waitFor((t) => t.includes(': ok'));
    await busy.waitFor((t) => t.includes(': ok'));
    // Keep `busy` busy (an event every ~25 ms) while `idle` hears nothing for ~1.2 s.
    const until = Date.now() + 1200;
    let n = 0;
    while (Date.now() < until) {
      await bus.publish(`repo:${busyId}`, logEvent(n++, busyId));
      await sleep(25);
    }
    await busy.waitFor((t) => t.split('event: log.append').length - 1 === n);
    // From here to the stats() check: synchronous, so the counts are of one moment.
    const idleWrites = writes.get(s.path(idleId))!;
    const busyWrites = writes.get(s.path(busyId))!;
    expect(idleWrites[0]!.text).toBe(PREAMBLE);
    const idleBeats = idleWrites.slice(1);
    expect(idleBeats.length).toBeGreaterThanOrEqual(2);
    for (const [i, w] of idleBeats.entries()) {
      expect(w.text).toBe(':\n\n');
      expect(w.at - idleWrites[i]!.at).toBeGreaterThanOrEqual(heartbeatMs - 20); // only after idleness
    }
    // The busy stream: a heartbeat may only follow a gap of heartbeatMs (e.g. a stalled machine).
    let busyBeats = 0;
    for (let i = 1; i < busyWrites.length; i++) {
      if (busyWrites[i]!.text !== ':\n\n') continue;
      busyBeats++;
      expect(busyWrites[i]!.at - busyWrites[i - 1]!.at).toBeGreaterThanOrEqual(heartbeatMs - 20);
    }
    expect(s.handler.stats().heartbeats).toBe(idleBeats.length + busyBeats);
    expect(busyBeats).toBeLessThan(idleBeats.length);
    expect(busyWrites.length - 1 - busyBeats).toBeGreaterThan(10);
    expect(idle.text).toMatch(/^retry: 3000\n\n: ok\n\n(:\n\n)+$/);
    idle.destroy();
    busy.destroy();
  });

  it('resumes from ?last_event_id= and from Last-Event-ID (header wins), replay then live', async () => {
    const bus = await factory.create();
    const s = await start(bus);
    const id = uniqueTopic('resume').slice(5);
    const positions = await publishNumbered(bus, `repo:${id}`, 0, 5);

    const viaQuery = await openRaw(s.url(id, `?last_event_id=${positions[1]}`));
    const viaHeader = await openRaw(s.url(id, `?last_event_id=${positions[3]}`), {
      Accept: 'text/event-stream',
      'Last-Event-ID': positions[0]!,
    });
    await viaQuery.waitFor((t) => t.includes(`id: ${positions[4]}\n`));
    await viaHeader.waitFor((t) => t.includes(`id: ${positions[4]}\n`));
    const [live] = await publishNumbered(bus, `repo:${id}`, 5, 1);
    for (const res of [viaQuery, viaHeader]) await res.waitFor((t) => t.includes(`id: ${live}\n`));
    const numbers = (res: typeof viaQuery) =>
      res
        .blocks()
        .filter((b) => b.event === 'log.append')
        .map((b) => numberOf(JSON.parse(b.data!)));
    expect(numbers(viaQuery)).toEqual([2, 3, 4, 5]);
    expect(numbers(viaHeader)).toEqual([1, 2, 3, 4, 5]);
    for (const b of viaQuery.blocks().filter((b) => b.event === 'log.append')) {
      expect(b.id).toBe(positions[numberOf(JSON.parse(b.data!))] ?? live);
    }
    viaQuery.destroy();
    viaHeader.destroy();
  });

  it('sends one reset (id = head) for a malformed or unknown point, then live', async () => {
    const bus = await factory.create();
    const s = await start(bus);
    const id = uniqueTopic('reset').slice(5);
    const positions = await publishNumbered(bus, `repo:${id}`, 0, 3);
    let head = positions[2]!;
    for (const point of ['garbage', '99999999999999-0']) {
      const res = await openRaw(s.url(id, `?last_event_id=${encodeURIComponent(point)}`));
      await res.waitFor((t) => t.includes('event: reset'));
      const [preamble, ...blocks] = res.text.split('\n\n');
      expect(preamble).toBe('retry: 3000');
      const reset = res.blocks().find((b) => b.event === 'reset')!;
      expect(reset.id).toBe(head);
      const data = JSON.parse(reset.data!);
      expect(data).toEqual({
        reason: point === 'garbage' ? 'malformed' : 'unknown_position',
        position: head,
      });
      expect(blocks.filter((b) => b.includes('event: log.append'))).toHaveLength(0);
      const [live] = await publishNumbered(bus, `repo:${id}`, 100, 1);
      await res.waitFor((t) => t.includes(`id: ${live}\n`));
      expect(res.blocks().filter((b) => b.event === 'reset')).toHaveLength(1);
      head = live!;
      res.destroy();
    }
  });

  it('sends a reset when the point fell out of retained history', async () => {
    const bus = await factory.create({ historyLimit: 5 });
    const s = await start(bus);
    const id = uniqueTopic('expired').slice(5);
    // Redis trims approximately (whole stream nodes), so publish enough to drop the first ones.
    const count = factory.name === 'memory' ? 10 : 250;
    const positions = await publishNumbered(bus, `repo:${id}`, 0, count);
    const res = await openRaw(s.url(id, `?last_event_id=${positions[0]}`));
    await res.waitFor((t) => t.includes('event: reset'));
    const reset = res.blocks().find((b) => b.event === 'reset')!;
    expect(reset.id).toBe(positions.at(-1));
    const { reason } = JSON.parse(reset.data!);
    if (factory.name === 'memory') expect(reason).toBe('expired');
    else expect(['expired', 'unknown_position']).toContain(reason);
    res.destroy();
  });

  it('a trimmed topic: the reset carries retained_after (SSE and long-poll); resuming after it replays the tail', async () => {
    const bus = await factory.create({ historyLimit: 5 });
    const s = await start(bus);
    const id = uniqueTopic('tail').slice(5);
    const count = factory.name === 'memory' ? 10 : 250;
    const positions = await publishNumbered(bus, `repo:${id}`, 0, count);
    const res = await openRaw(s.url(id, '?last_event_id=0-0'));
    await res.waitFor((t) => t.includes('event: reset'));
    const reset = res.blocks().find((b) => b.event === 'reset')!;
    res.destroy();
    const data = JSON.parse(reset.data!);
    expect(data).toMatchObject({ reason: 'expired', position: positions.at(-1) });
    const kept = positions.findIndex((p) => comparePositions(p, data.retained_after) > 0);
    if (factory.name === 'memory') expect(data.retained_after).toBe(positions[4]);
    expect(kept).toBeGreaterThan(0);
    expect(count - kept).toBeGreaterThanOrEqual(5);

    const poll = await getJson(s.url(id, '?after=0-0&wait=0'));
    expect((poll.body as { reset: unknown }).reset).toEqual(data);

    const tail = await openRaw(s.url(id, `?last_event_id=${data.retained_after}`));
    await tail.waitFor((t) => t.includes(`id: ${positions.at(-1)}\n`));
    const events = tail.blocks().filter((b) => b.id && b.data);
    expect(events.map((b) => b.id)).toEqual(positions.slice(kept));
    expect(events.map((b) => numberOf(JSON.parse(b.data!)))).toEqual(
      Array.from({ length: count - kept }, (_, i) => kept + i),
    );
    expect(tail.blocks().some((b) => b.event === 'reset')).toBe(false);
    tail.destroy();
  });

  it('SSE injection: a payload with "\\n\\ndata: forged" arrives as one intact event; CR/LF in type or id is refused', async () => {
    const bus = await factory.create();
    const s = await start(bus);
    const id = uniqueTopic('inject').slice(5);
    const topic = `repo:${id}`;
    const res = await openRaw(s.url(id));
    await res.waitFor((t) => t.includes(': ok'));
    await waitFor(() => bus.stats().subscriptions === 1);

    const evil = 'x\n\ndata: forged\n\nevent: reset\nid: 1-1\r\n\r\ndata: more';
    const sent = createEvent('log.append', { level: 'warn', message: evil }, { repo_id: id });
    await expect(
      bus.publish(topic, { ...sent, type: 'log.append\ndata: x' } as unknown as typeof sent),
    ).rejects.toBeInstanceOf(EventValidationError);
    await expect(bus.publish(topic, { ...sent, id: 'abc\r\nevent: reset' })).rejects.toMatchObject({
      code: 'invalid_field',
    });
    await expect(bus.publish(topic, { ...sent, request_id: 'r\nid: 9-9' })).rejects.toMatchObject({
      code: 'invalid_field',
    });
    const { position } = await bus.publish(topic, sent);
    await res.waitFor((t) => t.includes(`id: ${position}\n`) && t.endsWith('\n\n'));
    const blocks = res.blocks().slice(2); // after retry + comment
    expect(blocks).toHaveLength(1);
    expect(blocks[0]!.event).toBe('log.append');
    expect(blocks[0]!.raw.split('\n')).toHaveLength(3);
    expect(JSON.parse(blocks[0]!.data!).payload.message).toBe(evil);
    expect(res.text).not.toContain('\ndata: forged');
    res.destroy();
  });

  it('serves HTTP/2 (no Connection header) and plain node:http through the core', async () => {
    const bus = await factory.create();
    const topic = uniqueTopic('h2');
    const core = createEventStreamCore({ bus, topic });
    const h2 = createHttp2Server((req, res) => void core.handle(req, res));
    const h1 = createHttpServer((req, res) => void core.handle(req, res));
    await new Promise<void>((r) => h2.listen(0, '127.0.0.1', r));
    await new Promise<void>((r) => h1.listen(0, '127.0.0.1', r));
    try {
      const client = connectHttp2(`http://127.0.0.1:${(h2.address() as AddressInfo).port}`);
      const stream = client.request({ ':path': '/events', accept: 'text/event-stream' });
      const headers = await new Promise<Record<string, unknown>>((r) => stream.on('response', r));
      expect(headers[':status']).toBe(200);
      expect(headers['content-type']).toBe('text/event-stream');
      expect(headers['cache-control']).toBe('no-cache, no-transform');
      expect(headers['x-accel-buffering']).toBe('no');
      expect(headers.connection).toBeUndefined();
      let text = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        text += chunk;
      });
      await waitFor(() => text === PREAMBLE);
      const { position } = await bus.publish(topic, logEvent(7));
      await waitFor(() => text.includes(`id: ${position}\n`) && text.endsWith('\n\n'));
      expect(text.startsWith(`${PREAMBLE}id: ${position}\nevent: log.append\ndata: {`)).toBe(true);
      stream.close();
      client.close();

      const port1 = (h1.address() as AddressInfo).port;
      const post = await fetch(`http://127.0.0.1:${port1}/events`, { method: 'POST' });
      expect(post.status).toBe(405);
      expect(post.headers.get('allow')).toBe('GET, HEAD');
      expect(await post.json()).toEqual({
        error: { code: 'method_not_allowed', message: 'POST is not allowed here' },
      });
      const head = await fetch(`http://127.0.0.1:${port1}/events`, { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(head.headers.get('content-type')).toBe('text/event-stream');
      await waitFor(() => core.stats().connections === 0 && bus.stats().subscriptions === 0);
    } finally {
      await core.close();
      h2.close();
      await new Promise((r) => h1.close(r));
    }
  });
});
