import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { requireOption } from '@repopulse/events-core/bus-kit';

/** A login the demo app accepts. */
export interface DemoUser {
  /** Login name. */
  username: string;
  /** Plain-text demo password (this is a demo). */
  password: string;
  /** `admin` sees every repository; `member` sees only the repositories it added. */
  role: 'admin' | 'member';
}

/** Everything the server reads from its environment. */
export interface AppConfig {
  /** HTTP port; `0` picks a free one. @default 3000 */
  port: number;
  /** Directory of the SQLite file. @default './data' */
  dataDir: string;
  /** Redis URL; unset → in-memory bus. */
  redisUrl?: string;
  /** Key prefix on Redis, so instances of one deployment share topics. @default 'repopulse:' */
  redisPrefix: string;
  /** Task runner speed factor: 1 = a task takes ~6 s; 20 = ~0.3 s. @default 1 */
  simSpeed: number;
  /** Accepted logins: the demo user (admin) and `guest`/`guest` (member). */
  users: DemoUser[];
  /** Task kinds that always fail (e.g. `['api']`), from `FAIL_TASKS`. @default [] */
  failTasks: string[];
  /** Identifies this instance's running tasks for the startup cleanup. @default '<hostname>:<port>' */
  instanceId: string;
  /** Directory of the built UI. @default '<app>/dist/public' */
  staticDir: string;
  /** Grace period of SIGTERM: streams end spread over it. @default 2000 */
  shutdownGraceMs: number;
  /**
   * Events retained per topic on the bus (the Activity panel and `repopulse replay` go back this
   * far). A full run of a repository (clone + run-all) is about 112 events. @default 5000
   */
  historyLimit: number;
  /** Drop retained events older than this (ms); unset: no age limit. @default unset */
  historyTtlMs?: number;
  /**
   * Open event streams and waiting long-polls per stream route on this instance; beyond it 503
   * `too_many_connections` with `Retry-After`. @default 10000
   */
  maxConnections: number;
  /** Open event streams and waiting long-polls per user on this instance; beyond it 429. @default 32 */
  maxConnectionsPerUser: number;
  /** How long a session (cookie and token) lasts; its streams are closed at its end. @default 12 hours */
  sessionTtlMs: number;
  /** Failed logins per client address per minute before 429 with `Retry-After`. @default 10 */
  loginFailuresPerMinute: number;
  /**
   * Express's `trust proxy`: set it behind a reverse proxy so the login throttle sees client
   * addresses (from `X-Forwarded-For`) rather than the proxy's. @default unset (trust no proxy)
   */
  trustProxy?: string;
  /** Minimum log level. @default 'info' */
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
}

const APP_DIR = resolve(import.meta.dirname, '..');

/**
 * Retention per topic: a full run of a repository (clone + run-all of its 5 tasks) is about
 * 112 events, so 5,000 keeps the last ~44 full runs of every repository replayable, for about
 * 1.5 MB per repository on Redis (~300 B per event) or 3.6 MB on the memory bus (~730 B).
 */
export const DEFAULT_HISTORY_LIMIT = 5000;

/** Environment variable `name` as a number ≥ 0, `fallback` when unset; `OptionsError` otherwise. */
function positiveNumber(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  requireOption('readConfig', name, Number.isFinite(value) && value >= 0, 'a number ≥ 0', raw);
  return value;
}

/** Environment variable `name` as an integer ≥ 1, `fallback` when unset; `OptionsError` otherwise. */
function positiveInteger(name: string, raw: string | undefined, fallback: number): number {
  const value = positiveNumber(name, raw, fallback);
  requireOption('readConfig', name, Number.isInteger(value) && value >= 1, 'an integer ≥ 1', raw);
  return value;
}

/**
 * Reads the configuration from environment variables: `PORT`, `DATA_DIR`, `REDIS_URL`,
 * `REDIS_PREFIX`, `SIM_SPEED`, `DEMO_USER`, `DEMO_PASSWORD`, `FAIL_TASKS`, `INSTANCE_ID`,
 * `STATIC_DIR`, `SHUTDOWN_GRACE_MS`, `HISTORY_LIMIT`, `HISTORY_TTL_MS`, `MAX_CONNECTIONS`,
 * `MAX_CONNECTIONS_PER_USER`, `SESSION_TTL_MS`, `LOGIN_FAILURES_PER_MINUTE`, `TRUST_PROXY`, `LOG_LEVEL`.
 * A number that does not parse throws `OptionsError` `invalid_option` naming the variable.
 */
export function readConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const port = positiveNumber('PORT', env.PORT, 3000);
  const logLevel = (env.LOG_LEVEL ?? 'info') as AppConfig['logLevel'];
  const config: AppConfig = {
    port,
    dataDir: resolve(env.DATA_DIR || './data'),
    redisPrefix: env.REDIS_PREFIX || 'repopulse:',
    simSpeed: positiveNumber('SIM_SPEED', env.SIM_SPEED, 1) || 1,
    users: [
      { username: env.DEMO_USER || 'demo', password: env.DEMO_PASSWORD || 'demo', role: 'admin' },
      { username: 'guest', password: 'guest', role: 'member' },
    ],
    failTasks: (env.FAIL_TASKS ?? '')
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean),
    instanceId: env.INSTANCE_ID || `${hostname()}:${port}`,
    staticDir: resolve(env.STATIC_DIR || resolve(APP_DIR, 'dist/public')),
    shutdownGraceMs: positiveNumber('SHUTDOWN_GRACE_MS', env.SHUTDOWN_GRACE_MS, 2000),
    historyLimit: Math.max(
      1,
      Math.floor(positiveNumber('HISTORY_LIMIT', env.HISTORY_LIMIT, DEFAULT_HISTORY_LIMIT)),
    ),
    maxConnections: positiveInteger('MAX_CONNECTIONS', env.MAX_CONNECTIONS, 10_000),
    maxConnectionsPerUser: positiveInteger('MAX_CONNECTIONS_PER_USER', env.MAX_CONNECTIONS_PER_USER, 32),
    sessionTtlMs: positiveInteger('SESSION_TTL_MS', env.SESSION_TTL_MS, 12 * 60 * 60 * 1000),
    loginFailuresPerMinute: positiveInteger('LOGIN_FAILURES_PER_MINUTE', env.LOGIN_FAILURES_PER_MINUTE, 10),
    logLevel,
  };
  if (env.TRUST_PROXY) config.trustProxy = env.TRUST_PROXY;
  if (env.REDIS_URL) config.redisUrl = env.REDIS_URL;
  const ttl = positiveNumber('HISTORY_TTL_MS', env.HISTORY_TTL_MS, 0);
  if (ttl > 0) config.historyTtlMs = ttl;
  return config;
}
