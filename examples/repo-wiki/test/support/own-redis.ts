import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  freePort,
  hasRedisServer,
  type RedisProcess,
  requirement,
  spawnRedis,
} from '@repopulse/test-support';

/** Whether the suites that stop Redis run here: `redis-server` on PATH, else a loud skip (a failure under CI). */
export function ownRedisMode(skipping: string): 'run' | 'skip' {
  return requirement(
    'repo-wiki',
    hasRedisServer() ? undefined : 'no redis-server on PATH (install redis-server 7+)',
    skipping,
  );
}

/** A `redis-server` of the test's own, with an append-only file, that the test stops and starts. */
export interface OwnRedis {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  /** Stops it (SIGTERM: the AOF is flushed) and waits for the exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port and folder (the data comes back from the AOF). */
  start(): Promise<void>;
  /** Stops it and removes its folder. */
  destroy(): Promise<void>;
}

/** Spawns `redis-server` on a free port in a temp folder, AOF on (`appendfsync always`). */
export async function startOwnRedis(): Promise<OwnRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'repo-wiki-redis-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', ''];
  args.push('--appendonly', 'yes', '--appendfsync', 'always');
  let proc: RedisProcess | undefined = await spawnRedis(port, args);
  const stop = async () => {
    await proc?.stop('SIGTERM');
    proc = undefined;
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    stop,
    async start() {
      proc = await spawnRedis(port, args);
    },
    async destroy() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
