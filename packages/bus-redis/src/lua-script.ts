import { createHash } from 'node:crypto';
import { Command } from 'ioredis';

/**
 * The part of an ioredis client (or Cluster) a {@link LuaScript} needs. Commands are sent with
 * `sendCommand`, so they go out at once even on a client with auto-pipelining (which would hold
 * them until the end of the tick): the bus batches its own appends.
 */
export interface ScriptClient {
  sendCommand(command: Command): unknown;
}

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
    client: ScriptClient,
    keys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<unknown> {
    try {
      return await send(client, 'evalsha', this.sha, keys, args);
    } catch (error) {
      if (!isNoScript(error)) throw error;
      return send(client, 'eval', this.source, keys, args);
    }
  }
}

function send(
  client: ScriptClient,
  name: 'evalsha' | 'eval',
  script: string,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<unknown> {
  const command = new Command(name, [script, keys.length, ...keys, ...args], { replyEncoding: 'utf8' });
  client.sendCommand(command);
  return command.promise;
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}
