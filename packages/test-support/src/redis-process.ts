import { type ChildProcess, spawn } from 'node:child_process';
import { Socket } from 'node:net';

/** A `redis-server` child process started by {@link spawnRedis}. */
export interface RedisProcess {
  /** The child process. */
  readonly child: ChildProcess;
  /** Resolves once the process has exited. */
  readonly exited: Promise<void>;
  /** Sends `signal` (default SIGTERM) and waits for the exit; a no-op when it already exited. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Spawns `redis-server <args>` listening on `port` (127.0.0.1) and resolves once it answers PING.
 * The process is SIGKILLed if the test process exits first; its last output is in the error
 * when it does not come up within 10 s.
 *
 * @example
 * const proc = await spawnRedis(port, ['--port', String(port), '--save', '']);
 * await proc.stop('SIGKILL');
 */
export async function spawnRedis(port: number, args: readonly string[]): Promise<RedisProcess> {
  const child = spawn('redis-server', [...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-2000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      process.off('exit', killOnExit);
      resolve();
    }),
  );
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  try {
    await waitForPing(port, child);
  } catch (error) {
    await stop('SIGKILL');
    throw new Error(`${(error as Error).message}\n${output}`);
  }
  return { child, exited, stop };
}

async function waitForPing(port: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
    if (await ping(port)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`redis-server on port ${port} did not answer PING`);
}

/** True when something on 127.0.0.1:`port` answers `PING` with `+PONG` within 500 ms. */
export function ping(port: number): Promise<boolean> {
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
