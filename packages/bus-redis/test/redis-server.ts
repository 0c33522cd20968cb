import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasRedisServer as findRedisServer, freePort, requirement } from '@repopulse/test-support';
import { describe } from 'vitest';

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
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const start = async () => {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', ''];
    args.push('--appendonly', options.appendonly ? 'yes' : 'no', '--appendfsync', 'always');
    const proc = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-2000);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    child = proc;
    const killOnExit = () => proc.kill('SIGKILL');
    process.once('exit', killOnExit);
    exited = new Promise((resolve) =>
      proc.once('exit', () => {
        process.off('exit', killOnExit);
        resolve();
      }),
    );
    await waitForPing(port, proc).catch((error: Error) => {
      proc.kill('SIGKILL');
      throw new Error(`${error.message}\n${output}`);
    });
  };
  const stop = async () => {
    if (!child || child.exitCode !== null) return;
    child.kill('SIGTERM');
    await exited;
    child = undefined;
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

async function waitForPing(port: number, proc: ChildProcess): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`redis-server exited with ${proc.exitCode}`);
    if (await ping(port)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`redis-server on port ${port} did not answer PING`);
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    let answer = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      answer += chunk.toString();
      if (answer.includes('\r\n')) done(answer.startsWith('+PONG'));
    });
  });
}
