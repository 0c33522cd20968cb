import {
  type AnyEnvelope,
  createEvent,
  type Envelope,
  type EventBus,
  type EventMap,
  type EventMeta,
  type EventType,
} from '@repopulse/events-core';
import { createOutbox, type Outbox } from '@repopulse/outbox';
import { createSqliteStore, type SqliteDatabase } from '@repopulse/outbox/sqlite';
import type { Db } from './db';
import { createDeliveredPositions, type DeliveredPositions } from './delivered-positions';
import type { Logger } from './logger';
import { currentAction } from './request-context';
import { repoTopic, type TopicNames } from './topics';

/** The repository fields needed to route an event. */
export interface RepoRef {
  id: number;
  owner: string;
  /** Part of the repository's topic name (see `topics.ts`). */
  topic_nonce: string;
}

/** Event types that also go to the list topics (the Home page's badges and rows). */
const LIST_EVENTS: ReadonlySet<EventType> = new Set(['repo.created', 'repo.deleted', 'repo.status_changed']);

/**
 * Writes the app's events into the outbox, inside the SQLite transaction that makes the change
 * they announce: the change and its events commit together or not at all, and the relay delivers
 * committed events to the bus in commit order (while the bus is down they wait in the table).
 */
export interface RepoEvents {
  /**
   * Enqueues one event about `repo` on its topic; list-level types also on the admin's and the
   * owner's list topics (same envelope, same id). Must run inside `db.transaction(...)`: outside
   * one it throws `OutboxError('not_in_transaction')`. An event published while a user action
   * runs carries that action's `request_id`. Returns the envelope.
   */
  enqueue<K extends EventType>(
    repo: RepoRef,
    type: K,
    payload: EventMap[K],
    meta?: Omit<EventMeta, 'repo_id'>,
  ): Envelope<K>;
  /** Like {@link RepoEvents.enqueue}, with an envelope made beforehand (its id stored in the DB). */
  enqueueEnvelope<K extends EventType>(repo: RepoRef, event: Envelope<K>): Envelope<K>;
  /** Enqueues `event` on a topic of the app's own (e.g. the sessions topic), in the open transaction. */
  enqueueOn(topic: string, event: AnyEnvelope): void;
}

/** The app's outbox: the writer, the relay's outbox and the positions it delivered. */
export interface EventOutbox {
  /** Writes events inside transactions. */
  events: RepoEvents;
  /** The outbox (stats, drained, close). */
  outbox: Outbox<SqliteDatabase, void>;
  /** The bus position of the last event relayed per topic (what snapshots carry). */
  positions: DeliveredPositions;
}

/** Options of {@link createEventOutbox}. */
export interface EventOutboxOptions {
  db: Db;
  bus: EventBus;
  topics: TopicNames;
  log: Logger;
  /** Keep delivered positions in the database (a bus that outlives the process: Redis). */
  persistPositions: boolean;
}

/**
 * Creates the outbox on the app's SQLite database (table `repopulse_outbox`) and starts its relay
 * to `bus`. Every process relays: on one database file the bus stores each event id once, so two
 * relays racing over the same rows deliver nothing twice.
 */
export function createEventOutbox(options: EventOutboxOptions): EventOutbox {
  const { db, bus, topics, log } = options;
  const positions = createDeliveredPositions(db, bus, options.persistPositions);
  const outbox = createOutbox({
    store: createSqliteStore(db),
    bus: positions.relayBus,
    onError: (error) => {
      const fields = { code: error.code, topic: error.topic, error };
      if (error.code === 'publish_failed') log.warn('event relay: bus unavailable, retrying', fields);
      else log.error('event relay error', fields);
    },
  });

  function enqueueEnvelope<K extends EventType>(repo: RepoRef, made: Envelope<K>): Envelope<K> {
    const requestId = made.request_id ?? currentAction()?.requestId;
    const event = requestId === made.request_id ? made : { ...made, request_id: requestId };
    if (LIST_EVENTS.has(event.type)) {
      // One write for the three topics (one statement on Postgres).
      outbox.enqueueMany(db, [
        { topic: repoTopic(repo), event },
        { topic: topics.all, event },
        { topic: topics.owner(repo.owner), event },
      ]);
    } else {
      outbox.enqueue(db, repoTopic(repo), event);
    }
    return event;
  }

  const events: RepoEvents = {
    enqueue(repo, type, payload, meta = {}) {
      return enqueueEnvelope(repo, createEvent(type, payload, { ...meta, repo_id: repo.id }));
    },
    enqueueEnvelope,
    enqueueOn(topic, event) {
      outbox.enqueue(db, topic, event);
    },
  };
  return { events, outbox, positions };
}
