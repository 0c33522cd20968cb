// The node adapter on `node:http2` (TLS, compatibility API) read by Node's http2 client: headers
// without `Connection`, events, HEAD, a stream that stops reading is evicted, a cancelled stream
// is counted, close() ends streams.
import { type ClientHttp2Session, connect, createSecureServer, type Http2SecureServer } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { createMemoryBus } from '@repopulse/bus-memory';
import type { EventBus } from '@repopulse/events-core';
import { requirement, waitFor } from '@repopulse/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { createNodeHandler, type NodeHandler } from '../src/node/index';
import { logEvent, publishUntilEvicted, uniqueTopic } from './helpers/events';
import { parseBlocks } from './helpers/raw-stream';
import { selfSignedCertificate } from './helpers/tls';

const certificate = selfSignedCertificate();
const mode = requirement(
  'sse-server',
  'missing' in certificate ? certificate.missing : undefined,
  'the HTTP/2 tests',
);

/** One HTTP/2 request on `session`: its headers, its body so far, and its end. */
function open(session: ClientHttp2Session, path: string, headers: Record<string, string> = {}) {
  const stream = session.request({ ':path': path, accept: 'text/event-stream', ...headers });
  let text = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    text += chunk;
  });
  const response = new Promise<Record<string, unknown>>((resolve, reject) => {
    stream.once('response', resolve);
    stream.once('error', reject);
  });
  const ended = new Promise<void>((resolve) => stream.once('close', () => resolve()));
  return {
    stream,
    response,
    ended,
    get text() {
      return text;
    },
    events: () => parseBlocks(text).filter((b) => b.event === 'log.append'),
  };
}

describe.skipIf(mode === 'skip')('createNodeHandler on node:http2 (TLS)', () => {
  let bus: EventBus | undefined;
  let handler: NodeHandler | undefined;
  let server: Http2SecureServer | undefined;
  let session: ClientHttp2Session | undefined;
  afterEach(async () => {
    session?.destroy();
    await handler?.close();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await bus?.close();
    handler = server = session = bus = undefined;
  });

  async function start(maxBufferedBytes?: number) {
    if ('missing' in certificate) throw new Error(certificate.missing);
    bus = createMemoryBus();
    const events = createNodeHandler({
      bus,
      topic: (req) => decodeURIComponent((req.url ?? '').split('?')[0]?.slice('/events/'.length) ?? ''),
      ...(maxBufferedBytes ? { maxBufferedBytes } : {}),
    });
    handler = events;
    server = createSecureServer({ ...certificate }, events);
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    // Windows as browsers set them (Chromium: 6 MB per stream, 15 MB per connection), so one
    // stream that stops reading blocks itself, not the connection, and a reading stream is never
    // held back by its window.
    session = connect(`https://127.0.0.1:${port}`, {
      ca: certificate.cert,
      settings: { initialWindowSize: 1024 * 1024 },
    });
    const client = session;
    await new Promise<void>((resolve) => client.once('connect', () => resolve()));
    client.setLocalWindowSize(16 * 1024 * 1024);
    return { bus, events, session };
  }

  it('streams over h2 with SSE headers and no Connection header; many streams share one connection', async () => {
    const { bus, events, session } = await start();
    const topic = uniqueTopic('h2');
    const streams = Array.from({ length: 10 }, () => open(session, `/events/${encodeURIComponent(topic)}`));
    const headers = await streams[0]!.response;
    expect(headers[':status']).toBe(200);
    expect(headers['content-type']).toBe('text/event-stream');
    expect(headers.connection).toBeUndefined();
    await waitFor(() => events.stats().streams === 10, { what: '10 streams on one session' });
    for (let i = 1; i <= 5; i++) await bus.publish(topic, logEvent(i));
    await waitFor(() => streams.every((s) => s.events().length === 5), { what: 'every stream got 5 events' });
    for (const s of streams) s.stream.close();
    await waitFor(() => events.stats().closedByClient === 10, { what: 'cancelled streams counted' });
    expect(bus.stats().subscriptions).toBe(0);
  });

  it('answers HEAD with the headers only and POST with 405', async () => {
    const { session } = await start();
    const path = `/events/${encodeURIComponent(uniqueTopic('h2-head'))}`;
    const head = open(session, path, { ':method': 'HEAD' });
    expect((await head.response)[':status']).toBe(200);
    await head.ended;
    expect(head.text).toBe('');
    const post = open(session, path, { ':method': 'POST', accept: 'application/json' });
    const postHeaders = await post.response;
    expect(postHeaders[':status']).toBe(405);
    expect(postHeaders.allow).toBe('GET, HEAD');
    await post.ended;
    expect(JSON.parse(post.text)).toMatchObject({ error: { code: 'method_not_allowed' } });
  });

  it('evicts a stream that stops reading (its flow-control window full), sparing the others on the session', async () => {
    const { bus, events, session } = await start(256 * 1024);
    const topic = uniqueTopic('h2-slow');
    const stalled = open(session, `/events/${encodeURIComponent(topic)}`);
    const reader = open(session, `/events/${encodeURIComponent(topic)}`);
    await stalled.response;
    stalled.stream.pause();
    await waitFor(() => events.stats().streams === 2, { what: 'two streams' });
    const published = await publishUntilEvicted(bus, events, topic);
    expect(events.stats().closedForBackpressure).toBe(1);
    await waitFor(() => reader.events().length === published, { what: 'the reader got everything' });
    expect(events.stats().streams).toBe(1);
  });

  it('close() ends the streams cleanly', async () => {
    const { events, session } = await start();
    const s = open(session, `/events/${encodeURIComponent(uniqueTopic('h2-close'))}`);
    await s.response;
    await waitFor(() => events.stats().streams === 1, { what: 'one stream' });
    await events.close();
    await s.ended;
    expect(s.text).toContain(': ok');
    expect(events.stats()).toMatchObject({ closedForShutdown: 1, streams: 0 });
  });
});
