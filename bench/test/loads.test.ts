import { execFile } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const benchDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');

// `npm run bench` runs in plain Node, outside Vitest: every scenario module (and what it imports
// from the workspace, test-support included) must load there. An unknown scenario name makes the
// runner load them all, list them and exit with 2 without running any.
it('loads every scenario in plain Node, as `npm run bench` does', async () => {
  const result = await new Promise<{ code: number | null; stderr: string }>((done) => {
    const child = execFile(
      process.execPath,
      ['--conditions=@repopulse/source', '--import', 'tsx', 'run.ts', 'no-such-scenario'],
      { cwd: benchDir },
      (error, _stdout, stderr) => done({ code: error ? (error.code as number) : 0, stderr }),
    );
    child.stdin?.end();
  });
  expect(result.stderr).toMatch(/unknown scenario\(s\): no-such-scenario; known: .*bus-throughput.*outbox/);
  expect(result.code).toBe(2);
}, 60_000);
