// Answers that must stop the stream without a retry loop, and the one credential refresh on 401.

import { cleanupAfterEach } from '@repopulse/test-support/vitest';
import { describe, expect, it } from 'vitest';
import { createEventStream, type EventStream, type EventStreamError } from '../src/index';
import { collect, frame, realSleep, waitForState } from './helpers/events';
import { openSse, refuse, startServer, type TestServer } from './helpers/http-server';

const cleanups = cleanupAfterEach();

async function serve(handler: Parameters<typeof startServer>[0]): Promise<TestServer> {
  const server = await startServer(handler);
  cleanups.push(() => server.close());
  return server;
}

function open(server: TestServer, options: Parameters<typeof createEventStream>[1] = {}) {
  const errors: EventStreamError[] = [];
  const stream = createEventStream(`${server.origin}/events`, {
    backoff: { initialMs: 1 },
    onError: (e) => errors.push(e),
    ...options,
  });
  cleanups.push(() => stream.close());
  return { stream, errors };
}

describe('fatal answers', () => {
  it.each([
    [400, 'bad_request'],
    [403, 'forbidden'],
    [404, 'not_found'],
    [410, 'http_status'],
    [204, 'no_content'],
  ])('%i stops at once with code %s, after a single request', async (status, code) => {
    const server = await serve((_req, res) => refuse(res, status));
    const { stream, errors } = open(server);
    await waitForState(stream, 'closed');
    await realSleep(30);
    expect(server.requests).toHaveLength(1);
    expect(stream.error).toMatchObject({ code, fatal: true, status });
    expect(errors).toEqual([stream.error]);
    if (status !== 204) expect(stream.error?.message).toContain(`refused with ${status}`);
  });

  it('treats a 200 that is not text/event-stream as fatal when fallback is off', async () => {
    const server = await serve((_req, res) =>
      res.writeHead(200, { 'Content-Type': 'text/html' }).end('<html>'),
    );
    const { stream } = open(server, { fallback: false });
    await waitForState(stream, 'closed');
    expect(stream.error).toMatchObject({ code: 'bad_response', fatal: true });
    expect(server.requests).toHaveLength(1);
  });

  it('on 401 asks headers() once more with refresh: true, then gives up on a second 401', async () => {
    const server = await serve((_req, res) => refuse(res, 401));
    const calls: boolean[] = [];
    const { stream } = open(server, {
      headers: ({ refresh }) => {
        calls.push(refresh);
        return { Authorization: `Bearer ${refresh ? 'fresh' : 'stale'}` };
      },
    });
    await waitForState(stream, 'closed');
    expect(calls).toEqual([false, true]);
    expect(server.requests.map((r) => r.authorization)).toEqual(['Bearer stale', 'Bearer fresh']);
    expect(stream.error).toMatchObject({ code: 'unauthorized', status: 401, fatal: true });
  });

  it('a refreshed token that works opens the stream; a later expiry can refresh again', async () => {
    let valid = 'token-1';
    const server = await serve((req, res) => {
      if (req.headers.authorization !== `Bearer ${valid}`) return refuse(res, 401);
      openSse(res, ': ok\n\n');
      res.write(frame(`${server.requests.length}-0`, server.requests.length));
    });
    let issued = 0;
    let cached = 'token-0';
    const { stream, errors } = open(server, {
      headers: async ({ refresh }) => {
        if (refresh) cached = `token-${++issued}`;
        return { Authorization: `Bearer ${cached}` };
      },
    });
    const got = collect(stream);
    await got.waitFor(1);
    expect(server.requests.map((r) => r.authorization)).toEqual(['Bearer token-0', 'Bearer token-1']);
    // The server rotates credentials and drops the stream: the client refreshes once more.
    valid = 'token-2';
    server.dropConnections();
    await got.waitFor(2);
    expect(server.requests.slice(2).map((r) => r.authorization)).toEqual([
      'Bearer token-1',
      'Bearer token-2',
    ]);
    expect(server.requests[3]?.lastEventId).toBe('2-0');
    expect(errors.filter((e) => e.fatal)).toEqual([]);
  });

  it('gives up with retries_exhausted after maxRetries consecutive failures', async () => {
    const server = await serve((_req, res) => refuse(res, 503));
    const { stream, errors } = open(server, { maxRetries: 2, fallback: false });
    await waitForState(stream, 'closed');
    expect(server.requests).toHaveLength(3);
    expect(errors.map((e) => [e.code, e.status, e.fatal])).toEqual([
      ['http_status', 503, false],
      ['http_status', 503, false],
      ['http_status', 503, false],
      ['retries_exhausted', undefined, true],
    ]);
    expect(stream.error?.cause).toMatchObject({ code: 'http_status', status: 503 });
  });

  it('the async iterator throws the fatal error after yielding what arrived', async () => {
    const server = await serve((_req, res) => {
      if (server.requests.length > 1) return refuse(res, 403);
      openSse(res, ': ok\n\n');
      res.end(frame('1-0', 1));
    });
    const { stream } = open(server);
    const seen: string[] = [];
    const run = async () => {
      for await (const item of stream as EventStream) seen.push(item.position);
    };
    await expect(run()).rejects.toMatchObject({ code: 'forbidden' });
    expect(seen).toEqual(['1-0']);
  });
});
