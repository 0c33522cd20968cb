import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** The open-file limit a child gets (raised in its shell before `exec node`). */
export const FD_LIMIT = 65_536;

/** A child process spoken to by request/response over IPC. */
export interface Child {
  /** Sends `{cmd, ...args}` and resolves with the child's answer. */
  call<T = Record<string, unknown>>(cmd: string, args?: Record<string, unknown>): Promise<T>;
  /** Ends the child and waits for it. */
  stop(): Promise<void>;
}

/**
 * Spawns `file` (a TypeScript entry next to this one) in its own Node process, with the open-file
 * limit raised to {@link FD_LIMIT} when the hard limit allows (`bash -c 'ulimit -n …; exec node …'`),
 * GC exposed, and workspace packages resolved to their sources.
 */
export async function startChild(file: string, env: Record<string, string> = {}): Promise<Child> {
  const entry = join(here, file);
  // BENCH_NODE_FLAGS: extra flags for the children, e.g. `--cpu-prof --cpu-prof-dir=prof`.
  const flags = process.env.BENCH_NODE_FLAGS ?? '';
  const node = `exec node --conditions=@repopulse/source --import tsx --expose-gc --max-old-space-size=2048 ${flags} ${JSON.stringify(entry)}`;
  const child: ChildProcess = spawn(
    'bash',
    ['-c', `ulimit -n ${FD_LIMIT} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; ${node}`],
    {
      cwd: join(here, '..'),
      env: { ...process.env, ...env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  let next = 0;
  const waiting = new Map<number, { resolve: (v: never) => void; reject: (e: Error) => void }>();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => {
    for (const w of waiting.values()) w.reject(new Error(`${file} exited`));
    waiting.clear();
  });
  child.on('message', (message: { id: number; error?: string }) => {
    const w = waiting.get(message.id);
    if (!w) return;
    waiting.delete(message.id);
    if (message.error) w.reject(new Error(`${file}: ${message.error}`));
    else w.resolve(message as never);
  });
  const call = <T>(cmd: string, args: Record<string, unknown> = {}) =>
    new Promise<T>((resolve, reject) => {
      const id = next++;
      waiting.set(id, { resolve: resolve as (v: never) => void, reject });
      child.send({ id, cmd, ...args });
    });
  await call('ready');
  return {
    call,
    async stop() {
      // A clean exit first (so `--cpu-prof` writes its profile), then the hard way.
      if (child.exitCode === null) child.send({ id: -1, cmd: 'exit' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Serves IPC requests in a child: `handlers[cmd](args)` answers each. */
export function serve(handlers: Record<string, (args: Record<string, unknown>) => unknown>): void {
  process.on('message', async (message: { id: number; cmd: string } & Record<string, unknown>) => {
    if (message.cmd === 'exit') process.exit(0);
    try {
      const handler = handlers[message.cmd];
      if (!handler) throw new Error(`unknown command ${message.cmd}`);
      const result = (await handler(message)) ?? {};
      process.send?.({ id: message.id, ...(result as object) });
    } catch (error) {
      process.send?.({ id: message.id, error: String((error as Error)?.stack ?? error) });
    }
  });
  process.on('disconnect', () => process.exit(0));
}

/**
 * Wall clock shared by processes on one machine (ms since epoch). `Date.now()`, not
 * `performance.timeOrigin + performance.now()`: the latter is fixed at each process's start, so when
 * the system clock is stepped (NTP on a VM) two processes disagree by the step, and a cross-process
 * latency came out negative (seen: −4.5 s).
 */
export const now = (): number => Date.now();
