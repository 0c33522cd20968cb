import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';

const APP_DIR = resolve(import.meta.dirname, '../..');

/** Builds the UI with Vite into a fresh temp directory (run once per e2e file) and returns it. */
export async function buildUi(): Promise<string> {
  const outDir = mkdtempSync(join(tmpdir(), 'repo-wiki-ui-'));
  const vite = join(
    dirname(createRequire(join(APP_DIR, 'package.json')).resolve('vite/package.json')),
    'bin/vite.js',
  );
  await promisify(execFile)(
    process.execPath,
    [
      vite,
      'build',
      '--config',
      join(APP_DIR, 'vite.config.ts'),
      '--outDir',
      outDir,
      '--emptyOutDir',
      '--logLevel',
      'error',
    ],
    { cwd: APP_DIR, timeout: 120_000, env: { ...process.env, NODE_ENV: 'production' } },
  );
  if (!existsSync(join(outDir, 'index.html')))
    throw new Error(`vite build produced no index.html in ${outDir}`);
  return outDir;
}
