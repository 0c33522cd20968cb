// WHATWG event-stream parsing as the client applies it (its own parser + a streaming TextDecoder),
// over real sockets from servers that write exact bytes.

import { cleanupAfterEach } from '@repopulse/test-support/vitest';
import { describe, expect, it, vi } from 'vitest';
import { createEventStream, type EventStream, type EventStreamError } from '../src/index';
import { collect, envelope, frame, realSleep } from './helpers/events';
import { openSse, startServer, type TestServer } from './helpers/http-server';

const cleanups = cleanupAfterEach(() => vi.restoreAllMocks());

async function serve(
  script: (res: import('node:http').ServerResponse, n: number) => void,
): Promise<TestServer> {
  let n = 0;
  const server = await startServer((_req, res) => script(res, ++n));
  cleanups.push(() => server.close());
  return server;
}

function open(server: TestServer, options: Parameters<typeof createEventStream>[1] = {}): EventStream {
  const stream = createEventStream(`${server.origin}/events`, { fallback: false, ...options });
  cleanups.push(() => stream.close());
  return stream;
}

const data = (n: number) => JSON.stringify(envelope(n));

describe('event-stream parsing', () => {
  it('strips a UTF-8 BOM at the start of the stream, so the first field still counts', async () => {
    const server = await serve((res) => {
      openSse(res, '');
      res.write(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(frame('7-0', 1))]));
    });
    const stream = open(server);
    const got = collect(stream);
    await got.waitFor(1);
    expect(got.items[0]?.position).toBe('7-0');
    expect(stream.lastEventId).toBe('7-0');
  });

  it('accepts CR, LF and CRLF line endings, also split across chunks', async () => {
    const server = await serve((res) => {
      openSse(res, ':hi\r\n\r\n');
      res.write(`id: 1-0\revent: log.append\rdata: ${data(1)}\r\r`);
      res.write(`id: 2-0\nevent: log.append\ndata: ${data(2)}\n\n`);
      res.write(`id: 3-0\r\nevent: log.append\r\ndata: ${data(3)}\r`);
      // The LF of that CRLF arrives in the next chunk: must not count as an extra blank line.
      setTimeout(() => res.write(`\n\r\nid: 4-0\r\ndata: ${data(4)}\r\n\r\n`), 20);
    });
    const stream = open(server);
    const got = collect(stream);
    await got.waitFor(4);
    expect(got.items.map((i) => i.position)).toEqual(['1-0', '2-0', '3-0', '4-0']);
    expect(got.items.map((i) => i.event.id)).toEqual(['evt-1', 'evt-2', 'evt-3', 'evt-4']);
  });

  it('decodes UTF-8 split at every byte and joins multi-line data with LF', async () => {
    const event = { ...envelope(1), payload: { level: 'info', message: 'héllo ☃ 😀' } };
    const json = JSON.stringify(event);
    const [head, tail] = [json.slice(0, 20), json.slice(20)];
    const bytes = Buffer.from(`id: 1-0\nevent: log.append\ndata: ${head}\ndata: ${tail}\n\n`);
    const server = await serve((res) => {
      openSse(res);
      for (const byte of bytes) res.write(Buffer.from([byte]));
    });
    const stream = open(server);
    const got = collect(stream);
    await got.waitFor(1);
    // The two data lines are joined by "\n", which is JSON whitespace.
    expect(got.items[0]?.event).toEqual(JSON.parse(`${head}\n${tail}`));
    expect(got.items[0]?.event.payload).toMatchObject({ message: 'héllo ☃ 😀' });
  });

  it('keeps the id across events without one; an empty id clears it (no Last-Event-ID on reconnect)', async () => {
    const server = await serve((res, n) => {
      openSse(res, ': ok\n\n');
      if (n === 1) res.end(`${frame('5-0', 1)}event: log.append\ndata: ${data(2)}\n\n`);
      else if (n === 2) res.end(`id:\nevent: log.append\ndata: ${data(3)}\n\n`);
    });
    const stream = open(server, { backoff: { initialMs: 1 } });
    const got = collect(stream);
    await got.waitFor(3);
    expect(got.items.map((i) => i.position)).toEqual(['5-0', '5-0', '']);
    const third = await server.waitForRequests(3);
    expect(server.requests[1]?.lastEventId).toBe('5-0');
    expect(third.lastEventId).toBeUndefined();
    expect(stream.lastEventId).toBe('');
  });

  it('discards an event left incomplete when the stream ends, and resumes from the last complete one', async () => {
    const server = await serve((res, n) => {
      openSse(res, ': ok\n\n');
      if (n === 1) res.end(`${frame('1-0', 1)}id: 2-0\nevent: log.append\ndata: ${data(2)}\n`);
    });
    const stream = open(server, { backoff: { initialMs: 1 } });
    const got = collect(stream);
    const second = await server.waitForRequests(2);
    expect(second.lastEventId).toBe('1-0');
    expect(got.items.map((i) => i.position)).toEqual(['1-0']);
  });

  it('honours retry: with digits only', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const server = await serve((res) => {
      openSse(res, '');
      res.end('retry: 10\n\n');
    });
    open(server, { backoff: { initialMs: 60_000 } });
    // 0.5 × 10 ms: the reconnect comes at once although initialMs is a minute.
    const second = await server.waitForRequests(2);
    expect(second.accept).toBe('text/event-stream');
  });

  it('ignores retry: values that are not all digits', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const server = await serve((res) => {
      openSse(res, '');
      res.end('retry: 10x\n\nretry: -1\n\nretry: 1.5\n\nretry:  5\n\n');
    });
    open(server, { backoff: { initialMs: 60_000 } });
    await server.waitForRequests(1);
    await realSleep(300); // any honoured value above would reconnect within 10 ms
    expect(server.requests).toHaveLength(1);
  });

  it('ignores comments and unknown fields; reports non-JSON data as bad_event and goes on', async () => {
    const server = await serve((res) => {
      openSse(res);
      res.write(': comment\nfoo: bar\nid: 1-0\nevent: log.append\ndata: not json\n\n');
      res.write(frame('2-0', 2));
    });
    const errors: EventStreamError[] = [];
    const stream = open(server, { onError: (e) => errors.push(e) });
    const got = collect(stream);
    await got.waitFor(1);
    expect(got.items.map((i) => i.position)).toEqual(['2-0']);
    expect(errors.map((e) => [e.code, e.fatal])).toEqual([['bad_event', false]]);
    expect(stream.state).toBe('open');
  });

  it('dispatches to typed handlers by envelope type, and to "*"', async () => {
    const server = await serve((res) => {
      openSse(res);
      res.write(frame('1-0', 1, 'log.append'));
      res.write(
        `id: 2-0\nevent: task.progress\ndata: ${JSON.stringify({ ...envelope(2, 'task.progress'), payload: { phase: 'llm', percent: 40 } })}\n\n`,
      );
    });
    const stream = open(server);
    const percents: (number | undefined)[] = [];
    const logs: string[] = [];
    stream.on('task.progress', (event) => percents.push(event.payload.percent));
    const off = stream.on('log.append', (event) => logs.push(event.payload.message));
    const all = collect(stream);
    await all.waitFor(2);
    expect(percents).toEqual([40]);
    expect(logs).toEqual(['line 1']);
    off();
  });
});
