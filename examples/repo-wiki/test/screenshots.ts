// Regenerates docs/img/home.png and docs/img/repo-detail.png: `npm run screenshots` at the repository
// root. Not a test file (vitest never runs it), so `npm test` leaves the tracked images alone.
// Starts the real app on the memory bus, builds the UI, drives headless Chromium mid-run.
import { mkdirSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { findChromium, launchChromium } from '@repopulse/test-support';
import { buildUi } from './support/build-ui';
import { openLoggedIn, waitForConnection } from './support/page';
import {
  client,
  login,
  recordTopic,
  repoStatusIs,
  startTestServer,
  tempDataDir,
} from './support/test-server';

const IMG_DIR = resolve(import.meta.dirname, '../../../docs/img');

const chromium = findChromium();
if (!chromium) throw new Error('screenshots: Chromium not found (install it or set CHROMIUM_PATH)');

const staticDir = await buildUi();
const data = tempDataDir();
const browser = await launchChromium(chromium);
// ~1 s per task: time for mid-run screenshots.
const server = await startTestServer({ DATA_DIR: data.dir, STATIC_DIR: staticDir, SIM_SPEED: '6' });
try {
  const addRepo = async (url: string, until = 'ready') => {
    const api = client(server.url, await login(server.url, 'demo'));
    const res = await api.post('/api/repositories', { url });
    const id = res.json.repository.id as number;
    const rec = await recordTopic(server, server.topics.repo(id));
    await rec.waitFor(repoStatusIs(until));
    return { id, rec, api };
  };
  await addRepo('https://github.com/acme/fail-clone', 'error');
  const done = await addRepo('https://github.com/acme/docs-site');
  await done.api.post(`/api/repositories/${done.id}/run-all`);
  const { id, rec } = await addRepo('https://github.com/acme/payments-service');
  await done.rec.waitFor(repoStatusIs('completed'));
  await addRepo('https://github.com/acme/widget-fail-api');

  const { page, context } = await openLoggedIn(browser, server.url);
  const home = await context.newPage();
  await home.goto('/');
  await waitForConnection(home, 'live');
  await page.goto(`/repos/${id}`);
  await waitForConnection(page, 'live');
  await page.bringToFront();
  await page.getByTestId('run-all').click();
  await home.locator(`[data-testid="repo-status-${id}"][data-status="analyzing"]`).waitFor();
  mkdirSync(IMG_DIR, { recursive: true });
  await home.bringToFront();
  await home.screenshot({ path: resolve(IMG_DIR, 'home.png') });
  await page.bringToFront();
  await page.locator('[data-testid="tasks"] tr[data-status="completed"]').first().waitFor();
  await page.locator('[data-testid="tasks"] tr[data-status="running"]').first().waitFor();
  await page.screenshot({ path: resolve(IMG_DIR, 'repo-detail.png'), fullPage: true });
  await rec.waitFor(repoStatusIs('completed'));
  await context.close();
  console.log(
    `screenshots: wrote ${resolve(IMG_DIR, 'home.png')} and ${resolve(IMG_DIR, 'repo-detail.png')}`,
  );
} finally {
  await browser.close();
  await server.close(0);
  data.remove();
  rmSync(staticDir, { recursive: true, force: true });
}
