import { AsyncLocalStorage } from 'node:async_hooks';
import type pg from 'pg';

/**
 * The caller's connection of a `publish(topic, event, { client })` or `dropTopic(topic, { client })`
 * while the bus-kit layer validates the event and calls the transport: the transport's `append` /
 * `drop` runs its statement on it, inside the caller's transaction.
 */
export const callerTransaction = new AsyncLocalStorage<pg.ClientBase>();
