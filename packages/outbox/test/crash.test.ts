import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRedisBus } from '@repopulse/bus-redis';
import { deleteKeys, reachableRedis, redisUrl, requirement } from '@repopulse/test-support';
import { cleanupAfterEach } from '@repopulse/test-support/vitest';
import { describe, expect, it } from 'vitest';
import { createOutbox, type OutboxError } from '../src/index';
import { createSqliteStore } from '../src/sqlite/index';
import { replayTopic } from './helpers/collect';
import { openApp, sqliteFile } from './helpers/sqlite-file';

const mode = requirement(
  'outbox',
  (await reachableRedis()) ? undefined : 'no Redis at REDIS_URL',
  'the outbox crash tests',
);
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../../..');

const cleanups = cleanupAfterEach();

/** Runs the app process until it is killed (by the parent or itself); resolves to the ids it committed. */
function runApp(
  config: Record<string, unknown>,
  killAfterCommit: boolean,
): Promise<{ ids: string[]; signal: string | null }> {
  const child = spawn(
    process.execPath,
    [
      '--conditions=@repopulse/source',
      '--import',
      'tsx',
      join(here, 'fixtures/app-process.ts'),
      JSON.stringify(config),
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  let ids: string[] = [];
  child.stderr.on('data', (chunk) => {
    err += chunk;
  });
  child.stdout.on('data', (chunk) => {
    out += chunk;
    const line = /committed (\[.*\])\n/.exec(out);
    if (line && ids.length === 0) {
      ids = JSON.parse(line[1] as string);
      if (killAfterCommit) child.kill('SIGKILL');
    }
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code, signal) => {
      if (ids.length === 0)
        reject(new Error(`the app process exited (${code ?? signal}) before committing:\n${err}`));
      else resolve({ ids, signal });
    });
  });
}

describe.skipIf(mode === 'skip')('an app process killed with SIGKILL', () => {
  const setup = async () => {
    const file = sqliteFile();
    file.db.close();
    const keyPrefix = `test:outbox:${randomBytes(4).toString('hex')}:`;
    cleanups.push(file.remove, () => deleteKeys(redisUrl(), keyPrefix));
    return { sqlite: file.path, keyPrefix, redisUrl: redisUrl() };
  };

  /** A new process on the same file and Redis: relays what is left, then replays the topic. */
  const relayAgain = async (config: { sqlite: string; keyPrefix: string; redisUrl: string }) => {
    const db = openApp(config.sqlite);
    const bus = createRedisBus({ url: config.redisUrl, keyPrefix: config.keyPrefix });
    const errors: OutboxError[] = [];
    const outbox = createOutbox({ store: createSqliteStore(db), bus, onError: (e) => errors.push(e) });
    cleanups.push(
      () => db.close(),
      () => bus.close(),
      () => outbox.close(),
    );
    await outbox.drained(60_000);
    return { events: await replayTopic(bus, 'repo:1'), stats: await outbox.stats(), errors };
  };

  it('between commit and relay: the next process relays every committed event, exactly once, in order', async () => {
    const config = await setup();
    const { ids, signal } = await runApp({ ...config, count: 200, crash: 'after-commit' }, true);
    expect(signal).toBe('SIGKILL');
    const before = createRedisBus({ url: config.redisUrl, keyPrefix: config.keyPrefix });
    expect(await before.head('repo:1')).toBe('0-0'); // the dead process published nothing
    await before.close();
    const { events, stats } = await relayAgain(config);
    expect(events.map((e) => e.event.id)).toEqual(ids);
    expect(stats).toMatchObject({ pending: 0, failed: 0, delivered: 200, duplicates: 0 });
  }, 60_000);

  it('after the bus stored events but before their rows were marked: the next process stores none of them twice', async () => {
    const config = await setup();
    const { ids, signal } = await runApp({ ...config, count: 200, crash: 'before-mark' }, false);
    expect(signal).toBe('SIGKILL');
    const before = createRedisBus({ url: config.redisUrl, keyPrefix: config.keyPrefix });
    expect(await before.head('repo:1')).not.toBe('0-0'); // the dead process did publish
    await before.close();
    const { events, stats } = await relayAgain(config);
    expect(events.map((e) => e.event.id)).toEqual(ids); // each once, in commit order
    expect(stats).toMatchObject({ pending: 0, failed: 0, delivered: 200 });
    expect(stats.duplicates).toBeGreaterThan(0); // republished; the bus held them and stored nothing
  }, 60_000);
});
