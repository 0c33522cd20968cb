import { computeBackoff } from '../backoff';
import {
  assertTopic,
  type BusStats,
  type EventBus,
  type PublishResult,
  type Subscription,
  type Topic,
} from '../bus';
import { type AnyEnvelope, DEFAULT_MAX_EVENT_BYTES } from '../envelope';
import { BusClosedError, BusUnavailableError, isRepoPulseError } from '../errors';
import type { StreamPosition } from '../wire/position';
import type { ResolvedBusOptions } from './bus-options';
import { isolateHandler } from './handler-isolation';
import { type BusInstruments, busInstruments } from './instrumentation';
import { ReplayMerge, type ReplayMergeHost } from './replay-merge';
import type { BusTransport, TransportSink } from './transport';
import { validatedEnvelopeJson } from './validated-json';

/** Between two tries of a failed history read: 25 ms doubling to 2 s, equal jitter. */
const READ_RETRY_BACKOFF = { initialMs: 25, maxMs: 2000, jitter: 0.5 };

/**
 * Builds an `EventBus` from a transport's primitives. The bus part is the same for every store:
 * closed state, topic and envelope validation, publish results (`duplicate` when the transport
 * answered with an event it already held), `dropTopic`, handler isolation, the replay-then-live
 * merge by position with its reset decisions (a drop's `history_lost` included), catch-up after an
 * interruption, subscription bookkeeping, `stats()` and release on unsubscribe, abort and close.
 *
 * @param options - from {@link resolveBusOptions}.
 * @param makeTransport - creates the transport; it receives the {@link TransportSink} to report to.
 * @example
 * ```ts
 * export function createMyBus(options: MyBusOptions = {}): EventBus {
 *   const resolved = resolveBusOptions('createMyBus', options);
 *   return defineBus(resolved, (sink) => myTransport(resolved, sink));
 * }
 * ```
 */
export function defineBus(
  options: ResolvedBusOptions,
  makeTransport: (sink: TransportSink) => BusTransport,
): EventBus {
  const { report, maxEventBytes } = options;
  const maxBytes = maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES;
  const topics = new Map<Topic, Set<ReplayMerge>>();
  const releases = new Set<() => Promise<void>>();
  let closed = false;
  let instruments: BusInstruments | undefined;

  const each = (only: Iterable<Topic> | undefined, action: (merge: ReplayMerge) => void) => {
    const names = only ?? topics.keys();
    for (const topic of names) for (const merge of topics.get(topic) ?? []) action(merge);
  };

  const sink: TransportSink = {
    live(topic, delivery) {
      const merges = topics.get(topic);
      if (merges) for (const merge of merges) merge.onLive(delivery);
    },
    dropped(topic, head) {
      const merges = topics.get(topic);
      if (merges) for (const merge of merges) merge.onDropped(head);
    },
    wants: (topic) => topics.has(topic),
    interrupted: (only) => each(only && [...only], (merge) => merge.pause()),
    recovered: (only) => {
      instruments?.reconnected();
      each(only && [...only], (merge) => merge.catchUp());
    },
    report,
  };
  const transport = makeTransport(sink);
  instruments = busInstruments(transport.system ?? 'repopulse');

  const retryDelay = async (attempt: number) => {
    if (closed) return;
    await transport.whenReachable?.().catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, computeBackoff(attempt, READ_RETRY_BACKOFF)));
  };

  const bus = {
    publish(topic, event) {
      // Not `async`: a suspended async function keeps its whole frame, which costs a hot path
      // allocation per publish; the result is mapped with one `then` instead, which also ends the
      // publish's span when OpenTelemetry is on.
      const trace = instruments?.publishing(topic, event);
      let stored: AnyEnvelope;
      let json: string;
      try {
        if (closed) throw new BusClosedError();
        assertTopic(topic);
        // A `createEvent` envelope only has its size checked; anything else is validated and copied.
        ({ envelope: stored, json } = validatedEnvelopeJson(event, maxBytes));
      } catch (error) {
        trace?.failed(error);
        return Promise.reject(error);
      }
      return transport.append(topic, stored, json).then(
        (result) => {
          const published: PublishResult<typeof event> =
            typeof result === 'string'
              ? { position: result, event: stored as unknown as typeof event }
              : {
                  position: result.position,
                  event: result.event as unknown as typeof event,
                  duplicate: true,
                };
          trace?.succeeded(published.position, published.duplicate === true);
          return published;
        },
        trace &&
          ((error: unknown) => {
            trace.failed(error);
            throw error;
          }),
      );
    },

    async dropTopic(topic) {
      if (closed) throw new BusClosedError();
      assertTopic(topic);
      await transport.drop(topic);
    },

    async subscribe(topic, handler, subscribeOptions = {}) {
      if (closed) throw new BusClosedError();
      assertTopic(topic);
      const { after, signal } = subscribeOptions;
      if (signal?.aborted) return { unsubscribe: async () => {} };
      const host: ReplayMergeHost = {
        read: (cursor, limit) => transport.read(topic, cursor, limit),
        head: () => transport.head(topic),
        deliver: isolateHandler(handler, report, topic),
        replayFailed: (error) => report(error, { topic, source: 'replay' }),
        isLive: () => transport.isLive(topic),
        retryDelay,
      };
      const merge = new ReplayMerge(host, after);
      let merges = topics.get(topic);
      if (!merges) {
        merges = new Set();
        topics.set(topic, merges);
      }
      merges.add(merge);

      let released: Promise<void> | undefined;
      const onAbort = () => void release();
      const release = (): Promise<void> => {
        released ??= (async () => {
          merge.active = false;
          releases.delete(release);
          signal?.removeEventListener('abort', onAbort);
          const current = topics.get(topic);
          if (current?.delete(merge) && current.size === 0) topics.delete(topic);
          if (closed) return;
          await transport.unlisten(topic).catch(() => {});
        })();
        return released;
      };
      releases.add(release);
      signal?.addEventListener('abort', onAbort, { once: true });

      try {
        await transport.listen(topic);
        if (closed) throw new BusClosedError();
        if (merge.active) await merge.start();
      } catch (error) {
        void release();
        if (isRepoPulseError(error)) throw error;
        throw new BusUnavailableError(`could not subscribe to ${topic}: ${messageOf(error)}`, {
          cause: error,
        });
      }
      const subscription: Subscription = { unsubscribe: release };
      return subscription;
    },

    async head(topic): Promise<StreamPosition> {
      if (closed) throw new BusClosedError();
      assertTopic(topic);
      return transport.head(topic);
    },

    stats(): BusStats {
      let subscriptions = 0;
      for (const merges of topics.values()) subscriptions += merges.size;
      return { topics: topics.size, subscriptions };
    },

    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([...releases].map((release) => release()));
      topics.clear();
      await transport.close();
    },
  } satisfies EventBus;
  return bus;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
