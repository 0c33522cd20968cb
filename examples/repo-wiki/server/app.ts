import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  createRepositoryStatusTracker,
  type EventBus,
  type RepositoryStatusSnapshot,
} from '@repopulse/events-core';
import express from 'express';
import { registerActionEvent } from './action-event';
import { createAuthenticator } from './auth';
import { createBus } from './bus';
import type { AppConfig } from './config';
import { databaseNonce, openDatabase, type RepositoryRow, type TaskRow } from './db';
import { createEventPublisher } from './event-publisher';
import { createEventRoutes } from './events';
import { createLogger, type Logger } from './logger';
import { createLoginThrottle } from './login-throttle';
import { createOpenStreams } from './open-streams';
import { currentAction, requestContext } from './request-context';
import { createApiRouter, createErrorHandler } from './routes';
import { securityHeaders } from './security-headers';
import { DocumentService } from './services/document-service';
import { RepositoryService } from './services/repository-service';
import { TaskService } from './services/task-service';
import { createSessionRevocations } from './session-revocations';
import { createTaskRunner } from './task-runner';
import type { Telemetry } from './telemetry';
import { createTopicNames, repoTopic, type TopicNames } from './topics';

/** Counts every HTTP request the server receives (the idle test reads it). */
export interface RequestMetrics {
  /** Requests received since start. */
  total: number;
  /** The last 50 requests as `METHOD url`. */
  recent: string[];
}

/** A created app, not yet listening. */
export interface RepoWikiApp {
  /** The Express app. */
  app: express.Express;
  /** The bus in use (memory or Redis). */
  bus: EventBus;
  /** The configuration it runs with. */
  config: AppConfig;
  /** Request counter. */
  metrics: RequestMetrics;
  /** The topic names of this database (tests and tooling read events with them). */
  topics: TopicNames & {
    /** The topic of repository `id` (which must exist). */
    repo(id: number): string;
  };
  /** Services, for tests and tooling. */
  services: { repos: RepositoryService; tasks: TaskService; documents: DocumentService };
  /** Open stream counts. */
  streamStats(): unknown;
  /** Resolves when no task runs and no status recompute is pending (tests). */
  idle(): Promise<void>;
  /** Graceful stop: fail this instance's unfinished tasks, drain streams over `graceMs`, close bus and DB. */
  close(graceMs?: number): Promise<void>;
}

/**
 * Builds the whole app: SQLite, bus, services, runner, REST API, event streams, static UI.
 * Runs the startup cleanup (tasks left `running`/`queued` → `failed` "interrupted").
 */
export async function createApp(
  config: AppConfig,
  log: Logger = createLogger(config.logLevel),
  telemetry?: Telemetry,
): Promise<RepoWikiApp> {
  registerActionEvent();
  const db = openDatabase(config.dataDir);
  const bus = await createBus(config, log);
  const topics = createTopicNames(databaseNonce(db));
  const publisher = createEventPublisher(bus, topics, log);
  const metrics: RequestMetrics = { total: 0, recent: [] };

  let runnerRef: ReturnType<typeof createTaskRunner> | undefined;
  const repos = new RepositoryService({
    db,
    publisher,
    log,
    cloneMs: Math.max(1, Math.round(1500 / config.simSpeed)),
    instanceId: config.instanceId,
    cancelWork: async (repoId) => runnerRef?.cancelRepo(repoId),
  });
  const tracker = createRepositoryStatusTracker<number>({
    load: (id): RepositoryStatusSnapshot => {
      const repo = repos.find(id);
      if (!repo) return { status: 'pending', tasks: [] }; // deleted: 'pending' is left unchanged
      return { status: repo.status, tasks: tasks.listByRepo(id) };
    },
    save: (id, change) => {
      db.prepare('UPDATE repositories SET status = ?, error_msg = ?, updated_at = ? WHERE id = ?').run(
        change.to,
        change.error_msg ?? null,
        Date.now(),
        id,
      );
    },
    publish: async (id, change) => {
      const repo = repos.find(id);
      if (repo) await publisher.publish(repo, 'repo.status_changed', change);
    },
    errorMessage: (_id, snapshot) => {
      const failed = (snapshot.tasks as TaskRow[]).filter((t) => t.status === 'failed');
      return failed.length > 0 ? `${failed.length} task(s) failed: ${failed[0]?.error_msg ?? ''}` : undefined;
    },
  });
  const tasks: TaskService = new TaskService({
    db,
    publisher,
    repos,
    tracker,
    instanceId: config.instanceId,
  });
  const documents = new DocumentService(db, publisher);
  const runner = createTaskRunner({
    tasks,
    repos,
    documents,
    log,
    simSpeed: config.simSpeed,
    failTasks: config.failTasks,
  });
  runnerRef = runner;
  tasks.setScheduler(runner);

  const interrupted = await tasks.failInterrupted();
  if (interrupted > 0) log.warn('startup cleanup: interrupted tasks marked failed', { count: interrupted });
  const clones = await repos.failInterruptedClones();
  if (clones > 0) log.warn('startup cleanup: interrupted clones marked error', { count: clones });

  const auth = createAuthenticator({ users: config.users, db, sessionTtlMs: config.sessionTtlMs });
  const openStreams = createOpenStreams({ perUser: config.maxConnectionsPerUser });
  const loginThrottle = createLoginThrottle({ failures: config.loginFailuresPerMinute });
  const revocations = await createSessionRevocations({ bus, topic: topics.sessions, openStreams, log });
  const streams = createEventRoutes({
    bus,
    auth,
    repos,
    topics,
    openStreams,
    maxConnections: config.maxConnections,
    log,
  });

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  if (config.trustProxy !== undefined) app.set('trust proxy', trustProxyValue(config.trustProxy));
  app.use(securityHeaders);
  if (telemetry) {
    app.use(telemetry.tracing);
    app.get('/metrics', telemetry.metrics);
  }
  app.use(requestContext);
  app.use((req, res, next) => {
    metrics.total++;
    metrics.recent.push(`${req.method} ${req.originalUrl}`);
    if (metrics.recent.length > 50) metrics.recent.shift();
    const start = performance.now();
    // Mutating requests are user actions: logged at info, with the request id of their events.
    const mutating = req.method !== 'GET' && req.method !== 'HEAD';
    const request_id = currentAction()?.requestId;
    res.on('finish', () => {
      log[mutating ? 'info' : 'debug']('request', {
        method: req.method,
        path: req.path,
        status: res.statusCode,
        ms: Math.round((performance.now() - start) * 10) / 10,
        request_id,
      });
    });
    next();
  });
  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/api/events', streams.listEvents);
  app.get('/api/repositories/:id/events', streams.repoEvents);
  app.use(
    '/api',
    createApiRouter({
      bus,
      auth,
      repos,
      tasks,
      documents,
      publisher,
      topics,
      revocations,
      loginThrottle,
      log,
      retention: config,
    }),
  );
  const indexHtml = join(config.staticDir, 'index.html');
  app.use(express.static(config.staticDir, { index: false, maxAge: '1h' }));
  app.get(/^\/(?!api\/).*/, (_req, res) => {
    if (existsSync(indexHtml)) res.sendFile(indexHtml, { headers: { 'Cache-Control': 'no-cache' } });
    else res.status(404).type('text').send('UI not built: run `npm run build -w examples/repo-wiki`.\n');
  });
  app.use(createErrorHandler(log));

  let closing: Promise<void> | undefined;
  return {
    app,
    bus,
    config,
    metrics,
    topics: { ...topics, repo: (id) => repoTopic(repos.get(id)) },
    services: { repos, tasks, documents },
    streamStats: () => streams.stats(),
    async idle() {
      await runner.idle();
      await tracker.idle();
    },
    close(graceMs = config.shutdownGraceMs) {
      closing ??= (async () => {
        await runner.close();
        await repos.close();
        const failed = await tasks.failInterrupted(
          'interrupted: the server shut down while the task was in progress',
        );
        if (failed > 0) log.warn('shutdown: unfinished tasks marked failed', { count: failed });
        await tracker.idle();
        await streams.close(graceMs);
        await revocations.close();
        await bus.close();
        db.close();
      })();
      return closing;
    },
  };
}

/** `TRUST_PROXY` as Express takes it: `true`/`false`, a hop count, or addresses/subnets. */
function trustProxyValue(raw: string): boolean | number | string {
  if (raw === 'true' || raw === 'false') return raw === 'true';
  return /^\d+$/.test(raw) ? Number(raw) : raw;
}

/** A listening app. */
export interface RunningServer extends RepoWikiApp {
  /** The Node HTTP server. */
  server: Server;
  /** `http://127.0.0.1:<port>`. */
  url: string;
}

/** Creates the app and listens on `config.port` (`0` = a free port). `close()` also closes the server. */
export async function startServer(
  config: AppConfig,
  log?: Logger,
  telemetry?: Telemetry,
): Promise<RunningServer> {
  const created = await createApp(config, log, telemetry);
  const server = await new Promise<Server>((resolve, reject) => {
    const s = created.app.listen(config.port, (error?: Error) => (error ? reject(error) : resolve(s)));
  });
  const { port } = server.address() as AddressInfo;
  const appClose = created.close;
  let closing: Promise<void> | undefined;
  return {
    ...created,
    server,
    url: `http://127.0.0.1:${port}`,
    close(graceMs) {
      closing ??= (async () => {
        server.close();
        await appClose(graceMs);
        server.closeAllConnections();
      })();
      return closing;
    },
  };
}

/** Re-exported for the type of snapshot rows in tests. */
export type { RepositoryRow, TaskRow };
