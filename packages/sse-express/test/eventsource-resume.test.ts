import { sleep, waitFor } from '@repopulse/test-support';
import { EventSource } from 'eventsource';
import { afterEach, describe, expect, it } from 'vitest';
import { logEvent, numberOf, uniqueTopic } from '../../sse-server/test/helpers/events';
import { busFactories } from './helpers/bus-factories';
import { serverStarter } from './helpers/server';

const factories = await busFactories('eventsource-resume');

describe.each(factories)('EventSource client on the $name bus', (factory) => {
  const start = serverStarter(factory);
  const sources: EventSource[] = [];
  afterEach(async () => {
    for (const source of sources.splice(0)) source.close();
  });

  it('receives typed events, and resumes after server-side socket drops with no gap and no duplicate', async () => {
    const bus = await factory.create();
    const server = await start({ bus, retryMs: 20 });
    const id = uniqueTopic('es').slice(5);
    const topic = `repo:${id}`;
    const source = new EventSource(server.url(id));
    sources.push(source);
    const received: { n: number; id: string; type: string }[] = [];
    let opens = 0;
    source.addEventListener('open', () => {
      opens++;
    });
    source.addEventListener('log.append', (message) => {
      const event = JSON.parse(message.data);
      expect(event.type).toBe('log.append');
      expect(event.repo_id).toBe(id);
      received.push({ n: numberOf(event), id: message.lastEventId, type: message.type });
    });
    await waitFor(() => opens === 1 && bus.stats().subscriptions === 1, { what: 'first connection' });

    const total = 300;
    const positions: string[] = [];
    let drops = 0;
    const publisher = (async () => {
      for (let n = 0; n < total; n++) {
        positions.push((await bus.publish(topic, logEvent(n, id))).position);
        if (n % 3 === 0) await sleep(1);
      }
    })();
    // Drop every server-side socket a few times while the publisher keeps going.
    for (const after of [40, 120, 200]) {
      await waitFor(() => received.length >= after, { what: `${after} events` });
      const before = opens;
      for (const socket of server.sockets) socket.destroy();
      drops++;
      await waitFor(() => opens > before, { what: 'reconnect' });
    }
    await publisher;
    await waitFor(() => received.length >= total, { what: 'all events' });
    await sleep(50); // a duplicate would show up here
    expect(received.map((r) => r.n)).toEqual(Array.from({ length: total }, (_, i) => i));
    expect(received.map((r) => r.id)).toEqual(positions);
    expect(received.every((r) => r.type === 'log.append')).toBe(true);
    expect(opens).toBe(1 + drops);
    expect(server.handler.stats()).toMatchObject({ streams: 1, totalStreams: 1 + drops });
  });

  it('connects with a resume point in the URL and replays what it missed', async () => {
    const bus = await factory.create();
    const server = await start({ bus, retryMs: 20 });
    const id = uniqueTopic('es2').slice(5);
    const first = await bus.publish(`repo:${id}`, logEvent(0, id));
    await bus.publish(`repo:${id}`, logEvent(1, id));
    await bus.publish(`repo:${id}`, logEvent(2, id));
    const source = new EventSource(server.url(id, `?last_event_id=${first.position}`));
    sources.push(source);
    const got: number[] = [];
    source.addEventListener('log.append', (message) => got.push(numberOf(JSON.parse(message.data))));
    await waitFor(() => got.length === 2);
    await bus.publish(`repo:${id}`, logEvent(3, id));
    await waitFor(() => got.length === 3);
    expect(got).toEqual([1, 2, 3]);
  });
});
