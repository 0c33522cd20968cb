import type { BusOptions, EventBus, StreamPosition, Topic } from '@repopulse/events-core';
import {
  type BusTransport,
  defineBus,
  neverWrittenRange,
  type ReadResult,
  type ResolvedBusOptions,
  resolveBusOptions,
  type TransportSink,
} from '@repopulse/events-core/bus-kit';
import { comparePositions, nextPosition, ZERO_POSITION } from '@repopulse/events-core/wire';
import { ForgottenTopics } from './forgotten-topics';
import { TopicLog } from './topic-log';

/** Options of {@link createMemoryBus}. */
export interface MemoryBusOptions extends BusOptions {
  /**
   * Clock used to stamp positions and expire history; override in tests.
   * @default Date.now
   */
  now?: () => number;
}

/** What a memory bus holds in this process: see {@link MemoryBus.historyStats}. */
export interface MemoryHistoryStats {
  /** Topics with retained history (a topic without retained events is not held at all). */
  topics: number;
  /** Events retained across those topics. */
  events: number;
}

/**
 * An in-process {@link EventBus}: publishes are stored in a bounded history per topic and
 * delivered synchronously, in order, to the topic's subscribers. Positions are `<ms>-<seq>` like
 * Redis stream ids. History lives in this process only: after a restart every old position is
 * answered with a reset.
 *
 * Memory follows what is retained: a topic's history grows with its events (up to
 * `historyLimit`), and a topic without retained events (dropped, or every event past
 * `historyTtlMs`) is not held at all; expired topics are let go during later publishes, without a
 * timer. See the package README for what a topic the bus let go answers.
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
  let storage: MemoryStorage | undefined;
  const bus = defineBus(resolved, (sink) => {
    storage = memoryStorage(resolved, now, sink);
    return storage.transport;
  });
  const historyStats = (): MemoryHistoryStats => (storage as MemoryStorage).stats();
  return Object.assign(bus, { historyStats });
}

/** The bus {@link createMemoryBus} returns: an {@link EventBus} living in this process. */
export interface MemoryBus extends EventBus {
  /**
   * Diagnostics of the history this bus holds (topics expired by `historyTtlMs` are let go first):
   * proves that dropped and expired topics cost nothing.
   * @example
   * ```ts
   * await bus.dropTopic('repo:42');
   * bus.historyStats(); // { topics: 0, events: 0 } when it was the only topic
   * ```
   */
  historyStats(): MemoryHistoryStats;
}

interface MemoryStorage {
  transport: BusTransport;
  stats(): MemoryHistoryStats;
}

/**
 * The memory bus's storage: one {@link TopicLog} per topic with retained events; live
 * notification is a direct call.
 *
 * A topic whose history is empty is deleted from the map (let go). What it answers then is kept
 * for the whole bus in one position and one fixed-size filter: the `floor` (the greatest head of
 * any topic let go, a drop taking a position of its own) and the names let go
 * ({@link ForgottenTopics}). A topic the filter might hold reads as trimmed up to the floor, and a
 * log made for it starts there; any other topic is new (`0-0`). So every position a topic issues
 * stays greater than every one it issued before, and a resume point from before a drop or a full
 * expiry gets a reset.
 *
 * With an age limit, the map is kept in order of each topic's last publish, so the topics whose
 * newest event expired are at its front: each publish lets them go, in amortized constant time.
 */
function memoryStorage(options: ResolvedBusOptions, now: () => number, sink: TransportSink): MemoryStorage {
  const { historyLimit, historyTtlMs } = options;
  const logs = new Map<Topic, TopicLog>();
  const letGo = new ForgottenTopics();
  let floor: StreamPosition | undefined;

  const forget = (topic: Topic, head: StreamPosition) => {
    logs.delete(topic);
    letGo.add(topic);
    floor = latest(head, floor);
  };
  /** Lets go of the topics whose every event expired (the front of the map). */
  const sweep = (at: number) => {
    if (historyTtlMs === undefined) return;
    for (const [topic, log] of logs) {
      if (!log.expiredAt(at)) break;
      forget(topic, log.head);
    }
  };
  /** The topic's log if it retains anything at `at`; an expired one is let go. */
  const held = (topic: Topic, at: number): TopicLog | undefined => {
    const log = logs.get(topic);
    if (log?.expiredAt(at)) {
      forget(topic, log.head);
      return undefined;
    }
    return log;
  };
  /** Where a topic without a log starts: the floor if it might have been let go, else nowhere. */
  const floorOf = (topic: Topic) => (letGo.mightHold(topic) ? floor : undefined);
  const rangeWithoutLog = (topic: Topic): ReadResult => {
    const start = floorOf(topic);
    return start === undefined
      ? { ...neverWrittenRange(), entries: [] }
      : { head: start, oldest: undefined, trimmed: true, floor: start, holdsCursor: false, entries: [] };
  };

  const transport = {
    system: 'memory',
    async append(topic, event) {
      const at = now();
      sweep(at);
      let log = held(topic, at);
      if (!log) {
        log = new TopicLog(historyLimit, historyTtlMs, floorOf(topic));
        logs.set(topic, log);
      }
      const result = log.append(event, at);
      if (typeof result !== 'string') return result;
      if (historyTtlMs !== undefined) {
        // Keep the map in order of last publish, so the sweep finds expired topics at its front.
        logs.delete(topic);
        logs.set(topic, log);
      }
      sink.live(topic, { position: result, event });
      return result;
    },
    async read(topic, cursor, limit) {
      const at = now();
      return held(topic, at)?.read(cursor, limit, at) ?? rangeWithoutLog(topic);
    },
    async head(topic) {
      return held(topic, now())?.head ?? floorOf(topic) ?? ZERO_POSITION;
    },
    async drop(topic) {
      const at = now();
      // The drop takes a position of its own, past the floor: the topic's head and floor from now on.
      const dropped = nextPosition(latest(held(topic, at)?.head, floor), at);
      forget(topic, dropped);
      sink.dropped(topic, dropped);
    },
    listen: async () => {},
    unlisten: async () => {},
    isLive: () => true,
    async close() {
      logs.clear();
    },
  } satisfies BusTransport;

  return {
    transport,
    stats() {
      sweep(now());
      let events = 0;
      for (const log of logs.values()) {
        log.expire(now());
        events += log.size;
      }
      return { topics: logs.size, events };
    },
  };
}

/** The later of two positions, either of which may be missing. */
function latest(a: StreamPosition | undefined, b: StreamPosition | undefined): StreamPosition | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return comparePositions(a, b) >= 0 ? a : b;
}
