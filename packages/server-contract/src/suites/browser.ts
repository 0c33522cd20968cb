import { CHROMIUM_ARGS } from '@repopulse/test-support';
import { chromium } from 'playwright-core';
import { expect, it } from 'vitest';
import { publishNumbered, range, type ServerContext } from '../harness';

/** The browser's native EventSource, same-origin, over whatever the server negotiates (h2 on TLS). */
export function browserSuite(ctx: ServerContext, executablePath: string): void {
  it("Chromium's native EventSource receives live events and resumes with Last-Event-ID", async () => {
    const { server, bus } = await ctx.start({ retryMs: 50 });
    const id = ctx.id('chromium');
    const browser = await chromium.launch({
      executablePath,
      args: [...CHROMIUM_ARGS, '--ignore-certificate-errors'],
      headless: true,
    });
    ctx.defer(() => browser.close());
    const page = await browser.newPage({ ignoreHTTPSErrors: true });
    // Any page of the server's origin (the route 404s): the EventSource is then same-origin.
    const navigation = await page.goto(`${server.origin}/`);
    const protocol = await page.evaluate(
      () => (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming).nextHopProtocol,
    );
    if (ctx.transport.protocol === 'http2') expect(protocol).toBe('h2');
    expect(navigation).not.toBeNull();
    await page.evaluate((url) => {
      const state = { received: [] as string[], opens: 0 };
      (window as unknown as { state: typeof state }).state = state;
      const source = new EventSource(url);
      source.addEventListener('open', () => state.opens++);
      source.addEventListener('log.append', (m) => state.received.push(JSON.parse(m.data).payload.message));
    }, server.url(id));
    const state = () =>
      page.evaluate(() => (window as unknown as { state: { received: string[]; opens: number } }).state);
    await expect.poll(async () => (await state()).opens, { timeout: 10_000 }).toBe(1);
    await publishNumbered(bus, id, 0, 5);
    await expect.poll(async () => (await state()).received.length, { timeout: 10_000 }).toBe(5);
    server.dropConnections();
    await expect.poll(async () => (await state()).opens, { timeout: 10_000 }).toBe(2);
    await publishNumbered(bus, id, 5, 5);
    await expect.poll(async () => (await state()).received.length, { timeout: 10_000 }).toBe(10);
    expect((await state()).received).toEqual(range(0, 10).map((n) => `m${n}`));
  });
}
