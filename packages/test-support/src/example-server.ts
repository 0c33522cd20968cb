import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

/** The example's server as a child process. */
export interface ExampleServer {
  url: string;
  process: ChildProcess;
  /** Sends SIGTERM and waits for the exit (the example shuts down in order). */
  stop(): Promise<void>;
}

/** Starts `node dist/server.js` in `dir` and waits for its "listening on" line. */
export function startExampleServer(dir: string, env: Record<string, string> = {}): Promise<ExampleServer> {
  const child = spawn(process.execPath, [join(dir, 'dist/server.js')], {
    cwd: dir,
    env: { ...process.env, PORT: '0', STEP_MS: '20', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((ok) => child.on('exit', (code) => ok(code)));
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the example did not start:\n${output}`));
    }, 20_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const port = /listening on http:\/\/localhost:(\d+)/.exec(output)?.[1];
      if (!port) return;
      clearTimeout(timer);
      resolve({
        url: `http://127.0.0.1:${port}`,
        process: child,
        stop: async () => {
          child.kill('SIGTERM');
          await exited;
        },
      });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the example exited (${code}) before listening:\n${output}`));
    });
  });
}

/** Runs `node dist/server.js` with `env`, expecting it to fail at startup; resolves with its exit code and stderr. */
export function failedStart(
  dir: string,
  env: Record<string, string>,
): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [join(dir, 'dist/server.js')], {
    cwd: dir,
    env: { ...process.env, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.stdout.on('data', (chunk: Buffer) => {
    if (chunk.toString().includes('listening on')) child.kill('SIGKILL');
  });
  return new Promise((ok) => child.on('exit', (code) => ok({ code, stderr })));
}
