import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';

const APP_DIR = resolve(import.meta.dirname, '../..');

/** The app as a separate Node process (so a test can SIGKILL it), started like `npm start`. */
export interface ChildServer {
  url: string;
  process: ChildProcess;
  /** Everything it printed. */
  output(): string;
  /** Resolves with the exit code/signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Spawns `node --import tsx server/main.ts` with `env` and waits for its "listening" log line. */
export async function spawnServer(env: Record<string, string>): Promise<ChildServer> {
  const child = spawn(
    process.execPath,
    ['--conditions=@repopulse/source', '--import', 'tsx', 'server/main.ts'],
    { cwd: APP_DIR, env: { ...process.env, LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((ok) =>
    child.on('exit', (code, signal) => ok({ code, signal })),
  );
  await new Promise<void>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`server did not start:\n${out}`)), 30_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('"msg":"listening"')) {
        clearTimeout(timer);
        ok();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exited.then(({ code }) => {
      clearTimeout(timer);
      fail(new Error(`server exited (${code}) before listening:\n${out}`));
    });
  });
  return { url: `http://127.0.0.1:${env.PORT}`, process: child, output: () => out, exited };
}
