import { execFileSync } from 'node:child_process';
import { type Browser, chromium } from 'playwright-core';

/** Chromium flags for a quiet, sandbox-free headless run (containers, CI). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The Chromium binary (`CHROMIUM_PATH`, else `command -v chromium`), or undefined. */
export function findChromium(): string | undefined {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  for (const name of ['chromium', 'chromium-browser']) {
    try {
      const path = execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
      if (path) return path;
    } catch {
      // not installed under this name
    }
  }
  return undefined;
}

/**
 * Whether the browser tests can run. Missing Chromium: a loud skip locally, a failure under
 * `CI=true` (the caller turns `reason` into a thrown error there).
 */
export function chromiumAvailability(): { path?: string; reason?: string } {
  const path = findChromium();
  if (path) return { path };
  return { reason: 'Chromium not found (install it or set CHROMIUM_PATH)' };
}

/** Launches headless Chromium through playwright-core. */
export function launchChromium(executablePath: string): Promise<Browser> {
  return chromium.launch({ executablePath, args: CHROMIUM_ARGS, headless: true });
}
