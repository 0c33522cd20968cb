import type { ServerResponse } from 'node:http';
import { AppError } from './app-error';
import type { AuthSession } from './auth';

/** Options of {@link createOpenStreams}. */
export interface OpenStreamsOptions {
  /** Streams and waiting long-polls one user may hold open at once. */
  perUser: number;
  /** Sent as `Retry-After` when a user is over `perUser`. @default 3 */
  retryAfterSeconds?: number;
}

/**
 * The event streams (and waiting long-polls) open on this instance, by session and by user: the
 * per-user cap, and logout ending the streams of the session it revokes.
 */
export interface OpenStreams {
  /**
   * Registers an authorized stream of `session` until `res` closes. Throws
   * `too_many_connections` (429 with `Retry-After`) when its user already holds `perUser`.
   */
  add(session: AuthSession, res: ServerResponse): void;
  /** Ends every open stream of a session (its client sees the stream end; reconnecting gets 401). */
  closeSession(sessionId: string): number;
  /** Open streams of `username`. */
  countOf(username: string): number;
}

/** Creates the registry. */
export function createOpenStreams(options: OpenStreamsOptions): OpenStreams {
  const retryAfterSeconds = options.retryAfterSeconds ?? 3;
  const bySession = new Map<string, Set<ServerResponse>>();
  const byUser = new Map<string, number>();
  return {
    add(session, res) {
      const username = session.user.username;
      const count = byUser.get(username) ?? 0;
      if (count >= options.perUser) {
        throw new AppError(
          'too_many_connections',
          `user "${username}" already has ${count} open streams (the most allowed per user)`,
          { retryAfterSeconds },
        );
      }
      if (res.destroyed) return;
      byUser.set(username, count + 1);
      const open = bySession.get(session.id) ?? new Set<ServerResponse>();
      bySession.set(session.id, open);
      open.add(res);
      res.once('close', () => {
        open.delete(res);
        if (open.size === 0 && bySession.get(session.id) === open) bySession.delete(session.id);
        const left = (byUser.get(username) ?? 1) - 1;
        if (left > 0) byUser.set(username, left);
        else byUser.delete(username);
      });
    },
    closeSession(sessionId) {
      const open = bySession.get(sessionId);
      if (!open) return 0;
      const list = [...open];
      // The handler sees the socket close like a client leaving and releases the stream.
      for (const res of list) res.destroy();
      return list.length;
    },
    countOf(username) {
      return byUser.get(username) ?? 0;
    },
  };
}
