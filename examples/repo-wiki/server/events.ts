import type { ServerResponse } from 'node:http';
import type { EventBus } from '@repopulse/events-core';
import { createEventStreamHandler, StreamHttpError } from '@repopulse/sse-express';
import type { Request } from 'express';
import { AppError } from './app-error';
import type { Authenticator, AuthSession } from './auth';
import type { Logger } from './logger';
import type { OpenStreams } from './open-streams';
import { canonicalId } from './route-params';
import { canSee } from './services/access';
import type { RepositoryService } from './services/repository-service';
import { repoTopic, type TopicNames } from './topics';

/** Options of {@link createEventRoutes}. */
export interface EventRoutesOptions {
  bus: EventBus;
  auth: Authenticator;
  repos: RepositoryService;
  topics: TopicNames;
  /** Open streams by session and user: the per-user cap, and logout closing a session's streams. */
  openStreams: OpenStreams;
  /** Open streams plus waiting long-polls per handler; beyond it 503 with `Retry-After`. */
  maxConnections: number;
  log: Logger;
  /** Heartbeat comment interval. @default 15000 */
  heartbeatMs?: number;
}

/** An app error as the stream handler answers it (same status, code, message and `Retry-After`). */
function streamError(error: unknown): unknown {
  if (!(error instanceof AppError)) return error;
  const headers: Record<string, string> = {};
  if (error.retryAfterSeconds !== undefined) headers['Retry-After'] = String(error.retryAfterSeconds);
  if (error.status === 401) headers['WWW-Authenticate'] = 'Bearer';
  return new StreamHttpError(error.status, error.code, error.message.replace(/^\[repopulse\] /, ''), {
    cause: error,
    headers,
  });
}

/**
 * The two event streams, served by sse-express (SSE and JSON long-poll on one URL):
 * `GET /api/events` (the caller's list topic) and `GET /api/repositories/:id/events` (the
 * repository's topic; 400 non-canonical id, 404 unknown, 403 not visible). Both authenticate the
 * session (cookie, Bearer or `?access_token=`) in `authorize`, which returns the session's end as
 * the stream's deadline; logout ends the session's streams through `openStreams`.
 */
export function createEventRoutes(options: EventRoutesOptions) {
  const { bus, auth, repos, topics, openStreams, log } = options;
  const sessions = new WeakMap<Request, AuthSession>();
  const sessionOf = (req: Request): AuthSession => {
    let session = sessions.get(req);
    if (!session) {
      try {
        session = auth.authenticate(req);
      } catch (error) {
        throw streamError(error);
      }
      sessions.set(req, session);
    }
    return session;
  };
  /** Registers the authorized stream (per-user cap) and gives the session's end as its deadline. */
  const admit = (req: Request, session: AuthSession) => {
    try {
      openStreams.add(session, req.res as ServerResponse);
    } catch (error) {
      throw streamError(error);
    }
    return { expiresAt: session.expiresAt };
  };
  const common = {
    bus,
    heartbeatMs: options.heartbeatMs ?? 15_000,
    maxConnections: options.maxConnections,
    onError: (error: unknown) => log.error('event stream error', { error }),
  };

  const listEvents = createEventStreamHandler<Request>({
    ...common,
    topic: (req) => topics.listOf(sessionOf(req).user),
    authorize: (req) => admit(req, sessionOf(req)),
  });

  const repoEvents = createEventStreamHandler<Request>({
    ...common,
    topic: (req) => {
      const session = sessionOf(req);
      const id = canonicalId(req.params.id);
      if (id === undefined) {
        throw new StreamHttpError(
          400,
          'invalid_parameter',
          'id must be a positive integer, without leading zeros',
        );
      }
      const repo = repos.find(id);
      if (!repo) throw new StreamHttpError(404, 'not_found', `repository ${id} does not exist`);
      if (!canSee(session.user, repo)) {
        throw new StreamHttpError(
          403,
          'forbidden',
          `user "${session.user.username}" may not access repository ${id}`,
        );
      }
      return repoTopic(repo);
    },
    authorize: (req) => admit(req, sessionOf(req)),
  });

  return {
    listEvents,
    repoEvents,
    /** Open streams and long-polls of both handlers. */
    stats() {
      return { list: listEvents.stats(), repo: repoEvents.stats() };
    },
    /** Ends every stream, spread over `graceMs` (clients do not reconnect in one wave). */
    async close(graceMs: number) {
      await Promise.all([listEvents.close({ graceMs }), repoEvents.close({ graceMs })]);
    },
  };
}
