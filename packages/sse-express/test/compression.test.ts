import { request } from 'node:http';
import { createGunzip } from 'node:zlib';
import { waitFor } from '@repopulse/test-support';
import compression from 'compression';
import { describe, expect, it } from 'vitest';
import { logEvent, uniqueTopic } from '../../sse-server/test/helpers/events';
import { busFactories } from './helpers/bus-factories';
import { type ExpressVersion, serverStarter } from './helpers/server';

const factories = await busFactories('compression');

/** Reads an SSE response sent with `Accept-Encoding: gzip`, gunzipping when it is compressed. */
function openGzip(url: string) {
  return new Promise<{
    encoding: string | undefined;
    text: () => string;
    destroy: () => void;
    ended: () => boolean;
  }>((resolve, reject) => {
    const req = request(url, {
      headers: { Accept: 'text/event-stream', 'Accept-Encoding': 'gzip' },
      agent: false,
    });
    req.on('error', reject);
    req.on('response', (res) => {
      let text = '';
      let ended = false;
      const encoding = res.headers['content-encoding'];
      const body = encoding === 'gzip' ? res.pipe(createGunzip()) : res;
      body.on('data', (chunk: Buffer) => {
        text += chunk.toString('utf8');
      });
      body.on('error', () => {});
      res.on('close', () => {
        ended = true;
      });
      resolve({ encoding, text: () => text, destroy: () => req.destroy(), ended: () => ended });
    });
    req.end();
  });
}

describe.each(factories)('behind compression() on the $name bus', (factory) => {
  const start = serverStarter(factory);

  it.each([4, 5] as const)(
    'Express %i: streams events promptly (no-transform keeps it uncompressed)',
    async (version: ExpressVersion) => {
      const bus = await factory.create();
      const server = await start({ bus }, { express: version, before: [compression()] });
      const id = uniqueTopic('gz').slice(5);
      const client = await openGzip(server.url(id));
      expect(client.encoding).toBeUndefined();
      await waitFor(() => client.text() === 'retry: 3000\n\n: ok\n\n', { what: 'first bytes' });
      await waitFor(() => bus.stats().subscriptions === 1);
      for (let i = 0; i < 3; i++) {
        const { position } = await bus.publish(`repo:${id}`, logEvent(i, id));
        await waitFor(() => client.text().includes(`id: ${position}\n`), { what: `event ${i}` });
      }
      expect(client.ended()).toBe(false);
      client.destroy();
    },
  );

  it('flushes through compression() even when it does compress (gzip)', async () => {
    const bus = await factory.create();
    // A proxy-like setup that drops `no-transform`, so compression() really gzips the stream:
    // every event must still come out at once, thanks to res.flush().
    const dropNoTransform = (
      _req: unknown,
      res: import('node:http').ServerResponse,
      next: (error?: unknown) => void,
    ) => {
      const writeHead = res.writeHead.bind(res) as (
        status: number,
        headers?: Record<string, string>,
      ) => unknown;
      res.writeHead = ((status: number, headers?: Record<string, string>) => {
        if (headers?.['Cache-Control']) headers = { ...headers, 'Cache-Control': 'no-cache' };
        return writeHead(status, headers);
      }) as typeof res.writeHead;
      next();
    };
    const server = await start({ bus }, { before: [compression({ threshold: 0 }), dropNoTransform] });
    const id = uniqueTopic('gz2').slice(5);
    const client = await openGzip(server.url(id));
    expect(client.encoding).toBe('gzip');
    await waitFor(() => client.text() === 'retry: 3000\n\n: ok\n\n', { what: 'first bytes, gunzipped' });
    await waitFor(() => bus.stats().subscriptions === 1);
    for (let i = 0; i < 3; i++) {
      const { position } = await bus.publish(`repo:${id}`, logEvent(i, id));
      await waitFor(() => client.text().includes(`id: ${position}\n`), { what: `gzipped event ${i}` });
    }
    expect(client.ended()).toBe(false);
    client.destroy();
  });
});
