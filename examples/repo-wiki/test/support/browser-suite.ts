import { rmSync } from 'node:fs';
import { findChromium, launchChromium, requirement } from '@repopulse/test-support';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import type { RunningServer } from '../../server/app';
import type { Telemetry } from '../../server/telemetry';
import { buildUi } from './build-ui';
import { client, login, recordTopic, repoStatusIs, startTestServer, tempDataDir } from './test-server';

/** Whether the browser suites run here: Chromium found, else a loud skip (a failure under CI). */
export function chromiumMode(owner: string, skipping: string): 'run' | 'skip' {
  return requirement(
    owner,
    findChromium() ? undefined : 'Chromium not found (install it or set CHROMIUM_PATH)',
    skipping,
  );
}

/**
 * Registers the hooks of a browser suite (call inside its `describe`): the UI built once with
 * Vite, one Chromium, and app servers made by `server()` that are closed after the suite.
 */
export function browserSuite() {
  const suite = { browser: undefined as unknown as Browser, staticDir: '' };
  const cleanups: (() => unknown)[] = [];
  beforeAll(async () => {
    suite.staticDir = await buildUi();
    cleanups.push(() => rmSync(suite.staticDir, { recursive: true, force: true }));
    suite.browser = await launchChromium(findChromium() as string);
  }, 180_000);
  afterAll(async () => {
    await suite.browser?.close();
    for (const fn of cleanups.reverse()) await fn();
  });
  return {
    get browser() {
      return suite.browser;
    },
    /** Starts the app in-process on the built UI with a temp `DATA_DIR` (and `telemetry`, when given). */
    async server(env: Record<string, string> = {}, telemetry?: Telemetry) {
      const data = tempDataDir();
      const s = await startTestServer(
        {
          DATA_DIR: data.dir,
          STATIC_DIR: suite.staticDir,
          SIM_SPEED: '10',
          ...env,
        },
        telemetry,
      );
      cleanups.push(async () => {
        await s.close(0);
        data.remove();
      });
      return { s, dataDir: data.dir };
    },
    /** Adds a repository as `user` and waits until its clone is done; records its topic from the start. */
    async addRepo(s: RunningServer, url: string, user = 'demo') {
      const api = client(s.url, await login(s.url, user));
      const id = (await api.post('/api/repositories', { url })).json.repository.id as number;
      const rec = await recordTopic(s, s.topics.repo(id));
      await rec.waitFor(repoStatusIs('ready'));
      return { id, rec, api };
    },
  };
}
