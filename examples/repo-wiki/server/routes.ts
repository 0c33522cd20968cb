import { RepoPulseError, type StreamPosition } from '@repopulse/events-core';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { ActionName } from './action-event';
import { AppError, type AppErrorCode } from './app-error';
import type { Authenticator } from './auth';
import { csrfGuard } from './csrf-guard';
import { type Db, inTransaction } from './db';
import type { RepoEvents, RepoRef } from './event-outbox';
import type { Logger } from './logger';
import type { LoginThrottle } from './login-throttle';
import { currentAction } from './request-context';
import { canonicalId } from './route-params';
import { type AuthUser, assertCanSee } from './services/access';
import type { DocumentService } from './services/document-service';
import type { RepositoryService } from './services/repository-service';
import type { TaskService } from './services/task-service';
import type { SessionRevocations } from './session-revocations';
import { repoTopic, type TopicNames } from './topics';

/** What the REST routes need. */
export interface RouteDeps {
  db: Db;
  /** The `position` a snapshot of a topic carries (see `snapshot-position.ts`); never fails. */
  snapshotPosition(topic: string): Promise<StreamPosition>;
  auth: Authenticator;
  repos: RepositoryService;
  tasks: TaskService;
  documents: DocumentService;
  events: RepoEvents;
  /** The app's topic names. */
  topics: TopicNames;
  /** Logout ends the streams of the session it revokes, on every instance. */
  revocations: SessionRevocations;
  /** Failed logins per client address. */
  loginThrottle: LoginThrottle;
  log: Logger;
  /** The bus retention the app runs with. */
  retention: { historyLimit: number; historyTtlMs?: number };
}

function idParam(req: Request, name = 'id'): number {
  const id = canonicalId(req.params[name]);
  if (id === undefined) {
    throw new AppError('bad_request', `${name} must be a positive integer, without leading zeros`);
  }
  return id;
}

/** The request id of the action being served (see `request-context.ts`). */
function requestId(): string | undefined {
  return currentAction()?.requestId;
}

/** Builds the `/api` router: login, repositories, tasks, documents. */
export function createApiRouter(deps: RouteDeps): express.Router {
  const {
    db,
    snapshotPosition,
    auth,
    repos,
    tasks,
    documents,
    events,
    topics,
    revocations,
    loginThrottle,
    log,
  } = deps;
  const router = express.Router();
  /** Records a successful action on the repository topic (titles its group in the Activity panel). */
  const started = (req: Request, repo: RepoRef, action: ActionName) => {
    const user = userOf(req).username;
    log.info('action', { action, user, repo_id: repo.id });
    inTransaction(db, () => events.enqueue(repo, 'action.started', { action, user }));
  };
  // Before the body is read: a forged form post is refused without parsing it.
  router.use(csrfGuard);
  router.use(express.json({ limit: '64kb' }));

  router.post('/login', (req, res) => {
    const client = req.ip ?? req.socket.remoteAddress ?? 'unknown';
    loginThrottle.check(client);
    const { username, password } = (req.body ?? {}) as { username?: unknown; password?: unknown };
    let login: ReturnType<Authenticator['login']>;
    try {
      login = auth.login(username, password);
    } catch (error) {
      loginThrottle.failed(client);
      throw error;
    }
    res.cookie(auth.cookieName, login.token, {
      httpOnly: true,
      sameSite: 'strict',
      secure: req.secure, // over HTTPS (behind a TLS proxy: with TRUST_PROXY set)
      path: '/',
      maxAge: auth.sessionTtlMs,
    });
    res.json({ token: login.token, user: login.session.user });
  });

  // Revokes the session server-side (its token stops working everywhere) and ends its open streams.
  router.post('/logout', async (req, res) => {
    const session = auth.logout(req);
    if (session) {
      await revocations.revoke(session.id);
      log.info('logout', { user: session.user.username });
    }
    res.clearCookie(auth.cookieName, { path: '/' });
    res.status(204).end();
  });

  // Everything below needs a user.
  router.use((req, _res, next) => {
    userSlot(req).user = auth.authenticate(req).user;
    next();
  });

  router.get('/me', (req, res) => {
    res.json({ user: userOf(req) });
  });

  // How far back each repository's record goes (the Activity panel says it).
  router.get('/retention', (_req, res) => {
    res.json({
      history_limit: deps.retention.historyLimit,
      history_ttl_ms: deps.retention.historyTtlMs ?? null,
    });
  });

  router.get('/repositories', async (req, res) => {
    const user = userOf(req);
    // Position first, then the rows: an event racing the read is replayed (the page skips what it shows).
    const position = await snapshotPosition(topics.listOf(user));
    res.json({ repositories: repos.list(user), position });
  });

  router.post('/repositories', (req, res) => {
    const repo = repos.create(userOf(req), req.body?.url, requestId());
    started(req, repo, 'create_repo');
    res.status(201).json({ repository: repo });
  });

  const visibleRepo = (req: Request) => {
    const repo = repos.get(idParam(req));
    assertCanSee(userOf(req), repo);
    return repo;
  };

  router.get('/repositories/:id', async (req, res) => {
    const repo = visibleRepo(req);
    const position = await snapshotPosition(repoTopic(repo));
    const { id } = repo;
    const repository = repos.find(id);
    if (!repository) throw new AppError('not_found', `repository ${id} does not exist`);
    res.json({
      repository,
      tasks: tasks.listByRepo(id),
      documents: documents.listByRepo(id),
      logs: tasks.logsByRepo(id),
      position,
    });
  });

  router.get('/repositories/:id/tasks', async (req, res) => {
    const repo = visibleRepo(req);
    const position = await snapshotPosition(repoTopic(repo));
    const { id } = repo;
    res.json({ tasks: tasks.listByRepo(id), position });
  });

  router.get('/repositories/:id/documents', async (req, res) => {
    const repo = visibleRepo(req);
    const position = await snapshotPosition(repoTopic(repo));
    const { id } = repo;
    res.json({ documents: documents.listByRepo(id), position });
  });

  router.delete('/repositories/:id', async (req, res) => {
    const repo = visibleRepo(req);
    started(req, repo, 'delete_repo'); // before: `repo.deleted` is the topic's last event
    await repos.delete(repo.id, requestId());
    res.status(204).end();
  });

  router.post('/repositories/:id/run-all', (req, res) => {
    const repo = visibleRepo(req);
    const queued = tasks.runAll(repo.id, requestId());
    started(req, repo, 'run_all');
    res.status(202).json({ queued: queued.map((t) => t.id) });
  });

  const visibleTask = (req: Request) => {
    const task = tasks.get(idParam(req));
    assertCanSee(userOf(req), repos.get(task.repo_id));
    return task;
  };

  router.post('/tasks/:id/run', (req, res) => {
    const task = tasks.run(visibleTask(req).id, requestId());
    started(req, repos.get(task.repo_id), 'run_task');
    res.status(202).json({ task });
  });

  router.post('/tasks/:id/reset', (req, res) => {
    const task = tasks.reset(visibleTask(req).id, requestId());
    started(req, repos.get(task.repo_id), 'reset_task');
    res.json({ task });
  });

  router.post('/tasks/:id/force-reset', async (req, res) => {
    const task = await tasks.forceReset(visibleTask(req).id, requestId());
    started(req, repos.get(task.repo_id), 'force_reset_task');
    res.json({ task });
  });

  router.get('/documents/:id', (req, res) => {
    const doc = documents.get(idParam(req));
    assertCanSee(userOf(req), repos.get(doc.repo_id));
    res.json({ document: doc });
  });

  router.use((req) => {
    throw new AppError('not_found', `no route ${req.method} ${req.baseUrl}${req.path}`);
  });
  return router;
}

interface UserLocals {
  user?: AuthUser;
}

function userSlot(req: Request): UserLocals {
  return req as unknown as UserLocals;
}

/** The user the auth middleware attached to `req`. */
export function userOf(req: Request): AuthUser {
  const user = userSlot(req).user;
  if (!user) throw new AppError('unauthorized', 'log in first');
  return user;
}

/** body-parser's error types that are the client's fault, with the answer each gets. */
const BODY_ERRORS: Record<string, [AppErrorCode, string]> = {
  'entity.parse.failed': ['bad_request', 'request body is not valid JSON'],
  'entity.too.large': ['payload_too_large', 'request body is too large'],
  'encoding.unsupported': ['unsupported_media_type', 'unsupported Content-Encoding'],
  'charset.unsupported': ['unsupported_media_type', 'unsupported charset'],
};

/**
 * The client error an error from reading the request stands for (body-parser and http-errors
 * mark theirs with a 4xx `status`), or undefined for anything else.
 */
function clientErrorOf(error: unknown): AppError | undefined {
  if (typeof error !== 'object' || error === null || error instanceof RepoPulseError) return undefined;
  const { status, type } = error as { status?: unknown; type?: unknown };
  if (typeof status !== 'number' || status < 400 || status > 499) return undefined;
  const [code, message] = (typeof type === 'string' ? BODY_ERRORS[type] : undefined) ?? [
    'bad_request',
    'the request body could not be read',
  ];
  return new AppError(code, message, { cause: error });
}

/** Renders errors as `{error:{code,message}}` with the matching HTTP status. */
export function createErrorHandler(log: Logger) {
  return (thrown: unknown, req: Request, res: Response, _next: NextFunction) => {
    const error = clientErrorOf(thrown) ?? thrown;
    let status = 500;
    let code = 'internal';
    let message = 'internal server error';
    if (error instanceof AppError) {
      status = error.status;
      code = error.code;
      message = error.message;
      if (error.retryAfterSeconds !== undefined)
        res.setHeader('Retry-After', String(error.retryAfterSeconds));
      if (status === 401) res.setHeader('WWW-Authenticate', 'Bearer');
    } else if (error instanceof RepoPulseError) {
      status = error.code === 'bus_unavailable' || error.code === 'bus_closed' ? 503 : 400;
      code = error.code;
      message = error.message;
    }
    if (status >= 500) log.error('request failed', { method: req.method, path: req.path, error });
    if (res.headersSent) {
      res.end();
      return;
    }
    res.status(status).json({ error: { code, message } });
  };
}
