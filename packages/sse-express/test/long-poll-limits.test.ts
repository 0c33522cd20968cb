import { createEvent } from '@repopulse/events-core';
import { waitFor } from '@repopulse/test-support';
import { describe, expect, it } from 'vitest';
import { numberOf, publishNumbered, uniqueTopic } from '../../sse-server/test/helpers/events';
import { getJson, startRequest } from '../../sse-server/test/helpers/raw-stream';
import {
  DEFAULT_LONG_POLL_MAX_BYTES,
  DEFAULT_LONG_POLL_MAX_EVENTS,
  type LongPollResponse,
  signStreamToken,
} from '../src/index';
import { busFactories } from './helpers/bus-factories';
import { serverStarter } from './helpers/server';

const factories = await busFactories('long-poll-limits');
const JSON_ACCEPT = { Accept: 'application/json' };
const SECRET = 'long-poll-secret-0123456789';

describe.each(factories)('long-poll limits on the $name bus', (factory) => {
  const start = serverStarter(factory);

  const poll = async (url: string) => {
    const res = await getJson(url, JSON_ACCEPT);
    expect(res.status).toBe(200);
    return res.body as LongPollResponse;
  };

  it('an answer holds at most longPollMaxEvents (default 500); following `position` returns the rest exactly', async () => {
    expect(DEFAULT_LONG_POLL_MAX_EVENTS).toBe(500);
    const bus = await factory.create({ historyLimit: 1300 });
    const server = await start({ bus });
    const id = uniqueTopic('lp-cap').slice(5);
    const positions = await publishNumbered(bus, `repo:${id}`, 0, 1200);
    const seen: string[] = [];
    let after = '0-0';
    const sizes: number[] = [];
    for (let i = 0; i < 10 && seen.length < positions.length; i++) {
      const body = await poll(server.url(id, `?after=${after}&wait=0`));
      expect(body.reset).toBeUndefined();
      sizes.push(body.events.length);
      seen.push(...body.events.map((e) => e.position));
      expect(body.position).toBe(seen.at(-1));
      after = body.position;
    }
    expect(sizes).toEqual([500, 500, 200]);
    expect(seen).toEqual(positions);
  });

  it('an answer holds at most longPollMaxBytes of events (default 512 KiB), the first always', async () => {
    expect(DEFAULT_LONG_POLL_MAX_BYTES).toBe(512 * 1024);
    const bus = await factory.create();
    const server = await start({ bus, longPollMaxBytes: 20_000 });
    const id = uniqueTopic('lp-bytes').slice(5);
    const topic = `repo:${id}`;
    const positions: string[] = [];
    for (let i = 0; i < 12; i++) {
      const message = `${i}:${'b'.repeat(i === 0 ? 30_000 : 3_000)}`; // the first alone is over the cap
      positions.push(
        (await bus.publish(topic, createEvent('log.append', { level: 'info', message }))).position,
      );
    }
    const first = await getJson(server.url(id, '?after=0-0&wait=0'), JSON_ACCEPT);
    const firstBody = first.body as LongPollResponse;
    expect(firstBody.events.map((e) => e.position)).toEqual(positions.slice(0, 1));
    let after = firstBody.position;
    const seen = [...firstBody.events.map((e) => e.position)];
    while (seen.length < positions.length) {
      const res = await getJson(server.url(id, `?after=${after}&wait=0`), JSON_ACCEPT);
      const body = res.body as LongPollResponse;
      expect(Buffer.byteLength(JSON.stringify(body.events))).toBeLessThanOrEqual(20_000);
      expect(body.events.length).toBeGreaterThan(0);
      seen.push(...body.events.map((e) => e.position));
      after = body.position;
    }
    expect(seen).toEqual(positions);
  });

  it('a full answer takes no later live events: the next poll continues with them', async () => {
    const bus = await factory.create();
    const server = await start({ bus, longPollMaxEvents: 3 });
    const id = uniqueTopic('lp-live').slice(5);
    const topic = `repo:${id}`;
    const [p0] = await publishNumbered(bus, topic, 0, 1);
    const waiting = startRequest(server.url(id, `?after=${p0}&wait=20`), JSON_ACCEPT);
    await waitFor(() => server.handler.stats().longPolls === 1 && bus.stats().subscriptions > 0);
    const live = await Promise.all([1, 2, 3, 4, 5].map((n) => publishNumbered(bus, topic, n, 1)));
    const body = JSON.parse((await waiting.done).text) as LongPollResponse;
    expect(body.events.length).toBeLessThanOrEqual(3);
    const next = await poll(server.url(id, `?after=${body.position}&wait=0`));
    const numbers = [...body.events, ...next.events].map((e) => numberOf(e.event as { payload: unknown }));
    expect(numbers).toEqual([1, 2, 3, 4, 5].slice(0, numbers.length));
    expect([...body.events, ...next.events].map((e) => e.position)).toEqual(
      live.flat().slice(0, numbers.length),
    );
  });

  it('a long-poll is answered when its token expires, before `wait`, and never carries later events', async () => {
    const bus = await factory.create();
    const server = await start({ bus, tokenSecret: SECRET });
    const id = uniqueTopic('lp-exp').slice(5);
    const topic = `repo:${id}`;
    const [p0] = await publishNumbered(bus, topic, 0, 1);
    const token = signStreamToken({ sub: 'u', topics: [topic] }, SECRET, 400);
    const waiting = startRequest(server.url(id, `?after=${p0}&wait=20&access_token=${token}`), JSON_ACCEPT);
    await waitFor(() => server.handler.stats().longPolls === 1);
    await waitFor(() => waiting.isEnded, { timeoutMs: 10_000, what: 'the answer at token expiry' });
    // Published after the token expired: the expired poll must not deliver it.
    await publishNumbered(bus, topic, 1, 1);
    const answer = await waiting.done;
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toEqual({ events: [], position: p0 });
    const refused = await getJson(server.url(id, `?after=${p0}&wait=0&access_token=${token}`), JSON_ACCEPT);
    expect(refused).toMatchObject({ status: 401, body: { error: { code: 'token_expired' } } });
    expect(refused.headers['www-authenticate']).toBe('Bearer');
  });
});
