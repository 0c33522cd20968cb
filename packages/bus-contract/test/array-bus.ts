import type { AnyEnvelope, BusOptions, EventBus, StreamPosition, Topic } from '@repopulse/events-core';
import { type BusTransport, defineBus, resolveBusOptions } from '@repopulse/events-core/bus-kit';
import { nextPosition, ZERO_POSITION } from '@repopulse/events-core/wire';

interface Stored {
  position: StreamPosition;
  event: AnyEnvelope;
  at: number;
}

/** A whole bus in one process: each topic is an array. The bus-kit layer does everything else. */
export function createArrayBus(options: BusOptions = {}): EventBus {
  const resolved = resolveBusOptions('createArrayBus', options);
  const { historyLimit, historyTtlMs } = resolved;
  const topics = new Map<
    Topic,
    { events: Stored[]; head: StreamPosition; floor: StreamPosition | undefined }
  >();

  const topicOf = (topic: Topic) => {
    const log = topics.get(topic) ?? { events: [], head: ZERO_POSITION, floor: undefined };
    topics.set(topic, log);
    // Retention: the count limit, and the age limit when there is one.
    const oldest = historyTtlMs === undefined ? -1 : Date.now() - historyTtlMs;
    while (log.events.length > historyLimit || (log.events[0] && log.events[0].at < oldest)) {
      log.floor = log.events.shift()?.position;
    }
    return log;
  };

  return defineBus(resolved, (sink) => {
    const transport: BusTransport = {
      async append(topic, event) {
        const log = topicOf(topic);
        // Idempotent: an id the topic still retains is answered with the stored event.
        const known = log.events.find((stored) => stored.event.id === event.id);
        if (known) return { position: known.position, event: known.event };
        const position = nextPosition(log.head === ZERO_POSITION ? undefined : log.head, Date.now());
        log.events.push({ position, event, at: Date.now() });
        log.head = position;
        sink.live(topic, { position, event }); // live subscribers of this process
        return position;
      },
      async read(topic, cursor, limit) {
        const log = topicOf(topic);
        const index = log.events.findIndex((stored) => stored.position === cursor);
        // After 0-0 and after the floor (the newest trimmed position) everything retained follows.
        const fromStart = cursor === ZERO_POSITION || cursor === log.floor;
        const from = fromStart ? 0 : index + 1;
        const after = index >= 0 || fromStart ? log.events.slice(from, from + limit) : [];
        return {
          head: log.head,
          oldest: log.events[0]?.position,
          trimmed: log.floor !== undefined,
          floor: log.floor,
          holdsCursor: index >= 0,
          entries: after.map(({ position, event }) => ({ position, event })),
        };
      },
      head: async (topic) => topicOf(topic).head,
      async drop(topic) {
        // The drop takes a position of its own: every later one is greater, every earlier one resets.
        const head = nextPosition(topicOf(topic).head, Date.now());
        topics.set(topic, { events: [], head, floor: head });
        sink.dropped(topic, head); // subscribers of this process get a history_lost reset
      },
      // Delivery is a direct call in one process: nothing to subscribe, never interrupted.
      listen: async () => {},
      unlisten: async () => {},
      isLive: () => true,
      close: async () => topics.clear(),
    };
    return transport;
  });
}
