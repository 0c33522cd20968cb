import {
  assertTopic,
  BusClosedError,
  type BusDelivery,
  type BusErrorHandler,
  type BusOptions,
  DEFAULT_HISTORY_LIMIT,
  type DeliveryHandler,
  type EventBus,
  type EventDelivery,
  logBusError,
  parseEnvelope,
  type StreamPosition,
  type Subscription,
  type Topic,
} from '@repopulse/events-core';
import mitt from 'mitt';
import { TopicLog } from './topic-log';

/** Options of {@link createMemoryBus}. */
export interface MemoryBusOptions extends BusOptions {
  /**
   * Clock used to stamp positions and expire history; override in tests.
   * @default Date.now
   */
  now?: () => number;
}

type Listener = (delivery: EventDelivery) => void;

/**
 * An in-process {@link EventBus} on `mitt`: publishes are stored in a bounded ring buffer per
 * topic and delivered synchronously, in order, to the topic's subscribers. Positions are
 * `<ms>-<seq>` like Redis stream ids. History lives in this process only: after a restart every
 * old position is answered with a reset.
 *
 * @example
 * ```ts
 * const bus = createMemoryBus({ historyLimit: 500 });
 * await bus.subscribe('repo:42', (d) => console.log(d.reset ? 'reset' : d.event.type));
 * await bus.publish('repo:42', createEvent('log.append', { level: 'info', message: 'hi' }));
 * ```
 */
export function createMemoryBus(options: MemoryBusOptions = {}): MemoryBus {
  const historyLimit = options.historyLimit ?? DEFAULT_HISTORY_LIMIT;
  if (!Number.isInteger(historyLimit) || historyLimit < 1) {
    throw new RangeError('[repopulse] historyLimit must be a positive integer');
  }
  const { historyTtlMs, maxEventBytes } = options;
  if (historyTtlMs !== undefined && !(historyTtlMs > 0)) {
    throw new RangeError('[repopulse] historyTtlMs must be a positive number of milliseconds');
  }
  const now = options.now ?? Date.now;
  const onError: BusErrorHandler = options.onError ?? logBusError;
  const emitter = mitt<Record<Topic, EventDelivery>>();
  const logs = new Map<Topic, TopicLog>();
  const active = new Set<() => void>();
  let closed = false;

  const logOf = (topic: Topic): TopicLog => {
    let log = logs.get(topic);
    if (!log) {
      log = new TopicLog(historyLimit, historyTtlMs);
      logs.set(topic, log);
    }
    return log;
  };

  const report = (error: unknown, topic: Topic) => {
    try {
      onError(error, { topic, source: 'handler' });
    } catch {
      // an onError that throws must not break delivery either
    }
  };

  const call = (handler: DeliveryHandler, delivery: BusDelivery, topic: Topic) => {
    try {
      const result = handler(delivery);
      if (result && typeof result.then === 'function')
        result.then(undefined, (error) => report(error, topic));
    } catch (error) {
      report(error, topic);
    }
  };

  const bus = {
    async publish(topic, event) {
      if (closed) throw new BusClosedError();
      assertTopic(topic);
      const stored = parseEnvelope(event, { maxBytes: maxEventBytes });
      const delivery = logOf(topic).append(stored, now());
      emitter.emit(topic, delivery);
      return { position: delivery.position, event: stored as unknown as typeof event };
    },

    async subscribe(topic, handler, subscribeOptions = {}) {
      if (closed) throw new BusClosedError();
      assertTopic(topic);
      const { after, signal } = subscribeOptions;
      let subscribed = true;
      const listener: Listener = (delivery) => {
        if (subscribed) call(handler, delivery, topic);
      };
      const release = () => {
        if (!subscribed) return;
        subscribed = false;
        active.delete(release);
        signal?.removeEventListener('abort', release);
        emitter.off(topic, listener);
        if (emitter.all.get(topic)?.length === 0) emitter.all.delete(topic);
      };
      const subscription: Subscription = { unsubscribe: async () => release() };
      if (signal?.aborted) {
        subscribed = false;
        return subscription;
      }
      // Replay and attach in one synchronous step: no publish can slip in between.
      if (after !== undefined) {
        const log = logOf(topic);
        const plan = log.plan(after, now());
        if ('reset' in plan) call(handler, { reset: true, position: log.head, reason: plan.reset }, topic);
        else for (const delivery of plan.replay) listener(delivery);
      }
      if (!subscribed) return subscription; // the handler unsubscribed (via signal) during replay
      emitter.on(topic, listener);
      active.add(release);
      signal?.addEventListener('abort', release, { once: true });
      return subscription;
    },

    async head(topic): Promise<StreamPosition> {
      assertTopic(topic);
      return logs.get(topic)?.head ?? '0-0';
    },

    stats() {
      let subscriptions = 0;
      for (const listeners of emitter.all.values()) subscriptions += listeners.length;
      return { topics: emitter.all.size, subscriptions };
    },

    async close() {
      if (closed) return;
      closed = true;
      for (const release of [...active]) release();
      emitter.all.clear();
      logs.clear();
    },
  } satisfies EventBus;
  return bus;
}

/** The bus {@link createMemoryBus} returns: an {@link EventBus} living in this process. */
export type MemoryBus = EventBus;
