import { execFile, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './port';

const run = promisify(execFile);

/** Where Debian puts the PostgreSQL 15 server binaries; `PG_BIN` overrides it. */
export const POSTGRES_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';

/** How {@link PostgresProcess.stop} shuts the server down (`pg_ctl -m`): `immediate` is a crash. */
export type PostgresStopMode = 'smart' | 'fast' | 'immediate';

/** A PostgreSQL cluster of its own, in a temp directory on a free port, made by {@link startPostgres}. */
export interface PostgresProcess {
  /** Its port on 127.0.0.1. */
  readonly port: number;
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust auth). */
  readonly url: string;
  /** Stops the server (`fast` by default; `immediate` skips the shutdown checkpoint, like a crash). */
  stop(mode?: PostgresStopMode): Promise<void>;
  /** Starts it again on the same port and data directory; resolves once it accepts connections. */
  start(): Promise<void>;
  /** Stops it with `mode` (default `fast`) and starts it again. */
  restart(mode?: PostgresStopMode): Promise<void>;
  /** Stops it (immediately) and deletes its data directory; idempotent. */
  destroy(): Promise<void>;
}

/**
 * Why {@link startPostgres} cannot work here (for `requirement()`), or undefined: the server
 * binaries must exist, and as root the `postgres` user must exist (initdb refuses root).
 */
export function postgresServerMissing(): string | undefined {
  if (!existsSync(join(POSTGRES_BIN, 'initdb'))) return `no initdb in ${POSTGRES_BIN} (set PG_BIN)`;
  if (process.getuid?.() === 0 && spawnSync('id', ['postgres']).status !== 0) {
    return 'running as root and there is no postgres user to run initdb as';
  }
  return undefined;
}

/**
 * Creates a throwaway cluster with `initdb` in a temp directory and starts it with `pg_ctl` on a
 * free port (trust auth, `fsync=off`: the tests crash the server process, never the machine), for
 * tests that stop, crash or restart Postgres. The shared server on 5432 is never touched.
 *
 * @example
 * const server = await startPostgres();
 * afterAll(() => server.destroy());
 * await server.restart('immediate');
 */
export async function startPostgres(): Promise<PostgresProcess> {
  const missing = postgresServerMissing();
  if (missing) throw new Error(missing);
  const dir = mkdtempSync(join(tmpdir(), 'repopulse-pg-'));
  const data = join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const ids = spawnSync('id', ['-u', 'postgres']).stdout.toString().trim();
    const gid = spawnSync('id', ['-g', 'postgres']).stdout.toString().trim();
    chownSync(dir, Number(ids), Number(gid));
  }
  const command = (name: string, args: string[]): [string, string[]] =>
    asRoot
      ? ['runuser', ['-u', 'postgres', '--', join(POSTGRES_BIN, name), ...args]]
      : [join(POSTGRES_BIN, name), args];
  const tool = (name: string, args: string[]) => run(...command(name, args));
  await tool('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  const port = await freePort();
  const serverOptions = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`;
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let running = false;

  const start = async () => {
    await tool('pg_ctl', [
      '-D',
      data,
      '-l',
      join(dir, 'log'),
      '-o',
      serverOptions,
      '-w',
      '-t',
      '30',
      'start',
    ]);
    running = true;
    await waitForConnections(url);
  };
  const stop = async (mode: PostgresStopMode = 'fast') => {
    if (!running) return;
    running = false;
    await tool('pg_ctl', ['-D', data, '-m', mode, '-w', '-t', '30', 'stop']);
  };
  const stopOnExit = () => {
    if (running) spawnSync(...command('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']));
  };
  process.once('exit', stopOnExit);
  await start();
  return {
    port,
    url,
    stop,
    start,
    async restart(mode = 'fast') {
      await stop(mode);
      await start();
    },
    async destroy() {
      process.off('exit', stopOnExit);
      await stop('immediate').catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function waitForConnections(url: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      await client.end().catch(() => {});
    }
  }
}
