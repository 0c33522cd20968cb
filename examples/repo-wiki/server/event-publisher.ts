import {
  createEvent,
  type EventBus,
  type EventMap,
  type EventMeta,
  type EventType,
  type PublishResult,
} from '@repopulse/events-core';
import type { Logger } from './logger';
import { currentAction } from './request-context';
import { repoTopic, type TopicNames } from './topics';

/** The repository fields the publisher needs to route an event. */
export interface RepoRef {
  id: number;
  owner: string;
  /** Part of the repository's topic name (see `topics.ts`). */
  topic_nonce: string;
}

/** Event types that also go to the list topics (the Home page's badges and rows). */
const LIST_EVENTS: ReadonlySet<EventType> = new Set(['repo.created', 'repo.deleted', 'repo.status_changed']);

/** Publishes domain events to their topics; callers call it only after their DB write committed. */
export interface EventPublisher {
  /**
   * Publishes one event about `repo` on its topic; list-level types also on the admin's and the
   * owner's list topics (same envelope, same id). Resolves with the per-repo publish result.
   */
  publish<K extends EventType>(
    repo: RepoRef,
    type: K,
    payload: EventMap[K],
    meta?: Omit<EventMeta, 'repo_id'>,
  ): Promise<PublishResult>;
  /** Like {@link EventPublisher.publish}, with an envelope made beforehand (its id stored in the DB). */
  publishEnvelope(repo: RepoRef, event: ReturnType<typeof createEvent>): Promise<PublishResult>;
}

/**
 * Creates the publisher over `bus`. Publish failures are logged and rethrown. An event published
 * while a user action runs carries that action's `request_id` (unless it names one already).
 */
export function createEventPublisher(bus: EventBus, topics: TopicNames, log: Logger): EventPublisher {
  async function publishEnvelope(repo: RepoRef, made: ReturnType<typeof createEvent>) {
    const requestId = made.request_id ?? currentAction()?.requestId;
    const event = requestId === made.request_id ? made : { ...made, request_id: requestId };
    const targets = [repoTopic(repo)];
    if (LIST_EVENTS.has(event.type)) targets.push(topics.all, topics.owner(repo.owner));
    try {
      const [first] = await Promise.all(targets.map((topic) => bus.publish(topic, event)));
      log.debug('event published', { type: event.type, id: event.id, repo_id: repo.id });
      return first as PublishResult;
    } catch (error) {
      log.error('event publish failed', { type: event.type, id: event.id, repo_id: repo.id, error });
      throw error;
    }
  }
  return {
    publish(repo, type, payload, meta = {}) {
      return publishEnvelope(repo, createEvent(type, payload, { ...meta, repo_id: repo.id }));
    },
    publishEnvelope,
  };
}
