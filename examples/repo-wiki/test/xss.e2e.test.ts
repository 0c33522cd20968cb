import { describe, expect, it } from 'vitest';
import { browserSuite, chromiumMode } from './support/browser-suite';
import { openLoggedIn } from './support/page';
import { client, login } from './support/test-server';

const mode = chromiumMode('repo-wiki XSS e2e', 'the stored-XSS tests');

/** Records CSP violations and whether an injected payload ran, from the page's first script on. */
const WATCH = `
  window.__violations = [];
  window.__pwned = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    window.__violations.push(e.violatedDirective + ' ' + e.blockedURI);
  });
`;

describe.skipIf(mode === 'skip')('stored XSS from a guest reaches no admin (Chromium)', () => {
  const suite = browserSuite();

  it("a guest's repository URL renders as text in the admin's document: no javascript: link, nothing runs, no CSP violation", async () => {
    const { s } = await suite.server();
    const guest = client(s.url, await login(s.url, 'guest'));
    const url =
      'https://github.com/acme/w`[Open](javascript:window.__pwned.push(1))`<img/src=x/onerror=window.__pwned.push(2)>';
    const created = await guest.post('/api/repositories', { url });
    expect(created.status).toBe(201);
    const id = created.json.repository.id as number;
    const deadline = Date.now() + 20_000;
    while ((await guest.get(`/api/repositories/${id}`)).json.repository.status !== 'ready') {
      if (Date.now() > deadline) throw new Error('clone did not finish');
      await new Promise((r) => setTimeout(r, 25));
    }
    const overview = (await guest.get(`/api/repositories/${id}/tasks`)).json.tasks[0] as { id: number };
    expect((await guest.post(`/api/tasks/${overview.id}/run`)).status).toBe(202);
    let docId: number | undefined;
    while (docId === undefined) {
      if (Date.now() > deadline) throw new Error('no document');
      docId = (await guest.get(`/api/repositories/${id}/documents`)).json.documents[0]?.id;
      await new Promise((r) => setTimeout(r, 25));
    }

    const { context, page } = await openLoggedIn(suite.browser, s.url, 'demo');
    await context.addInitScript(WATCH);
    // The normal pages first: the built UI must work under the CSP (no inline script or style).
    await page.goto('/');
    await page
      .getByText(/acme\/w/)
      .first()
      .waitFor({ timeout: 20_000 });
    await page.goto(`/repos/${id}`);
    await page.locator('[data-testid="connection"][data-state="live"]').waitFor({ timeout: 20_000 });
    await page.goto(`/documents/${docId}`);
    const article = page.locator('[data-testid="document"]');
    await article.waitFor({ timeout: 20_000 });

    expect(await page.locator('a[href^="javascript:" i], [href*="javascript:" i]').count()).toBe(0);
    expect(await article.locator('a, img, script, iframe').count()).toBe(0);
    expect(await article.textContent()).toContain(url);
    // Click whatever in the article looks like the link; nothing may run.
    await page.getByText('[Open]', { exact: false }).first().click();
    await page.waitForTimeout(200);
    expect(await page.evaluate(() => (window as unknown as { __pwned: number[] }).__pwned)).toEqual([]);
    expect(await page.evaluate(() => (window as unknown as { __violations: string[] }).__violations)).toEqual(
      [],
    );
    await context.close();
  }, 120_000);

  it('the CSP blocks inline script even if markup got into the page', async () => {
    const { s } = await suite.server();
    const { context, page } = await openLoggedIn(suite.browser, s.url, 'guest');
    await context.addInitScript(WATCH);
    const response = await page.goto('/');
    const csp = response?.headers()['content-security-policy'] ?? '';
    expect(csp).toMatch(/script-src 'self'/);
    await page.locator('nav.top').waitFor({ timeout: 20_000 });
    // Markup as a successful injection would produce it: an inline handler and an inline script.
    await page.evaluate(() => {
      const host = document.createElement('div');
      host.innerHTML = '<img src="/nope.png" onerror="window.__pwned.push(3)">';
      document.body.append(host);
      const script = document.createElement('script');
      script.textContent = 'window.__pwned.push(4)';
      document.body.append(script);
    });
    await page.waitForFunction(
      () => (window as unknown as { __violations: string[] }).__violations.length >= 2,
      undefined,
      { timeout: 10_000 },
    );
    expect(await page.evaluate(() => (window as unknown as { __pwned: number[] }).__pwned)).toEqual([]);
    const violations = await page.evaluate(
      () => (window as unknown as { __violations: string[] }).__violations,
    );
    expect(violations.every((v) => v.startsWith('script-src'))).toBe(true);
    await context.close();
  }, 120_000);
});
