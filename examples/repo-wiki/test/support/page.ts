import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { AppliedRecord } from '../../src/applied';

/** A logged-in browser page. */
export interface LoggedInPage {
  context: BrowserContext;
  page: Page;
}

/** Opens a new context, logs in through the real `/api/login` (cookie kept by the context). */
export async function openLoggedIn(browser: Browser, baseUrl: string, user = 'demo'): Promise<LoggedInPage> {
  const context = await browser.newContext({ baseURL: baseUrl, viewport: { width: 1200, height: 860 } });
  const res = await context.request.post('/api/login', { data: { username: user, password: user } });
  if (!res.ok()) throw new Error(`login as ${user} failed: ${res.status()}`);
  const page = await context.newPage();
  return { context, page };
}

/** Events the page reported as applied to its DOM. */
export function appliedOf(page: Page): Promise<AppliedRecord[]> {
  return page.evaluate(() => window.__repopulseApplied ?? []);
}

/** Waits until the connection indicator shows `state`. */
export async function waitForConnection(page: Page, state: string, timeout = 20_000): Promise<void> {
  await page.locator(`[data-testid="connection"][data-state="${state}"]`).waitFor({ timeout });
}

/** The value at quantile `q` (0–1) of `values` (nearest rank). */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] as number;
}
