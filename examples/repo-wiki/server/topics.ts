import type { RepositoryRow } from './db';
import type { AuthUser } from './services/access';

/**
 * The app's topic names. Each carries a random nonce stored in the database, so a topic is never
 * shared by two repositories (or two databases) that happen to have the same id: after a database
 * reset on the same Redis, or once a deleted repository's id is reused, the old history stays
 * under a name nobody asks for.
 */
export interface TopicNames {
  /** The list topic an admin sees: every repository's list-level events (`repos.<nonce>`). */
  readonly all: string;
  /** The list topic a member sees: list-level events of the repositories it owns. */
  owner(username: string): string;
  /** The list topic `user` subscribes to on `/api/events`. */
  listOf(user: AuthUser): string;
  /** Where instances announce revoked sessions (served to no client). */
  readonly sessions: string;
}

/** Topic names for the database whose nonce is `databaseNonce`. */
export function createTopicNames(databaseNonce: string): TopicNames {
  const all = `repos.${databaseNonce}`;
  return {
    all,
    owner: (username) => `${all}:user:${username}`,
    listOf: (user) => (user.role === 'admin' ? all : `${all}:user:${user.username}`),
    sessions: `sessions.${databaseNonce}`,
  };
}

/** The topic of one repository's events: `repo:<id>.<nonce>`. */
export function repoTopic(repo: Pick<RepositoryRow, 'id' | 'topic_nonce'>): string {
  return `repo:${repo.id}.${repo.topic_nonce}`;
}
