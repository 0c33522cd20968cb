import { setTimeout as sleep } from 'node:timers/promises';
import {
  type AnyEnvelope,
  createEvent,
  type EventBus,
  field,
  isKnownEventType,
  registerEventType,
  type Subscription,
} from '@repopulse/events-core';
import { computeBackoff } from '@repopulse/events-core/bus-kit';
import type { Logger } from './logger';
import type { OpenStreams } from './open-streams';

/** Payload of the app's `session.revoked` event. */
export interface SessionRevokedPayload {
  /** The revoked session's id (a hash of its token; the token cannot be derived from it). */
  session: string;
}

declare module '@repopulse/events-core' {
  interface EventMap {
    /** A session was logged out: every instance ends its streams (app-defined; see examples/repo-wiki). */
    'session.revoked': SessionRevokedPayload;
  }
}

/** Registers the `session.revoked` schema (once per process). */
export function registerSessionRevokedEvent(): void {
  if (isKnownEventType('session.revoked')) return;
  registerEventType('session.revoked', { session: field.string(64) });
}

/** Ends a revoked session's streams on every instance sharing the bus. */
export interface SessionRevocations {
  /** Ends the session's streams here, then tells the other instances (their streams end too). */
  revoke(sessionId: string): Promise<void>;
  /** Stops listening. */
  close(): Promise<void>;
}

/** How long the app's start waits for the subscription before going on without it (the bus is down). */
const START_WAIT_MS = 1000;
/** Longest pause between two attempts to subscribe while the bus is down. */
const RETRY_MAX_MS = 5000;

/**
 * Listens (live) on `topic` for `session.revoked` and ends the named session's streams on this
 * instance. The session row is already gone from the shared database, so a reconnect gets 401
 * everywhere; this only closes what is open. The announcement goes through the outbox
 * (`announce`), so a bus outage delays it instead of losing it. The app starts while the bus is
 * down: the subscription is retried in the background until it succeeds.
 */
export async function createSessionRevocations(options: {
  bus: EventBus;
  topic: string;
  /** Commits `event` to the outbox for `topic` (its own transaction). */
  announce(event: AnyEnvelope): void;
  openStreams: OpenStreams;
  log: Logger;
}): Promise<SessionRevocations> {
  const { bus, topic, openStreams, log } = options;
  registerSessionRevokedEvent();
  const stop = new AbortController();
  let subscription: Subscription | undefined;
  const listen = async () => {
    for (let attempt = 0; !stop.signal.aborted; attempt++) {
      try {
        subscription = await bus.subscribe(topic, (delivery) => {
          if (delivery.reset) return;
          const { event } = delivery;
          if (event.type === 'session.revoked') openStreams.closeSession(event.payload.session);
        });
        if (stop.signal.aborted) await subscription.unsubscribe();
        return;
      } catch (error) {
        if (stop.signal.aborted) return;
        log.warn('cannot listen for revoked sessions yet (bus unavailable), retrying', { error });
        const delay = computeBackoff(attempt, { initialMs: 100, maxMs: RETRY_MAX_MS, jitter: 0 });
        await sleep(delay, undefined, { signal: stop.signal }).catch(() => {});
      }
    }
  };
  const listening = listen();
  await Promise.race([listening, sleep(START_WAIT_MS, undefined, { ref: false })]);
  return {
    async revoke(sessionId) {
      openStreams.closeSession(sessionId);
      try {
        options.announce(createEvent('session.revoked', { session: sessionId }));
      } catch (error) {
        // The session is revoked in the database regardless; only other instances' open streams
        // stay open until the session would have ended.
        log.error('could not announce a revoked session to other instances', { error });
      }
    },
    async close() {
      stop.abort();
      await listening;
      await subscription?.unsubscribe();
    },
  };
}
