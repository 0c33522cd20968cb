import { createHash } from 'node:crypto';
import type { RedisCommander } from 'ioredis';

/** The part of an ioredis client (or Cluster) a {@link LuaScript} needs. */
export type ScriptClient = Pick<RedisCommander, 'evalsha' | 'eval'>;

/**
 * A Lua script called by its SHA1 (`EVALSHA`). When Redis answers `NOSCRIPT` (first use, a
 * restart, `SCRIPT FLUSH`, another Cluster node) it is sent once in full with `EVAL`, which
 * caches it again, and later calls go back to `EVALSHA`.
 */
export class LuaScript {
  /** SHA1 of the source, as Redis names it. */
  readonly sha: string;

  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  /** Runs the script on `client` with one key. */
  async run(client: ScriptClient, key: string, args: (string | number)[]): Promise<unknown> {
    try {
      return await client.evalsha(this.sha, 1, key, ...args);
    } catch (error) {
      if (!isNoScript(error)) throw error;
      return client.eval(this.source, 1, key, ...args);
    }
  }
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}
