import { runCli } from '../../src/index';

/** Text written to a captured stream, with a way to wait for a pattern (event-driven). */
export class Captured {
  text = '';
  isTTY: boolean;
  private waiters: { test: () => boolean; resolve: () => void }[] = [];

  constructor(isTTY = false) {
    this.isTTY = isTTY;
  }

  write(chunk: string) {
    this.text += chunk;
    for (const waiter of [...this.waiters]) {
      if (waiter.test()) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
    return true;
  }

  /** The non-empty lines so far. */
  get lines(): string[] {
    return this.text.split('\n').filter(Boolean);
  }

  /** Resolves once `test` holds for the text written so far. */
  until(test: (captured: Captured) => boolean): Promise<void> {
    if (test(this)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ test: () => test(this), resolve }));
  }
}

/** One in-process `repopulse` run with captured output; `stop()` sends the equivalent of Ctrl-C. */
export function start(argv: string[], env: Record<string, string | undefined> = {}, tty = false) {
  const stdout = new Captured(tty);
  const stderr = new Captured();
  const ctl = new AbortController();
  const exit = runCli(argv, { stdout, stderr, env, signal: ctl.signal });
  return { stdout, stderr, exit, stop: () => ctl.abort() };
}

/** Runs a command to its end. */
export async function run(argv: string[], env: Record<string, string | undefined> = {}, tty = false) {
  const run = start(argv, env, tty);
  const code = await run.exit;
  return { code, stdout: run.stdout.text, stderr: run.stderr.text, lines: run.stdout.lines };
}
