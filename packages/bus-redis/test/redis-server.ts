import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  hasRedisServer as findRedisServer,
  freePort,
  type RedisProcess,
  requirement,
  spawnRedis,
} from '@repopulse/test-support';
import { afterAll, beforeAll, describe } from 'vitest';

/** True when a `redis-server` binary is on PATH. */
const hasRedisServer: boolean = findRedisServer();

/**
 * `describe` when `redis-server` exists. Without it the suite is skipped with a loud message,
 * except under `CI=true`, where a missing Redis must fail the run instead of hiding tests.
 */
export function describeWithRedis(name: string, body: () => void): void {
  const missing = hasRedisServer ? undefined : 'no redis-server binary on PATH (install redis-server 7+)';
  if (requirement('bus-redis tests', missing, `"${name}"`) === 'run') {
    describe(name, body);
    return;
  }
  describe.skip(name, body);
}

/** Options of {@link startRedisServer}. */
export interface RedisServerOptions {
  /** Keep an append-only file, so a restart keeps the data. @default false */
  appendonly?: boolean;
}

/** A `redis-server` process owned by a test, on its own port and temp folder. */
export interface RedisServer {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** Stops the process (SIGTERM: Redis flushes its AOF) and waits for it to exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port and folder; waits until it answers PING. */
  start(): Promise<void>;
  /** stop() then start(). */
  restart(): Promise<void>;
  /** Stops it and removes its folder. */
  destroy(): Promise<void>;
}

/** Spawns `redis-server --port N --dir <tmp> --save "" --appendonly yes|no` and waits for PING. */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'repopulse-redis-'));
  let proc: RedisProcess | undefined;

  const start = async () => {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', ''];
    args.push('--appendonly', options.appendonly ? 'yes' : 'no', '--appendfsync', 'always');
    proc = await spawnRedis(port, args);
  };
  const stop = async () => {
    await proc?.stop('SIGTERM');
    proc = undefined;
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    start,
    stop,
    restart: async () => {
      await stop();
      await start();
    },
    destroy: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * One {@link startRedisServer} server for the enclosing `describe`: started before its tests and
 * stopped after them. Returns a getter of the running server (call it in tests and hooks).
 */
export function redisServerPerSuite(options: RedisServerOptions = {}): () => RedisServer {
  let server: RedisServer | undefined;
  beforeAll(async () => {
    server = await startRedisServer(options);
  });
  afterAll(async () => {
    await server?.destroy();
  });
  return () => server!;
}
