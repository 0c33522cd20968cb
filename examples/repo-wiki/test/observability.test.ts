// The app's OpenTelemetry set-up, from outside: a real Prometheus scrapes `GET /metrics` while a
// run-all goes on, and the events of the run carry the trace context of the request that started it.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AnyEnvelope, traceIdOf } from '@repopulse/events-core';
import { freePort, requirement } from '@repopulse/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChildServer, spawnServer } from './support/child-server';
import { client, login, tempDataDir } from './support/test-server';

function prometheusMissing(): string | undefined {
  try {
    execFileSync('prometheus', ['--version'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'prometheus not found (apt-get install prometheus)';
  }
}
const mode = requirement('repo-wiki', prometheusMissing(), 'the Prometheus scrape test');

describe.skipIf(mode === 'skip')('observability: Prometheus and trace context', () => {
  const data = tempDataDir();
  const promDir = mkdtempSync(join(tmpdir(), 'repo-wiki-prometheus-'));
  let app: ChildServer;
  let prometheus: ChildProcess;
  let promUrl = '';

  beforeAll(async () => {
    const port = await freePort();
    app = await spawnServer({
      PORT: String(port),
      DATA_DIR: data.dir,
      SIM_SPEED: '20',
      SESSION_SECRET: 'test-secret-0123456789abcdef',
      OTEL_TRACES_EXPORTER: 'none',
      OTEL_METRICS_EXPORTER: 'none',
      OTEL_LOGS_EXPORTER: 'none',
      OTEL_SERVICE_NAME: 'repo-wiki-test',
    });
    const promPort = await freePort();
    promUrl = `http://127.0.0.1:${promPort}`;
    const config = join(promDir, 'prometheus.yml');
    writeFileSync(
      config,
      [
        'global:',
        '  scrape_interval: 1s',
        'scrape_configs:',
        '  - job_name: repo-wiki',
        '    scrape_interval: 1s',
        '    static_configs:',
        `      - targets: ['127.0.0.1:${port}']`,
        '',
      ].join('\n'),
    );
    prometheus = spawn(
      'prometheus',
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${join(promDir, 'data')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
      ],
      { stdio: 'ignore' },
    );
    await until(async () => (await fetch(`${promUrl}/-/ready`).catch(() => undefined))?.ok === true, 30_000);
  }, 60_000);

  afterAll(async () => {
    prometheus?.kill('SIGTERM');
    app?.process.kill('SIGTERM');
    await app?.exited;
    await new Promise((resolve) =>
      prometheus.exitCode === null ? prometheus.once('exit', resolve) : resolve(0),
    );
    rmSync(promDir, { recursive: true, force: true });
    data.remove();
  });

  /** The sum of an instant PromQL query's result (0 when it has no series). */
  async function query(promql: string): Promise<number> {
    const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = (await res.json()) as { data: { result: { value: [number, string] }[] } };
    return body.data.result.reduce((sum, series) => sum + Number(series.value[1]), 0);
  }

  it('GET /metrics speaks the Prometheus text format and Prometheus scrapes it', async () => {
    const res = await fetch(`${app.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await res.text()).toMatch(/# TYPE repopulse_sse_streams gauge/);
    await until(async () => (await query('up{job="repo-wiki"}')) === 1, 20_000);
  });

  it('during a run-all the series move, and its events carry the trace of the request that started it', async () => {
    const token = await login(app.url);
    const api = client(app.url, token);
    const created = await api.post('/api/repositories', {
      name: 'otel-demo',
      url: 'https://example.com/otel.git',
    });
    expect(created.status).toBe(201);
    const id = created.json.repository?.id ?? created.json.id;
    await until(
      async () => (await api.get(`/api/repositories/${id}`)).json?.repository?.status === 'ready',
      20_000,
    );

    const sentBefore = await query('sum(messaging_client_sent_messages_total{job="repo-wiki"})');
    // A browser-like SSE stream on the repository.
    const abort = new AbortController();
    const frames: AnyEnvelope[] = [];
    const stream = await fetch(`${app.url}/api/repositories/${id}/events`, {
      headers: { Accept: 'text/event-stream', Authorization: `Bearer ${token}` },
      signal: abort.signal,
    });
    expect(stream.status).toBe(200);
    const reading = (async () => {
      const decoder = new TextDecoder();
      let buffer = '';
      for await (const chunk of stream.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const data = buffer
            .slice(0, end)
            .split('\n')
            .find((l) => l.startsWith('data: '));
          buffer = buffer.slice(end + 2);
          if (data) frames.push(JSON.parse(data.slice(6)));
        }
      }
    })().catch(() => {});
    await until(async () => (await query('sum(repopulse_sse_streams{job="repo-wiki"})')) >= 1, 20_000);

    // The click: the browser's span context in `traceparent`.
    const clickTrace = 'abcdef0123456789abcdef0123456789';
    const run = await fetch(`${app.url}/api/repositories/${id}/run-all`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${token}`,
        'Content-Type': 'application/json',
        traceparent: `00-${clickTrace}-0123456789abcdef-01`,
      },
      body: '{}',
    });
    expect(run.status).toBeLessThan(300);
    expect(run.headers.get('x-trace-id')).toBe(clickTrace);
    const requestId = run.headers.get('x-request-id');
    await until(
      async () =>
        frames.some(
          (f) => f.type === 'repo.status_changed' && (f.payload as { to: string }).to === 'completed',
        ),
      30_000,
    );
    const ofRun = frames.filter((f) => f.request_id === requestId);
    expect(ofRun.length).toBeGreaterThan(3);
    for (const frame of ofRun) expect(traceIdOf(frame.traceparent)).toBe(clickTrace);

    // The series moved: publishes, deliveries to the open stream, lag observations.
    await until(
      async () =>
        (await query('sum(messaging_client_sent_messages_total{job="repo-wiki"})')) >=
        sentBefore + ofRun.length,
      20_000,
    );
    await until(
      async () => (await query('sum(repopulse_sse_deliveries_total{job="repo-wiki"})')) >= ofRun.length,
      20_000,
    );
    await until(
      async () => (await query('sum(repopulse_sse_delivery_lag_count{job="repo-wiki"})')) >= ofRun.length,
      20_000,
    );
    expect(await query('sum(repopulse_sse_written_total{job="repo-wiki"})')).toBeGreaterThan(
      ofRun.length * 100,
    );
    const p99 = await query(
      'histogram_quantile(0.99, sum by (le) (rate(repopulse_sse_delivery_lag_bucket{job="repo-wiki"}[1m])))',
    );
    expect(p99).toBeGreaterThan(0);
    expect(p99).toBeLessThanOrEqual(10);
    abort.abort();
    await reading;
    await until(async () => (await query('sum(repopulse_sse_streams{job="repo-wiki"})')) === 0, 20_000);
    expect(
      await query('sum(repopulse_sse_streams_closed_total{job="repo-wiki",repopulse_close_reason="client"})'),
    ).toBeGreaterThanOrEqual(1);

    // Log lines name the trace and span they were written in.
    const lines = app
      .output()
      .split('\n')
      .filter((l) => l.includes(`"request_id":"${requestId}"`));
    expect(lines.length).toBeGreaterThan(0);
    expect(
      lines.some((l) => l.includes(`"trace_id":"${clickTrace}"`) && /"span_id":"[0-9a-f]{16}"/.test(l)),
    ).toBe(true);
  }, 90_000);
});

async function until(predicate: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await predicate()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
