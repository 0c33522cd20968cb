// Each framework's getting-started file (src/, shown whole in docs/frameworks.md) started as it is,
// on a free port, and followed by a real SSE client (the `eventsource` package) until one event
// published on the bus arrives.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createAdaptorServer } from '@hono/node-server';
import { createEvent } from '@repopulse/events-core';
import { createTestCertificate } from '@repopulse/test-support';
import { EventSource, type FetchLike } from 'eventsource';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bus } from '../src/bus.js';

interface Closable {
  address(): AddressInfo | string | null;
  close(): unknown;
}

/** Opens `url`, publishes one event once the stream is open, resolves with what arrived. */
function receiveOne(url: string, fetch?: FetchLike): Promise<{ type: string; data: unknown }> {
  const source = new EventSource(url, fetch ? { fetch } : undefined);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      source.close();
      reject(new Error(`no event from ${url}`));
    }, 10_000);
    source.onopen = () =>
      void bus.publish(
        'repo:42',
        createEvent('task.progress', { phase: 'smoke', percent: 40 }, { repo_id: 42 }),
      );
    source.addEventListener('task.progress', (message) => {
      clearTimeout(timer);
      source.close();
      resolve({ type: message.type, data: JSON.parse(message.data) });
    });
  });
}

const portOf = (server: Closable) => (server.address() as AddressInfo).port;

const received = {
  type: 'task.progress',
  data: expect.objectContaining({ payload: { phase: 'smoke', percent: 40 } }),
};

const servers: Closable[] = [];
beforeAll(() => {
  process.env.PORT = '0';
});
afterAll(() => {
  for (const server of servers) server.close();
});

describe('getting started per framework: one event over a real SSE client', () => {
  it('node:http', async () => {
    const { server } = await import('../src/node-http.js');
    servers.push(server);
    expect(await receiveOne(`http://127.0.0.1:${portOf(server)}/api/repositories/42/events`)).toEqual(
      received,
    );
  });

  it('Express', async () => {
    const { server } = await import('../src/express.js');
    servers.push(server);
    expect(await receiveOne(`http://127.0.0.1:${portOf(server)}/api/repositories/42/events`)).toEqual(
      received,
    );
  });

  it('Fastify', async () => {
    const { app } = await import('../src/fastify.js');
    servers.push({ address: () => app.server.address(), close: () => app.close() });
    expect(await receiveOne(`http://127.0.0.1:${portOf(app.server)}/api/repositories/42/events`)).toEqual(
      received,
    );
  });

  it('Hono on @hono/node-server', async () => {
    const { server } = await import('../src/hono.js');
    servers.push(server);
    await new Promise((resolve) => (server.listening ? resolve(null) : server.once('listening', resolve)));
    expect(await receiveOne(`http://127.0.0.1:${portOf(server)}/api/repositories/42/events`)).toEqual(
      received,
    );
  });

  it('Next.js App Router route handler (its GET, served as Next does: a Request and { params })', async () => {
    const { GET } = await import('../src/next/app/api/repositories/[id]/events/route.js');
    const server = createAdaptorServer({
      fetch: (request: Request) => {
        const id = /\/repositories\/(\d+)\//.exec(new URL(request.url).pathname)?.[1] ?? '';
        return GET(request, { params: Promise.resolve({ id }) });
      },
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    expect(await receiveOne(`http://127.0.0.1:${portOf(server)}/api/repositories/42/events`)).toEqual(
      received,
    );
  });

  it("Bun and Deno: the default export's fetch", async () => {
    const { default: app } = await import('../src/fetch-runtime.js');
    const server = createAdaptorServer({ fetch: app.fetch });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    expect(await receiveOne(`http://127.0.0.1:${portOf(server)}/api/repositories/42/events`)).toEqual(
      received,
    );
  });

  describe('node:http2 over TLS', () => {
    const dir = mkdtempSync(join(tmpdir(), 'repopulse-frameworks-tls-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('serves an HTTP/2 client', async () => {
      const certificate = createTestCertificate();
      writeFileSync(join(dir, 'key.pem'), certificate.key);
      writeFileSync(join(dir, 'cert.pem'), certificate.cert);
      process.env.TLS_KEY = join(dir, 'key.pem');
      process.env.TLS_CERT = join(dir, 'cert.pem');
      const { server } = await import('../src/node-http2.js');
      servers.push(server);
      await new Promise((resolve) => (server.listening ? resolve(null) : server.once('listening', resolve)));
      const sessions: http2.ClientHttp2Session[] = [];
      const protocols: string[] = [];
      // The `eventsource` client over Node's HTTP/2 client: one session, the stream's body as its body.
      const overHttp2: FetchLike = (url, init) =>
        new Promise((resolve, reject) => {
          const session = http2.connect(new URL(url).origin, { rejectUnauthorized: false });
          sessions.push(session);
          session.once('connect', () => protocols.push(session.alpnProtocol ?? ''));
          session.on('error', reject);
          const request = session.request({ ':path': new URL(url).pathname, ...init?.headers });
          request.once('response', (headers) => {
            const status = Number(headers[':status']);
            const responseHeaders = new Headers();
            for (const [name, value] of Object.entries(headers)) {
              if (!name.startsWith(':') && value !== undefined) responseHeaders.set(name, String(value));
            }
            resolve(
              new Response(Readable.toWeb(request) as ReadableStream<Uint8Array>, {
                status,
                headers: responseHeaders,
              }) as never,
            );
          });
          init?.signal?.addEventListener('abort', () => session.destroy());
        });
      try {
        expect(
          await receiveOne(`https://127.0.0.1:${portOf(server)}/api/repositories/42/events`, overHttp2),
        ).toEqual(received);
        expect(protocols).toEqual(['h2']);
      } finally {
        for (const session of sessions) session.destroy();
      }
    });
  });
});
