import { waitFor } from '@repopulse/test-support';
import { describe, expect, it } from 'vitest';
import { logEvent, numberOf, publishNumbered, uniqueTopic } from '../../sse-server/test/helpers/events';
import { getJson, startRequest } from '../../sse-server/test/helpers/raw-stream';
import type { LongPollResponse } from '../src/index';
import { busFactories } from './helpers/bus-factories';
import { type ExpressVersion, serverStarter, type startServer } from './helpers/server';

const factories = await busFactories('long-poll');
const JSON_ACCEPT = { Accept: 'application/json' };

describe.each(factories)('long-poll on the $name bus', (factory) => {
  const start = serverStarter(factory);

  const setup = async (
    extra: Partial<Parameters<typeof startServer>[0]> = {},
    express: ExpressVersion = 5,
  ) => {
    const bus = await factory.create();
    const server = await start({ bus, ...extra }, { express });
    const id = uniqueTopic('lp').slice(5);
    return { bus, s: server, id, topic: `repo:${id}` };
  };

  const poll = async (url: string) => {
    const res = await getJson(url, JSON_ACCEPT);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-store');
    return res.body as LongPollResponse;
  };

  it.each([4, 5] as const)(
    'Express %i: answers at once when events exist after the point',
    async (version) => {
      const { bus, s, id, topic } = await setup({}, version);
      const positions = await publishNumbered(bus, topic, 0, 3);
      const body = await poll(s.url(id, `?after=${positions[0]}&wait=20`));
      expect(body.reset).toBeUndefined();
      expect(body.position).toBe(positions[2]);
      expect(body.events.map((e) => e.position)).toEqual(positions.slice(1));
      expect(body.events.map((e) => numberOf(e.event as { payload: unknown }))).toEqual([1, 2]);
      expect(body.events[0]!.event).toMatchObject({ type: 'log.append', repo_id: '1' });
      expect(bus.stats().subscriptions).toBe(0);
      expect(s.handler.stats()).toMatchObject({ longPolls: 0, connections: 0, totalLongPolls: 1 });
    },
  );

  it('waits, then wakes on publish with every event of that tick; no `after` means from the head', async () => {
    const { bus, s, id, topic } = await setup();
    await publishNumbered(bus, topic, 0, 2); // before the poll: not returned
    const res = startRequest(s.url(id, '?wait=20'), JSON_ACCEPT);
    await waitFor(() => bus.stats().subscriptions === 1 && s.handler.stats().longPolls === 1);
    expect(res.isEnded).toBe(false);
    const results = await Promise.all(
      Array.from({ length: 5 }, (_, i) => bus.publish(topic, logEvent(10 + i, id))),
    );
    const body = JSON.parse((await res.done).text) as LongPollResponse;
    const numbers = body.events.map((e) => numberOf(e.event as { payload: unknown }));
    if (factory.name === 'memory') expect(numbers).toEqual([10, 11, 12, 13, 14]);
    else expect(numbers).toEqual([10, 11, 12, 13, 14].slice(0, numbers.length));
    expect(body.position).toBe(results[numbers.length - 1]!.position);
    await waitFor(() => bus.stats().subscriptions === 0);
  });

  it('times out with no events and the same position, releasing the subscription; wait is capped', async () => {
    const { bus, s, id, topic } = await setup({ longPollWaitMs: 300 });
    const [p0] = await publishNumbered(bus, topic, 0, 1);
    const body = await poll(s.url(id, `?after=${p0}&wait=0.1`));
    expect(body).toEqual({ events: [], position: p0 });
    // wait=600 s is capped at longPollWaitMs
    const capped = await poll(s.url(id, `?after=${p0}&wait=600`));
    expect(capped).toEqual({ events: [], position: p0 });
    const immediate = await poll(s.url(id, `?after=${p0}&wait=0`));
    expect(immediate).toEqual({ events: [], position: p0 });
    expect(bus.stats().subscriptions).toBe(0);
    expect(s.handler.stats()).toMatchObject({ longPolls: 0, connections: 0, totalLongPolls: 3, topics: 0 });
  });

  it('releases its subscription when the client aborts', async () => {
    const { bus, s, id } = await setup();
    const clients = Array.from({ length: 5 }, () => startRequest(s.url(id, '?wait=20'), JSON_ACCEPT));
    // The topic's hub reads the head first and subscribes after it: wait for that subscription.
    await waitFor(() => s.handler.stats().longPolls === 5 && bus.stats().subscriptions > 0);
    expect(bus.stats().subscriptions).toBe(1); // one for the topic, not one per long-poll
    for (const c of clients) c.destroy();
    await waitFor(() => bus.stats().subscriptions === 0 && s.handler.stats().connections === 0, {
      what: 'released subscriptions',
    });
    expect(s.handler.stats()).toMatchObject({ longPolls: 0, topics: 0, totalLongPolls: 0 });
  });

  it('answers a reset for a malformed or unknown point', async () => {
    const { bus, s, id, topic } = await setup();
    const positions = await publishNumbered(bus, topic, 0, 2);
    const head = positions[1]!;
    const malformed = await poll(s.url(id, '?after=garbage&wait=5'));
    expect(malformed).toEqual({ events: [], position: head, reset: { reason: 'malformed', position: head } });
    const unknown = await poll(s.url(id, '?after=99999999999999-0&wait=5'));
    expect(unknown).toEqual({
      events: [],
      position: head,
      reset: { reason: 'unknown_position', position: head },
    });
    expect(bus.stats().subscriptions).toBe(0);
  });

  it('close() answers waiting long-polls at once', async () => {
    const { bus, s, id } = await setup();
    const [p0] = await publishNumbered(bus, `repo:${id}`, 0, 1);
    const res = startRequest(s.url(id, `?after=${p0}&wait=20`), JSON_ACCEPT);
    await waitFor(() => s.handler.stats().longPolls === 1);
    await s.handler.close();
    expect(JSON.parse((await res.done).text)).toEqual({ events: [], position: p0 });
    const refused = await getJson(s.url(id), JSON_ACCEPT);
    expect(refused).toMatchObject({ status: 503, body: { error: { code: 'shutting_down' } } });
    expect(bus.stats().subscriptions).toBe(0);
  });
});
