import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { EventBus } from '@repopulse/events-core';
import type { OutboxStats } from '@repopulse/outbox';
import express from 'express';
import { registerActionEvent } from './action-event';
import { createAuthenticator } from './auth';
import { createBus } from './bus';
import type { AppConfig } from './config';
import { databaseNonce, inTransaction, openDatabase, type RepositoryRow, type TaskRow } from './db';
import { createEventOutbox } from './event-outbox';
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
import { createSnapshotPosition } from './snapshot-position';
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
  /** The event outbox: its backlog and relay (`stats()`), and `drained()` for tests. */
  outbox: {
    stats(): Promise<OutboxStats>;
    drained(timeoutMs?: number): Promise<void>;
  };
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
  /** Resolves when no task runs and every committed event was relayed to the bus (tests). */
  idle(): Promise<void>;
  /**
   * Graceful stop: fail this instance's unfinished tasks, relay what the outbox holds (bounded:
   * what the bus does not take in time waits in the database for the next start), drain streams
   * over `graceMs`, close bus and DB.
   */
  close(graceMs?: number): Promise<void>;
}

/** How long a graceful stop waits for the outbox to be relayed before closing the bus. */
const SHUTDOWN_RELAY_MS = 5000;

/**
 * Builds the whole app: SQLite, bus, outbox and its relay, services, runner, REST API, event
 * streams, static UI. Runs the startup cleanup (tasks left `running`/`queued` → `failed`
 * "interrupted"); events a dead process committed but did not relay are relayed now.
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
  // Every event goes through the outbox, whatever the bus: written in the transaction of the
  // change it announces, relayed after commit (a process on the memory bus behaves like many).
  const { events, outbox, positions } = createEventOutbox({
    db,
    bus,
    topics,
    log,
    persistPositions: config.redisUrl !== undefined,
  });
  const metrics: RequestMetrics = { total: 0, recent: [] };

  let runnerRef: ReturnType<typeof createTaskRunner> | undefined;
  const repos = new RepositoryService({
    db,
    events,
    log,
    cloneMs: Math.max(1, Math.round(1500 / config.simSpeed)),
    instanceId: config.instanceId,
    cancelWork: async (repoId) => runnerRef?.cancelRepo(repoId),
  });
  const tasks: TaskService = new TaskService({ db, events, repos, instanceId: config.instanceId });
  const documents = new DocumentService(db, events);
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

  const interrupted = tasks.failInterrupted();
  if (interrupted > 0) log.warn('startup cleanup: interrupted tasks marked failed', { count: interrupted });
  const clones = repos.failInterruptedClones();
  if (clones > 0) log.warn('startup cleanup: interrupted clones marked error', { count: clones });

  const auth = createAuthenticator({ users: config.users, db, sessionTtlMs: config.sessionTtlMs });
  const openStreams = createOpenStreams({ perUser: config.maxConnectionsPerUser });
  const loginThrottle = createLoginThrottle({ failures: config.loginFailuresPerMinute });
  const revocations = await createSessionRevocations({
    bus,
    topic: topics.sessions,
    announce: (event) => inTransaction(db, () => events.enqueueOn(topics.sessions, event)),
    openStreams,
    log,
  });
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
  // The outbox's backlog: events committed and not yet on the bus (e.g. while Redis is down).
  app.get('/healthz', async (_req, res) => {
    const { pending, oldestPendingAgeMs, failed, retrying } = await outbox.stats();
    res.json({
      ok: true,
      outbox: { pending, oldest_pending_age_ms: oldestPendingAgeMs ?? null, failed, retrying },
    });
  });
  app.get('/api/events', streams.listEvents);
  app.get('/api/repositories/:id/events', streams.repoEvents);
  app.use(
    '/api',
    createApiRouter({
      db,
      snapshotPosition: createSnapshotPosition(positions, bus),
      auth,
      repos,
      tasks,
      documents,
      events,
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
    outbox: { stats: () => outbox.stats(), drained: (timeoutMs) => outbox.drained(timeoutMs) },
    config,
    metrics,
    topics: { ...topics, repo: (id) => repoTopic(repos.get(id)) },
    services: { repos, tasks, documents },
    streamStats: () => streams.stats(),
    async idle() {
      await runner.idle();
      await outbox.drained();
    },
    close(graceMs = config.shutdownGraceMs) {
      closing ??= (async () => {
        await runner.close();
        await repos.close();
        const failed = tasks.failInterrupted(
          'interrupted: the server shut down while the task was in progress',
        );
        if (failed > 0) log.warn('shutdown: unfinished tasks marked failed', { count: failed });
        await outbox.drained(SHUTDOWN_RELAY_MS).catch(async () => {
          const { pending } = await outbox.stats();
          log.warn('shutdown: events left in the outbox, relayed at the next start', { pending });
        });
        await outbox.close();
        positions.flush();
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
