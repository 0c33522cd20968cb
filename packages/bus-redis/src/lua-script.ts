import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { clientCommand } from './client-command';

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

  /** Runs the script on `client` with `keys` and `args`. */
  async run(
    client: Redis | Cluster,
    keys: readonly string[],
    args: readonly (string | number | Buffer)[],
  ): Promise<unknown> {
    try {
      return await clientCommand(client, 'evalsha', [this.sha, String(keys.length), ...keys, ...args]);
    } catch (error) {
      if (!isNoScript(error)) throw error;
      return clientCommand(client, 'eval', [this.source, String(keys.length), ...keys, ...args]);
    }
  }
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}
