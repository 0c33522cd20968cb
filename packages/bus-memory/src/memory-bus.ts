import { type BusOptions, type EventBus, type Topic, ZERO_POSITION } from '@repopulse/events-core';
import {
  type BusTransport,
  defineBus,
  type ResolvedBusOptions,
  resolveBusOptions,
  type TransportSink,
} from '@repopulse/events-core/bus-kit';
import { TopicLog } from './topic-log';

/** Options of {@link createMemoryBus}. */
export interface MemoryBusOptions extends BusOptions {
  /**
   * Clock used to stamp positions and expire history; override in tests.
   * @default Date.now
   */
  now?: () => number;
}

/**
 * An in-process {@link EventBus}: publishes are stored in a bounded ring buffer per topic and
 * delivered synchronously, in order, to the topic's subscribers. Positions are `<ms>-<seq>` like
 * Redis stream ids. History lives in this process only: after a restart every old position is
 * answered with a reset.
 *
 * @example
 * ```ts
 * const bus = createMemoryBus({ historyLimit: 500 });
 * await bus.subscribe('repo:42', (d) => console.log(d.reset ? 'reset' : d.event.type));
 * await bus.publish('repo:42', createEvent('log.append', { level: 'info', message: 'hi' }));
 * ```
 */
export function createMemoryBus(options: MemoryBusOptions = {}): MemoryBus {
  const resolved = resolveBusOptions('createMemoryBus', options, { optional: ['now'] });
  const now = options.now ?? Date.now;
  return defineBus(resolved, (sink) => memoryTransport(resolved, now, sink));
}

/** The memory bus's storage: one {@link TopicLog} per topic; live notification is a direct call. */
function memoryTransport(options: ResolvedBusOptions, now: () => number, sink: TransportSink): BusTransport {
  const logs = new Map<Topic, TopicLog>();
  const logOf = (topic: Topic): TopicLog => {
    let log = logs.get(topic);
    if (!log) {
      log = new TopicLog(options.historyLimit, options.historyTtlMs);
      logs.set(topic, log);
    }
    return log;
  };
  const transport = {
    async append(topic, event) {
      const delivery = logOf(topic).append(event, now());
      sink.live(topic, delivery);
      return delivery.position;
    },
    async read(topic, cursor, limit) {
      return logOf(topic).read(cursor, limit, now());
    },
    async head(topic) {
      return logs.get(topic)?.head ?? ZERO_POSITION;
    },
    listen: async () => {},
    unlisten: async () => {},
    isLive: () => true,
    async close() {
      logs.clear();
    },
  } satisfies BusTransport;
  return transport;
}

/** The bus {@link createMemoryBus} returns: an {@link EventBus} living in this process. */
export type MemoryBus = EventBus;
