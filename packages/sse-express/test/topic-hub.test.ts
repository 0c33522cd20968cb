// The topic hub's guarantees, on every bus: one bus subscription per topic, shared catch-up reads,
// and per topic every connection gets every event once, in order, or an explicit reset.
// (A slow connection evicted while the others keep going: backpressure.test.ts.)
import { sleep, waitFor } from '@repopulse/test-support';
import { describe, expect, it } from 'vitest';
import {
  countingBus,
  logEvent,
  numberOf,
  publishNumbered,
  uniqueTopic,
} from '../../sse-server/test/helpers/events';
import { openRaw, type RawResponse, startRequest } from '../../sse-server/test/helpers/raw-stream';
import { busFactories } from './helpers/bus-factories';
import { serverStarter } from './helpers/server';

const factories = await busFactories('topic-hub');
const JSON_ACCEPT = { Accept: 'application/json' };

const numbers = (res: RawResponse) =>
  res
    .blocks()
    .filter((b) => b.event === 'log.append')
    .map((b) => numberOf(JSON.parse(b.data!)));
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe.each(factories)('topic hub on the $name bus', (factory) => {
  const serve = serverStarter(factory);

  it('holds exactly one bus subscription per topic for N streams and long-polls, 0 once they left', async () => {
    const bus = await factory.create();
    const server = await serve({ bus });
    const s = server;
    const ids = [uniqueTopic('one').slice(5), uniqueTopic('two').slice(5)];
    const streams = await Promise.all(range(0, 40).map((i) => openRaw(s.url(ids[i % 2]!))));
    const polls = ids.map((id) => startRequest(s.url(id, '?wait=20'), JSON_ACCEPT));
    await waitFor(() => s.handler.stats().streams === 40 && s.handler.stats().longPolls === 2);
    expect(bus.stats().subscriptions).toBe(2);
    expect(s.handler.stats().topics).toBe(2);
    const { position } = await bus.publish(`repo:${ids[0]}`, logEvent(1, ids[0]));
    await Promise.all(
      streams.filter((_, i) => i % 2 === 0).map((c) => c.waitFor((t) => t.includes(`id: ${position}\n`))),
    );
    const answered = await polls[0]!.done;
    expect(JSON.parse(answered.text).events.map((e: { position: string }) => e.position)).toEqual([position]);
    for (const c of streams) c.destroy();
    polls[1]!.destroy();
    await waitFor(() => bus.stats().subscriptions === 0 && s.handler.stats().connections === 0, {
      what: 'every subscription released',
    });
    expect(s.handler.stats().topics).toBe(0);
  });

  it('a reconnect storm of 200 clients from one old position costs a handful of bus reads; each client is exact', async () => {
    const raw = await factory.create();
    const { bus, calls } = countingBus(raw);
    const server = await serve({ bus, windowEvents: 64 });
    const s = server;
    const id = uniqueTopic('storm').slice(5);
    const topic = `repo:${id}`;
    const before = await publishNumbered(raw, topic, 0, 40);
    // A live stream keeps the hub running; its window then holds only what came after the 40.
    const holder = await openRaw(s.url(id));
    await holder.waitFor((t) => t.includes(': ok'));
    const after = await publishNumbered(raw, topic, 40, 20);
    await holder.waitFor((t) => t.includes(`id: ${after.at(-1)}\n`));
    const subscribesBefore = calls.subscribe;

    const from = before[5]!; // older than the window: needs the bus
    const storm = await Promise.all(range(0, 200).map(() => openRaw(s.url(id, `?last_event_id=${from}`))));
    await Promise.all(storm.map((c) => c.waitFor((t) => t.includes(`id: ${after.at(-1)}\n`))));
    const [live] = await publishNumbered(raw, topic, 60, 1);
    await Promise.all(storm.map((c) => c.waitFor((t) => t.includes(`id: ${live}\n`))));
    for (const c of storm) expect(numbers(c)).toEqual(range(6, 61));
    const reads = s.handler.stats().catchUpReads;
    expect(reads).toBeGreaterThanOrEqual(1);
    expect(reads).toBeLessThanOrEqual(3);
    expect(calls.subscribe - subscribesBefore).toBe(reads); // no subscription per connection
    expect(raw.stats().subscriptions).toBe(1);

    // The read extended the window: a second wave from the same point needs no bus read at all.
    const wave = await Promise.all(range(0, 50).map(() => openRaw(s.url(id, `?last_event_id=${from}`))));
    await Promise.all(wave.map((c) => c.waitFor((t) => t.includes(`id: ${live}\n`))));
    for (const c of wave) expect(numbers(c)).toEqual(range(6, 61));
    expect(s.handler.stats().catchUpReads).toBe(reads);
    for (const c of [holder, ...storm, ...wave]) c.destroy();
  }, 60_000);

  it('hub (re)subscriptions racing publishes: every client sees each event once, in order', async () => {
    const raw = await factory.create();
    const { bus, calls } = countingBus(raw);
    const server = await serve({ bus, windowEvents: 16 });
    const s = server;
    const id = uniqueTopic('race').slice(5);
    const topic = `repo:${id}`;
    const total = 300;
    let last = '';
    let published = 0;
    const publisher = (async () => {
      for (let i = 0; i < total; i++) {
        last = (await raw.publish(topic, logEvent(i, id))).position;
        published = i + 1;
        if (i % 4 === 0) await sleep(1);
      }
    })();
    let publishing = true;
    void publisher.then(() => {
      publishing = false;
    });
    // Each worker connects, reads a little, drops, pauses and resumes from its last id. In the
    // first half the workers overlap; in the second they take turns and each waits for the hub to
    // close, so every connection races a fresh hub subscription against the publisher.
    let turn = Promise.resolve();
    const worker = async (seed: number) => {
      const seen: number[] = [];
      let resume: string | undefined;
      let round = 0;
      while (publishing || seen.at(-1) !== total - 1) {
        const exclusive = publishing && published >= total / 2;
        let release = () => {};
        if (exclusive) {
          const previous = turn;
          turn = new Promise<void>((resolve) => {
            release = resolve;
          });
          await previous;
          await waitFor(() => s.handler.stats().topics === 0, { what: 'the hub to close' });
        }
        const c = await openRaw(s.url(id, resume ? `?last_event_id=${resume}` : ''));
        if (!publishing) await c.waitFor((t) => t.includes(`id: ${last}\n`));
        else await sleep(((seed * 7 + round++ * 13) % 20) + 1);
        c.destroy();
        release();
        const blocks = c.blocks().filter((b) => b.event === 'log.append');
        for (const b of blocks) seen.push(numberOf(JSON.parse(b.data!)));
        if (blocks.length > 0) resume = blocks.at(-1)!.id;
        await sleep((seed + round) % 5);
      }
      return seen;
    };
    const results = await Promise.all([1, 2, 3, 4].map(worker));
    await publisher;
    for (const seen of results) {
      expect(seen.length).toBeGreaterThan(0);
      expect(seen).toEqual(range(seen[0]!, total));
    }
    expect(calls.head).toBeGreaterThan(4); // the hub really closed and subscribed again, often
    await waitFor(() => raw.stats().subscriptions === 0 && s.handler.stats().topics === 0);
  }, 60_000);

  it('long-polls and streams mixed on one topic all get every event once, in order', async () => {
    const bus = await factory.create();
    const server = await serve({ bus, windowEvents: 8 });
    const s = server;
    const id = uniqueTopic('mixed').slice(5);
    const topic = `repo:${id}`;
    const [start] = await publishNumbered(bus, topic, -1, 1);
    const streams = await Promise.all(range(0, 3).map(() => openRaw(s.url(id, `?last_event_id=${start}`))));
    const total = 120;
    let publishing = true;
    const poller = async () => {
      const seen: number[] = [];
      let after = start!;
      while (publishing || seen.at(-1) !== total - 1) {
        const res = await fetch(s.url(id, `?after=${after}&wait=2`), { headers: JSON_ACCEPT });
        const body = (await res.json()) as { events: { event: { payload: unknown } }[]; position: string };
        for (const e of body.events) seen.push(numberOf(e.event));
        after = body.position;
      }
      return seen;
    };
    const polled = Promise.all([poller(), poller()]);
    for (let i = 0; i < total; i++) {
      await bus.publish(topic, logEvent(i, id));
      if (i % 3 === 0) await sleep(2);
    }
    publishing = false;
    for (const seen of await polled) expect(seen).toEqual(range(0, total));
    for (const c of streams) {
      await c.waitFor(() => numbers(c).length >= total);
      expect(numbers(c)).toEqual(range(0, total));
      c.destroy();
    }
  }, 60_000);

  it('the last connection leaving while a publish is in flight: resuming gets that event exactly once', async () => {
    const bus = await factory.create();
    const server = await serve({ bus });
    const s = server;
    const id = uniqueTopic('leave').slice(5);
    const topic = `repo:${id}`;
    let next = 0;
    let resume = (await bus.publish(topic, logEvent(next++, id))).position;
    const seen: number[] = [];
    for (let round = 0; round < 15; round++) {
      const c = await openRaw(s.url(id, `?last_event_id=${resume}`));
      await c.waitFor((t) => t.includes(': ok'));
      const inFlight = bus.publish(topic, logEvent(next++, id));
      if (round % 3 === 0) await sleep(0);
      c.destroy();
      await inFlight;
      const blocks = c.blocks().filter((b) => b.event === 'log.append');
      for (const b of blocks) seen.push(numberOf(JSON.parse(b.data!)));
      if (blocks.length > 0) resume = blocks.at(-1)!.id as typeof resume;
      await waitFor(() => bus.stats().subscriptions === 0 && s.handler.stats().topics === 0);
    }
    const final = await openRaw(s.url(id, `?last_event_id=${resume}`));
    const [last] = await publishNumbered(bus, topic, next, 1);
    await final.waitFor((t) => t.includes(`id: ${last}\n`));
    seen.push(...numbers(final));
    expect(seen).toEqual(range(1, next + 1));
    final.destroy();
  }, 60_000);
});
