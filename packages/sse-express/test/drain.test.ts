// Graceful drain that clients survive: while `close({graceMs})` runs, a new SSE request gets 200, the
// `retry:` line and a clean end, so an EventSource (which treats any non-200 as final) reconnects —
// here to a second instance taking over the same URL, as behind a load balancer.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EventBus } from '@repopulse/events-core';
import { findChromium, launchChromium, requirement, waitFor } from '@repopulse/test-support';
import { EventSource } from 'eventsource';
import { afterEach, describe, expect, it } from 'vitest';
import { logEvent, numberOf, uniqueTopic } from '../../sse-server/test/helpers/events';
import { getJson } from '../../sse-server/test/helpers/raw-stream';
import { createEventStreamCore, type EventStreamCore } from '../src/index';
import { busFactories } from './helpers/bus-factories';

const factories = await busFactories('drain');
const chromiumPath = findChromium();
const withChromium =
  requirement(
    'sse-express drain tests',
    chromiumPath ? undefined : 'no chromium binary',
    'native EventSource',
  ) === 'run';

/** What the test reads from a client, wherever it runs. */
interface Client {
  numbers(): Promise<number[]>;
  /** EventSource.readyState: 0 connecting, 1 open, 2 closed (given up). */
  readyState(): Promise<number>;
  close(): Promise<void>;
}

/** Two handler instances on one bus behind one URL; `switchTo` moves traffic like a balancer. */
interface Balancer {
  bus: EventBus;
  url: string;
  origin: string;
  instances: [EventStreamCore, EventStreamCore];
  switchTo(index: 0 | 1): void;
  close(): Promise<void>;
}

const PAGE = `<!doctype html><script>
window.received = [];
window.source = new EventSource('/events');
source.addEventListener('log.append', (m) => received.push(JSON.parse(m.data).payload.message));
</script>`;

async function startBalancer(factory: (typeof factories)[number], topic: string): Promise<Balancer> {
  const bus = await factory.create();
  const instances = [0, 1].map(() => createEventStreamCore({ bus, topic, retryMs: 50 })) as [
    EventStreamCore,
    EventStreamCore,
  ];
  let current = instances[0];
  const server: Server = createServer((req, res) => {
    if (req.url === '/') {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end(PAGE);
      return;
    }
    if (req.url?.startsWith('/events')) void current.handle(req, res);
    else res.writeHead(404).end(); // e.g. the browser's favicon request
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    bus,
    url: `${origin}/events`,
    origin,
    instances,
    switchTo: (index) => {
      current = instances[index];
    },
    async close() {
      await Promise.all(instances.map((instance) => instance.close()));
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe.each(factories)('drain on the $name bus', (factory) => {
  let balancer: Balancer | undefined;
  afterEach(async () => {
    await balancer?.close();
    balancer = undefined;
    await factory.cleanup();
  });

  /** Events 0–4 on instance A, drain A (publishing 5–7 meanwhile), move to B, event 8 live. */
  async function survivesDrain(b: Balancer, topic: string, client: Client): Promise<void> {
    const [a] = b.instances;
    const publish = (n: number) => b.bus.publish(topic, logEvent(n));
    await waitFor(() => a.stats().streams === 1, { what: 'stream on A' });
    for (let n = 0; n < 5; n++) await publish(n);
    await waitFor(async () => (await client.numbers()).length === 5, { what: 'events 0-4' });

    const closing = a.close({ graceMs: 300 });
    for (let n = 5; n < 8; n++) await publish(n);
    await closing;
    // The client reconnected into the draining A: answered 200 + retry + end, not 503.
    await waitFor(() => a.stats().drained >= 2, { what: 'reconnects drained by A' });
    expect(await client.readyState()).not.toBe(2);
    const poll = await getJson(`${b.url}?after=1-0`);
    expect(poll).toMatchObject({ status: 503, body: { error: { code: 'shutting_down' } } });
    expect(poll.headers['retry-after']).toBe('1');

    b.switchTo(1);
    await waitFor(() => b.instances[1].stats().streams === 1, { what: 'stream on B' });
    await publish(8);
    await waitFor(async () => (await client.numbers()).length >= 9, { what: 'events 5-8 on B' });
    expect(await client.numbers()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(await client.readyState()).toBe(1);
    await client.close();
  }

  it('the npm eventsource client reconnects through a drain to the next instance, losing nothing', async () => {
    const topic = uniqueTopic('drain-es');
    balancer = await startBalancer(factory, topic);
    const source = new EventSource(balancer.url);
    const received: number[] = [];
    source.addEventListener('log.append', (m) => received.push(numberOf(JSON.parse(m.data))));
    await survivesDrain(balancer, topic, {
      numbers: async () => received,
      readyState: async () => source.readyState,
      close: async () => source.close(),
    });
  }, 30_000);

  it.runIf(withChromium)(
    'native EventSource in Chromium survives the drain, losing nothing',
    async () => {
      const topic = uniqueTopic('drain-browser');
      balancer = await startBalancer(factory, topic);
      const browser = await launchChromium(chromiumPath as string);
      try {
        const page = await browser.newPage();
        await page.goto(balancer.origin);
        await survivesDrain(balancer, topic, {
          numbers: () =>
            page.evaluate(() =>
              (window as unknown as { received: string[] }).received.map((m) => Number(m.slice(1))),
            ),
          readyState: () =>
            page.evaluate(() => (window as unknown as { source: EventSource }).source.readyState),
          close: () => page.evaluate(() => (window as unknown as { source: EventSource }).source.close()),
        });
      } finally {
        await browser.close();
      }
    },
    60_000,
  );
});
