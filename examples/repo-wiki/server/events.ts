import type { EventBus } from '@repopulse/events-core';
import { type AuthorizeContext, createEventStreamHandler, StreamHttpError } from '@repopulse/sse-express';
import type { Request } from 'express';
import { AppError } from './app-error';
import type { Authenticator } from './auth';
import type { Logger } from './logger';
import { listTopicOf } from './routes';
import { type AuthUser, canSee } from './services/access';
import type { RepositoryService } from './services/repository-service';
import { repoTopic } from './topics';

/** Options of {@link createEventRoutes}. */
export interface EventRoutesOptions {
  bus: EventBus;
  auth: Authenticator;
  repos: RepositoryService;
  /** Same secret the authenticator signs sessions with. */
  secret: string;
  log: Logger;
  /** Heartbeat comment interval. @default 15000 */
  heartbeatMs?: number;
}

/**
 * The two event streams, served by sse-express (SSE and JSON long-poll on one URL):
 * `GET /api/events` (the caller's list topic: `repos` for admins, `repos:user:<name>` for
 * members) and `GET /api/repositories/:id/events` (`repo:<id>`; 404 unknown, 403 not visible).
 * sse-express verifies the session token (cookie, Bearer or `?access_token=`) and closes a stream
 * when it expires.
 */
export function createEventRoutes(options: EventRoutesOptions) {
  const { bus, auth, repos, log } = options;
  const common = {
    bus,
    heartbeatMs: options.heartbeatMs ?? 15_000,
    tokenSecret: options.secret,
    tokenCookie: auth.cookieName,
    onError: (error: unknown) => log.error('event stream error', { error }),
  };
  const userOf = (req: Request): AuthUser => {
    try {
      return auth.authenticate(req);
    } catch (error) {
      if (error instanceof AppError) throw new StreamHttpError(error.status, error.code, error.message);
      throw error;
    }
  };
  const tokenUser = (context: AuthorizeContext): AuthUser => {
    const sub = context.token?.sub;
    const role = context.token?.role;
    if (typeof sub !== 'string' || (role !== 'admin' && role !== 'member')) {
      throw new StreamHttpError(401, 'invalid_token', 'the session token names no user');
    }
    return { username: sub, role };
  };

  const listEvents = createEventStreamHandler<Request>({
    ...common,
    topic: (req) => listTopicOf(userOf(req)),
  });

  const repoEvents = createEventStreamHandler<Request>({
    ...common,
    topic: (req) => {
      const raw = String(req.params.id);
      if (!/^\d{1,15}$/.test(raw))
        throw new StreamHttpError(400, 'invalid_parameter', 'id must be a positive integer');
      return repoTopic(raw);
    },
    authorize: (req, context) => {
      const user = tokenUser(context);
      const repo = repos.find(Number(req.params.id));
      if (!repo) throw new StreamHttpError(404, 'not_found', `repository ${req.params.id} does not exist`);
      if (!canSee(user, repo)) {
        throw new StreamHttpError(
          403,
          'forbidden',
          `user "${user.username}" may not access repository ${repo.id}`,
        );
      }
      return true;
    },
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
