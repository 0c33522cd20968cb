import {
  type AnyEnvelope,
  type BusDelivery,
  type BusErrorHandler,
  createEvent,
  type EventBus,
  type StreamPosition,
  type SubscribeOptions,
  type Subscription,
} from '@repopulse/events-core';
import { vi } from 'vitest';

/** Options the contract suite passes to a bus factory. */
export interface BusFactoryOptions {
  /** Retention per topic, when a test needs a small one. */
  historyLimit?: number;
  /** Age limit of retained events, when a test needs one. */
  historyTtlMs?: number;
  /** Receives handler errors. */
  onError?: BusErrorHandler;
}

/** Makes a fresh bus. Buses are closed by the suite after each test. */
export type BusFactory = (options: BusFactoryOptions) => EventBus | Promise<EventBus>;

/** How the bus under test differs from the reference semantics, where the contract allows it. */
export interface ContractOptions {
  /**
   * Buses made by the factory share one store (Redis): a second bus replays the first one's
   * history. `false` (memory): a new bus is a new process, every old position gets a reset.
   */
  sharedHistory: boolean;
  /**
   * Extra events a test publishes past `historyLimit` before it expects the oldest to be gone
   * (Redis `MAXLEN ~` trims in whole nodes of ~100 entries).
   * @default 0
   */
  trimSlack?: number;
  /**
   * How long to wait for asynchronous deliveries before a test fails.
   * @default 5000
   */
  deliveryTimeoutMs?: number;
}

/** What each suite file receives. */
export interface ContractContext {
  /** Creates a bus that is closed after the test. */
  create(options?: BusFactoryOptions): Promise<EventBus>;
  /** A topic name no other test (or earlier run on a shared store) uses. */
  topic(label?: string): string;
  /** A bus from {@link create} and a topic from {@link topic}: what most tests start with. */
  fresh(options?: BusFactoryOptions): Promise<{ bus: EventBus; topic: string }>;
  /** The suite's options with defaults applied. */
  options: Required<ContractOptions>;
}

/** A test event whose payload carries `n`, so sequences are easy to check. */
export function numbered(n: number, extra = ''): AnyEnvelope {
  return createEvent('log.append', { level: 'info', message: `${n}${extra}` });
}

/** The `n` carried by a {@link numbered} event. */
export function numberOf(event: AnyEnvelope): number {
  if (event.type !== 'log.append') throw new Error(`unexpected event type ${event.type}`);
  return Number.parseInt(event.payload.message, 10);
}

/** Records every delivery of one subscription. */
export interface Collector {
  /** Everything delivered, in order. */
  deliveries: BusDelivery[];
  /** Event deliveries only. */
  events(): { position: StreamPosition; event: AnyEnvelope }[];
  /** Numbers of the events delivered (see {@link numbered}). */
  numbers(): number[];
  /** Resets delivered. */
  resets(): BusDelivery[];
  /** The subscription. */
  subscription: Subscription;
  /** Waits until `count` event deliveries arrived. */
  waitForEvents(count: number, timeoutMs: number): Promise<void>;
  /** Waits until a reset arrived. */
  waitForReset(timeoutMs: number): Promise<void>;
}

/** Subscribes and records what arrives. */
export async function collect(
  bus: EventBus,
  topic: string,
  options: SubscribeOptions = {},
  onDelivery?: (delivery: BusDelivery) => void,
): Promise<Collector> {
  const deliveries: BusDelivery[] = [];
  const subscription = await bus.subscribe(
    topic,
    (delivery) => {
      deliveries.push(delivery);
      onDelivery?.(delivery);
    },
    options,
  );
  const events = () =>
    deliveries.flatMap((d) => (d.reset ? [] : [{ position: d.position, event: d.event as AnyEnvelope }]));
  return {
    deliveries,
    subscription,
    events,
    numbers: () => events().map((d) => numberOf(d.event)),
    resets: () => deliveries.filter((d) => d.reset),
    waitForEvents: (count, timeoutMs) =>
      vi.waitFor(
        () => {
          if (events().length < count) throw new Error(`got ${events().length} of ${count} events`);
        },
        { timeout: timeoutMs, interval: 5 },
      ),
    waitForReset: (timeoutMs) =>
      vi.waitFor(
        () => {
          if (!deliveries.some((d) => d.reset)) throw new Error('no reset yet');
        },
        { timeout: timeoutMs, interval: 5 },
      ),
  };
}

/** Waits a little so that an asynchronous bus would have delivered anything still in flight. */
export function settle(ms = 50): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A small seeded PRNG (mulberry32), so property runs are reproducible from their seed. */
export { prng } from '@repopulse/test-support';
