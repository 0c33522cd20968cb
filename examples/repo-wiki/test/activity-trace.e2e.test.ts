// The Activity panel in headless Chromium names each action's trace next to its request id: the
// trace of the server's SERVER span for that request, as its `X-Trace-Id` response header says.
import * as api from '@opentelemetry/api';
import { tracing } from '@opentelemetry/sdk-node';
import { afterAll, describe, expect, it } from 'vitest';
import { startTelemetry } from '../server/telemetry';
import { browserSuite, chromiumMode } from './support/browser-suite';
import { openLoggedIn, waitForConnection } from './support/page';
import { login, recordTopic, repoStatusIs } from './support/test-server';

const mode = chromiumMode('repo-wiki Activity panel trace ids', 'the Activity panel trace id test');

describe.skipIf(mode === 'skip')('Activity panel trace ids in headless Chromium', () => {
  const spans = new tracing.InMemorySpanExporter();
  const telemetry = startTelemetry([new tracing.SimpleSpanProcessor(spans)]);
  afterAll(() => telemetry.shutdown());
  const suite = browserSuite();

  /** The SERVER span of the request `traceId` names (the one the response's X-Trace-Id named). */
  const serverSpan = (traceId: string, name: string) =>
    spans
      .getFinishedSpans()
      .find((s) => s.spanContext().traceId === traceId && s.kind === api.SpanKind.SERVER && s.name === name);

  it("each action's group shows its trace id beside its request id: the trace of its server span", async () => {
    const { s } = await suite.server({}, telemetry);
    // Action 1, from outside the browser: add a repository.
    const token = await login(s.url);
    const created = await fetch(`${s.url}/api/repositories`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ url: 'https://github.com/acme/activity-trace' }),
    });
    expect(created.status).toBe(201);
    const id = ((await created.json()) as { repository: { id: number } }).repository.id;
    const rec = await recordTopic(s, s.topics.repo(id));
    await rec.waitFor(repoStatusIs('ready'));
    const actions = [
      {
        name: 'create',
        requestId: created.headers.get('x-request-id') as string,
        traceId: created.headers.get('x-trace-id') as string,
        span: 'POST /api/repositories',
      },
    ];

    // Action 2, the click: run all, from the page.
    const { page, context } = await openLoggedIn(suite.browser, s.url);
    await page.goto(`/repos/${id}`);
    await waitForConnection(page, 'live');
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith(`/api/repositories/${id}/run-all`)),
      page.getByTestId('run-all').click(),
    ]);
    expect(response.status()).toBe(202);
    actions.push({
      name: 'run_all',
      requestId: (await response.headerValue('x-request-id')) as string,
      traceId: (await response.headerValue('x-trace-id')) as string,
      span: 'POST /api/repositories/:id/run-all',
    });
    await rec.waitFor(repoStatusIs('completed'), 30_000);

    await page.getByTestId('activity-toggle').click();
    await page.locator('[data-testid="activity-feed"][data-loading="false"]').waitFor({ timeout: 20_000 });
    for (const action of actions) {
      expect(action.traceId, action.name).toMatch(/^[0-9a-f]{32}$/);
      expect(action.traceId, action.name).not.toBe(actions.find((a) => a !== action)?.traceId);
      // The server's span of that request is in the trace the header named.
      expect(serverSpan(action.traceId, action.span), action.name).toBeDefined();
      // Its events all carry that trace.
      const events = rec.events.filter((e) => e.request_id === action.requestId);
      expect(events.length, action.name).toBeGreaterThan(0);
      for (const e of events) expect(e.traceparent?.slice(3, 35), action.name).toBe(action.traceId);

      // The panel: the group of the request id shows the trace (short in the line, whole in its title).
      const group = page.locator(
        `[data-testid="activity-group-item"][data-request-id="${action.requestId}"]`,
      );
      await group.waitFor();
      expect(await group.getAttribute('data-trace-id'), action.name).toBe(action.traceId);
      const line = group.getByTestId('activity-group');
      expect(await line.textContent(), action.name).toContain(` · trace ${action.traceId.slice(0, 8)}`);
      expect(await line.getAttribute('title'), action.name).toBe(
        `request_id ${action.requestId} · trace_id ${action.traceId}`,
      );
    }
    await rec.stop();
    await context.close();
  }, 120_000);
});
