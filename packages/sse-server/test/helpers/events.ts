import { type AnyEnvelope, createEvent, type EventBus } from '@repopulse/events-core';
import { publishSeries, waitFor } from '@repopulse/test-support';

let counter = 0;

/** A small valid event: `log.append` with message `m<n>`. */
export function logEvent(n: number, repoId = '1'): AnyEnvelope {
  return createEvent('log.append', { level: 'info', message: `m${n}` }, { repo_id: repoId });
}

/** The `n` of an event made by {@link logEvent}. */
export function numberOf(event: { payload: unknown }): number {
  return Number((event.payload as { message: string }).message.slice(1));
}

/** Publishes `count` numbered events in order, returning their positions. */
export async function publishNumbered(
  bus: EventBus,
  topic: string,
  from: number,
  count: number,
): Promise<string[]> {
  return publishSeries(bus, topic, from, count, (n) => logEvent(n));
}

/** A unique topic name for one test. */
export function uniqueTopic(label = 't'): string {
  return `repo:${label}-${process.pid}-${Date.now().toString(36)}-${counter++}`;
}

/** What {@link publishUntilEvicted} reads of a server: its eviction counter. */
interface EvictionCounter {
  stats(): { closedForBackpressure: number };
}

/**
 * Publishes 4 kB `log.append` events on `topic` until `server` closed a stream for backpressure (at
 * most `limit` events), letting the sockets run every `yieldEvery` publishes (and calling
 * `afterEach` after each one), then waits for that eviction. Returns how many events it published.
 */
export async function publishUntilEvicted(
  bus: EventBus,
  server: EvictionCounter,
  topic: string,
  {
    limit = 5000,
    yieldEvery = 10,
    afterEach = () => {},
  }: { limit?: number; yieldEvery?: number; afterEach?: () => void } = {},
): Promise<number> {
  const message = 'x'.repeat(4000);
  let published = 0;
  while (server.stats().closedForBackpressure === 0 && published < limit) {
    await bus.publish(
      topic,
      createEvent('log.append', { level: 'info', message: `${published}:${message}` }),
    );
    published++;
    if (published % yieldEvery === 0) await new Promise((resolve) => setImmediate(resolve));
    afterEach();
  }
  await waitFor(() => server.stats().closedForBackpressure >= 1, { what: 'the stalled stream evicted' });
  return published;
}

/**
 * `bus` as it is, counting the `subscribe` and `head` calls made on it (a wrapper, not a mock:
 * every call goes through to the real bus).
 */
export function countingBus(bus: EventBus): { bus: EventBus; calls: { subscribe: number; head: number } } {
  const calls = { subscribe: 0, head: 0 };
  const wrapped: EventBus = {
    publish: (topic, event) => bus.publish(topic, event),
    subscribe: (topic, handler, options) => {
      calls.subscribe++;
      return bus.subscribe(topic, handler, options);
    },
    head: (topic) => {
      calls.head++;
      return bus.head(topic);
    },
    dropTopic: (topic) => bus.dropTopic(topic),
    stats: () => bus.stats(),
    close: () => bus.close(),
  };
  return { bus: wrapped, calls };
}
