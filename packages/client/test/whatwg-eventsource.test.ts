// The WHATWG HTML EventSource rules on ids, the request and the response status, checked over
// real sockets against servers that write exact bytes. Where the client deviates on purpose
// (retries of 5xx, the long-poll fallback), the README's "Deviations from EventSource" says so.
import type { ServerResponse } from 'node:http';
import { cleanupAfterEach } from '@repopulse/test-support/vitest';
import { describe, expect, it, vi } from 'vitest';
import {
  createEventStream,
  type EventStreamError,
  type EventStreamOptions,
  type FetchLike,
} from '../src/index';
import { collect, envelope, frame, realSleep, until, waitForState } from './helpers/events';
import { openSse, type SeenRequest, startServer, type TestServer } from './helpers/http-server';

const cleanups = cleanupAfterEach(() => vi.restoreAllMocks());

async function serve(
  script: (res: ServerResponse, req: SeenRequest, n: number) => void,
): Promise<TestServer> {
  let n = 0;
  const server: TestServer = await startServer((_req, res) =>
    script(res, server.requests.at(-1) as SeenRequest, ++n),
  );
  cleanups.push(() => server.close());
  return server;
}

function open(url: string, options: EventStreamOptions = {}) {
  const errors: EventStreamError[] = [];
  const stream = createEventStream(url, {
    fallback: false,
    backoff: { initialMs: 1 },
    onError: (e) => errors.push(e),
    ...options,
  });
  cleanups.push(() => stream.close());
  return { stream, errors, got: collect(stream) };
}

/** Node reads header bytes as latin1: recover the UTF-8 text the client sent. */
const utf8Header = (value: string | undefined) => Buffer.from(value ?? '', 'latin1').toString('utf8');

const data = (n: number) => JSON.stringify(envelope(n));

describe('ids (Last-Event-ID)', () => {
  it('sends a non-ASCII id UTF-8 encoded in Last-Event-ID, and keeps streaming over SSE', async () => {
    const id = 'pos…é😀-1';
    const server = await serve((res, _req, n) => {
      openSse(res);
      if (n === 1) res.end(`id: ${id}\nevent: log.append\ndata: ${data(1)}\n\n`);
      else res.write(frame('2-0', 2));
    });
    const { stream, got, errors } = open(`${server.origin}/events`);
    await got.waitFor(2);
    expect(got.items[0]?.position).toBe(id);
    expect(utf8Header(server.requests[1]?.lastEventId)).toBe(id);
    expect(errors).toEqual([]);
    expect(stream.state).toBe('open');
  });

  it('sends a non-ASCII lastEventId option UTF-8 encoded on the first request too', async () => {
    const server = await serve((res) => openSse(res));
    const { stream } = open(`${server.origin}/events`, { lastEventId: 'ü-1' });
    await waitForState(stream, 'open');
    expect(utf8Header(server.requests[0]?.lastEventId)).toBe('ü-1');
  });

  it('URL-encodes a non-ASCII cursor as UTF-8 in the long-poll ?after=', async () => {
    const server = await serve((res, req) => {
      if (req.accept === 'text/event-stream') res.writeHead(200, { 'Content-Type': 'text/html' }).end('<p>');
      else res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"events":[]}');
    });
    const { stream } = open(`${server.origin}/events`, {
      lastEventId: 'é…',
      fallback: { waitSeconds: 0.05 },
    });
    await waitForState(stream, 'polling');
    const poll = server.requests[1] as SeenRequest;
    expect(poll.url).toContain('after=%C3%A9%E2%80%A6');
    expect(poll.query.get('after')).toBe('é…');
  });

  it('ignores an id: that contains NUL (the previous id stays)', async () => {
    const server = await serve((res, _req, n) => {
      openSse(res);
      if (n === 1) res.end(`${frame('1-0', 1)}id: 2\u0000-0\nevent: log.append\ndata: ${data(2)}\n\n`);
    });
    const { got } = open(`${server.origin}/events`);
    await got.waitFor(2);
    expect(got.items.map((i) => i.position)).toEqual(['1-0', '1-0']);
    expect((await server.waitForRequests(2)).lastEventId).toBe('1-0');
  });

  it('a block with only id: (no data) still moves the last event id', async () => {
    const server = await serve((res, _req, n) => {
      openSse(res);
      if (n === 1) res.end(`${frame('1-0', 1)}id: 9-0\n\n`);
    });
    const { stream } = open(`${server.origin}/events`);
    expect((await server.waitForRequests(2)).lastEventId).toBe('9-0');
    expect(stream.lastEventId).toBe('9-0');
  });
});

describe('the request', () => {
  it('asks for text/event-stream with cache mode no-store (fetch adds Cache-Control: no-cache)', async () => {
    const server = await serve((res) => openSse(res));
    const inits: RequestInit[] = [];
    const recording: FetchLike = (input, init) => {
      inits.push(init);
      return fetch(input, init);
    };
    const { stream } = open(`${server.origin}/events`, { fetch: recording });
    await waitForState(stream, 'open');
    expect(inits[0]?.cache).toBe('no-store');
    const seen = server.requests[0] as SeenRequest;
    expect(seen.accept).toBe('text/event-stream');
    expect(seen.headers['cache-control']).toBe('no-cache');
    expect(seen.headers.pragma).toBe('no-cache');
  });
});

describe('response status and type', () => {
  it('streams a 200 whose Content-Type has parameters (text/event-stream; charset=utf-8)', async () => {
    const server = await serve((res) => {
      res.writeHead(200, { 'Content-Type': 'Text/Event-Stream; charset=utf-8' });
      res.write(frame('1-0', 1));
    });
    const { got } = open(`${server.origin}/events`);
    await got.waitFor(1);
    expect(got.items[0]?.position).toBe('1-0');
  });

  it.each([205, 210, 299])(
    'a %i is a typed fatal failure (no stream, no crash, no retry), even with an SSE body',
    async (status) => {
      const server = await serve((res) => {
        if (status === 205) return res.writeHead(205).end(); // a null body
        res.writeHead(status, { 'Content-Type': 'text/event-stream' }).end(frame('1-0', 1));
      });
      const { stream, errors, got } = open(`${server.origin}/events`, { fallback: undefined });
      await waitForState(stream, 'closed');
      await realSleep(30);
      expect(stream.error).toMatchObject({ code: 'http_status', status, fatal: true });
      expect(errors).toEqual([stream.error]);
      expect(got.items).toEqual([]);
      expect(server.requests).toHaveLength(1);
    },
  );

  it('a 204 stops the stream for good', async () => {
    const server = await serve((res) => res.writeHead(204).end());
    const { stream } = open(`${server.origin}/events`, { fallback: undefined });
    await waitForState(stream, 'closed');
    expect(stream.error).toMatchObject({ code: 'no_content', status: 204, fatal: true });
    expect(server.requests).toHaveLength(1);
  });

  it.each([301, 302, 303, 307, 308])(
    'follows a %i redirect, keeps Last-Event-ID, and reconnects to the original URL',
    async (status) => {
      const server = await serve((res, req) => {
        if (req.url === '/old') return res.writeHead(status, { Location: '/new' }).end();
        openSse(res);
        const n = server.requests.length;
        res.end(frame(`${n}-0`, n));
      });
      const { got } = open(`${server.origin}/old`, { lastEventId: '0-0' });
      await got.waitFor(2);
      const urls = server.requests.slice(0, 4).map((r) => [r.url, r.lastEventId]);
      expect(urls).toEqual([
        ['/old', '0-0'],
        ['/new', '0-0'],
        ['/old', '2-0'],
        ['/new', '2-0'],
      ]);
    },
  );
});

describe('a 200 that is not an event stream (wrong URL, portal page)', () => {
  it('is reported through the default onError the first time only, and the stream polls', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    const server = await serve((res, req) => {
      if (req.accept === 'text/event-stream') res.writeHead(200, { 'Content-Type': 'text/html' }).end('<p>');
      else res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"events":[]}');
    });
    const stream = createEventStream(`${server.origin}/events`, {
      fallback: { waitSeconds: 0.02, upgradeIntervalMs: 50 },
    });
    cleanups.push(() => stream.close());
    const seen: string[] = [];
    stream.onState((state, reason) => seen.push(`${state}:${reason?.code}`));
    await waitForState(stream, 'polling');
    expect(stream.reason).toMatchObject({ code: 'bad_response', status: 200 });
    expect(seen[0]).toBe('polling:bad_response'); // the state says why
    // Upgrade probes meet the same page again: not logged again.
    await until(() => server.requests.filter((r) => r.accept === 'text/event-stream').length >= 3, 'probes');
    expect(logged).toHaveBeenCalledTimes(1);
    expect(logged.mock.calls[0]?.[0]).toMatchObject({ code: 'bad_response', fatal: false, status: 200 });
    expect(String(logged.mock.calls[0]?.[0])).toContain('text/html');
    expect(['polling', 'probing']).toContain(stream.state);
    stream.close();
    expect(stream.reason).toBeUndefined(); // closed by the caller, not for an error
  });

  it('is fatal once afterFailures answers in a row were neither SSE nor the long-poll JSON', async () => {
    const server = await serve((res) => res.writeHead(200, { 'Content-Type': 'text/html' }).end('<p>'));
    const { stream, errors } = open(`${server.origin}/events`, { fallback: { afterFailures: 3 } });
    await waitForState(stream, 'closed');
    expect(stream.reason).toBe(stream.error);
    expect(errors.map((e) => [e.code, e.fatal])).toEqual([
      ['bad_response', false],
      ['bad_response', false],
      ['bad_response', true],
    ]);
    expect(server.requests.map((r) => r.accept)).toEqual([
      'text/event-stream',
      'application/json',
      'application/json',
    ]);
  });
});

describe('the default onError', () => {
  it('logs a handler that throws on every event once a minute, not once per event', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    const server = await serve((res) => {
      openSse(res);
      for (let i = 1; i <= 50; i++) res.write(frame(`1-${i}`, i));
    });
    const stream = createEventStream(`${server.origin}/events`, { fallback: false });
    cleanups.push(() => stream.close());
    let calls = 0;
    stream.on('log.append', () => {
      calls++;
      throw new Error('boom');
    });
    await until(() => calls === 50, '50 handler calls');
    expect(logged).toHaveBeenCalledTimes(1);
    expect(logged.mock.calls[0]?.[0]).toMatchObject({ code: 'handler' });
  });
});
