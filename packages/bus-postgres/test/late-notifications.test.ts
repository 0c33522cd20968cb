import { connect, createServer, type Server, type Socket } from 'node:net';
import { collect, numbered } from '@repopulse/bus-contract';
import type { StreamPosition } from '@repopulse/events-core';
import { comparePositions } from '@repopulse/events-core/wire';
import { prng } from '@repopulse/test-support';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createPostgresBus } from '../src/index';
import { describeWithPostgres, useBusSchema } from './postgres-support';

/**
 * A TCP proxy to `target` that holds each chunk from the server back for a random 0–`maxDelayMs`
 * (in order). One in front of the listening connection and one in front of the pool: notifications
 * reach the bus before or after the results of the publishes they announce, and of later ones.
 */
async function delayingProxy(target: URL, maxDelayMs: number, random: () => number) {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port || 5432), target.hostname);
    sockets.add(client).add(upstream);
    let releaseAt = 0;
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      releaseAt = Math.max(releaseAt, Date.now() + random() * maxDelayMs);
      setTimeout(() => client.writable && client.write(chunk), releaseAt - Date.now());
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    url: (() => {
      const url = new URL(target);
      url.hostname = '127.0.0.1';
      url.port = String(address.port);
      return url.toString();
    })(),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describeWithPostgres('bus-postgres: notifications that arrive late', () => {
  const db = useBusSchema('bus_late');
  let listenProxy: Awaited<ReturnType<typeof delayingProxy>>;
  let poolProxy: Awaited<ReturnType<typeof delayingProxy>>;
  beforeAll(async () => {
    listenProxy = await delayingProxy(new URL(db.schema().url), 20, prng(7));
    poolProxy = await delayingProxy(new URL(db.schema().url), 20, prng(8));
  });
  afterAll(async () => {
    await listenProxy?.close();
    await poolProxy?.close();
  });

  it('strands nothing when notifications and publish results arrive in any order, from this bus, another one and transactions', async () => {
    const { url, name } = db.schema();
    const pool = new pg.Pool({ connectionString: poolProxy.url, max: 2 });
    const bus = createPostgresBus({ pool, schema: name, listenConnectionString: listenProxy.url });
    const other = createPostgresBus({ connectionString: url, schema: name });
    const random = prng(11);
    try {
      const topics = ['late:a', 'late:b', 'late:c'];
      const subscribers = await Promise.all(topics.map((topic) => collect(bus, topic)));
      const published = new Map<string, StreamPosition[]>(topics.map((topic) => [topic, []]));
      const racing: Promise<unknown>[] = [];
      for (let n = 0; n < 300; n++) {
        const topic = topics[Math.floor(random() * topics.length)] as string;
        const roll = random();
        let publish: Promise<{ position: StreamPosition }>;
        if (roll < 0.6) publish = bus.publish(topic, numbered(n));
        else if (roll < 0.85) publish = other.publish(topic, numbered(n));
        else {
          publish = (async () => {
            const client = await pool.connect();
            try {
              await client.query('BEGIN');
              const result = await bus.publish(topic, numbered(n), { client });
              await client.query('COMMIT');
              return result;
            } finally {
              client.release();
            }
          })();
        }
        racing.push(publish.then((result) => published.get(topic)?.push(result.position)));
        if (random() < 0.3) await Promise.all(racing.splice(0));
        if (random() < 0.2) await new Promise((resolve) => setTimeout(resolve, random() * 15));
      }
      await Promise.all(racing);
      for (const [i, topic] of topics.entries()) {
        const positions = (published.get(topic) ?? []).sort(comparePositions);
        const subscriber = subscribers[i];
        await expect
          .poll(() => subscriber?.events().at(-1)?.position, { timeout: 5000, interval: 20 })
          .toBe(positions.at(-1));
        expect(subscriber?.events().map((event) => event.position)).toEqual(positions);
      }
    } finally {
      await bus.close();
      await other.close();
      await pool.end();
    }
  });
});
