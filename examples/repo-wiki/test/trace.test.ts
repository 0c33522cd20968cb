// One trace from the click to the frame, in the real app: its OpenTelemetry set-up with the SDK's
// in-memory exporter, the HTTP request that starts a run-all, the outbox relay's publishes on the
// memory bus and on Redis, and the frames a real SSE client (the `eventsource` package) receives.
import * as api from '@opentelemetry/api';
import { tracing } from '@opentelemetry/sdk-node';
import { type AnyEnvelope, traceIdOf } from '@repopulse/events-core';
import { deleteKeys, reachableRedis, redisUrl, requirement, waitFor } from '@repopulse/test-support';
import { EventSource } from 'eventsource';
import { afterAll, describe, expect, it } from 'vitest';
import { startTelemetry } from '../server/telemetry';
import { client, login, startTestServer, tempDataDir } from './support/test-server';

const spans = new tracing.InMemorySpanExporter();
const telemetry = startTelemetry([new tracing.SimpleSpanProcessor(spans)]);
afterAll(() => telemetry.shutdown());

const REDIS_URL = await reachableRedis();
const redisMode = requirement(
  'repo-wiki trace',
  REDIS_URL ? undefined : `no Redis at ${redisUrl()}`,
  'the click-to-frame trace on Redis',
);
const prefix = `repo-wiki-trace:${process.pid}:${Date.now()}:`;
afterAll(async () => {
  if (REDIS_URL) await deleteKeys(REDIS_URL, prefix);
});

const EVENT_TYPES = [
  'repo.created',
  'repo.status_changed',
  'repo.deleted',
  'task.status_changed',
  'task.progress',
  'task.queue_changed',
  'doc.created',
  'log.append',
];

const buses = [
  { name: 'memory', env: {} as Record<string, string>, skip: false },
  { name: 'redis', env: { REDIS_URL: REDIS_URL ?? '', REDIS_PREFIX: prefix }, skip: redisMode === 'skip' },
];

describe.each(buses)('one trace from the click to the frame, on the $name bus', ({ name, env, skip }) => {
  it.skipIf(skip)(
    'the run-all request continues the click, the relay publishes in (or linked to) it, the SSE frames carry it',
    async () => {
      const data = tempDataDir();
      const server = await startTestServer({ ...env, DATA_DIR: data.dir }, telemetry);
      let source: EventSource | undefined;
      try {
        const token = await login(server.url);
        const rest = client(server.url, token);
        const created = await rest.post('/api/repositories', {
          url: `https://github.com/demo/trace-${name}`,
        });
        expect(created.status).toBe(201);
        const id = created.json.repository.id as number;
        await waitFor(
          async () => (await rest.get(`/api/repositories/${id}`)).json.repository.status === 'ready',
          {
            timeoutMs: 15_000,
            what: 'the clone',
          },
        );

        // A real SSE client on the repository's stream.
        const frames: AnyEnvelope[] = [];
        source = new EventSource(`${server.url}/api/repositories/${id}/events?access_token=${token}`);
        for (const type of EVENT_TYPES) {
          source.addEventListener(type, (e) => frames.push(JSON.parse(e.data) as AnyEnvelope));
        }
        await new Promise<void>((resolve, reject) => {
          (source as EventSource).onopen = () => resolve();
          (source as EventSource).onerror = () => reject(new Error('the SSE stream failed'));
        });

        // The click: the browser's span, in the `traceparent` header of the run-all request.
        const clickTrace = api.trace.getTracer('test-browser').startSpan('click').spanContext();
        const res = await fetch(`${server.url}/api/repositories/${id}/run-all`, {
          method: 'POST',
          headers: {
            Authorization: `Bearer ${token}`,
            'Content-Type': 'application/json',
            traceparent: `00-${clickTrace.traceId}-${clickTrace.spanId}-01`,
          },
          body: '{}',
        });
        expect(res.status).toBe(202);
        expect(res.headers.get('x-trace-id')).toBe(clickTrace.traceId);
        const requestId = res.headers.get('x-request-id');
        await waitFor(
          () =>
            frames.some(
              (f) =>
                f.type === 'repo.status_changed' &&
                f.request_id === requestId &&
                f.payload.to === 'completed',
            ),
          { timeoutMs: 30_000, what: 'the run-all to complete' },
        );

        // The request's SERVER span continues the click.
        const trace = () =>
          spans.getFinishedSpans().filter((s) => s.spanContext().traceId === clickTrace.traceId);
        const request = trace().find((s) => s.name === 'POST /api/repositories/:id/run-all');
        expect(request?.kind).toBe(api.SpanKind.SERVER);
        expect(request?.parentSpanContext?.spanId).toBe(clickTrace.spanId);

        // Every frame of the run carries the request's trace, and names the request's span.
        const ofRun = frames.filter((f) => f.request_id === requestId);
        expect(ofRun.length).toBeGreaterThan(3);
        for (const frame of ofRun) {
          expect(traceIdOf(frame.traceparent)).toBe(clickTrace.traceId);
          expect(frame.traceparent?.slice(36, 52)).toBe(request?.spanContext().spanId);
        }

        // Each of those events was published by the relay in a `send` span of this bus that joins the
        // trace: a child of the request (the relay was woken from it) or linked to the context the
        // event was made in (the relay was already draining for an earlier action).
        await waitFor(
          () =>
            ofRun.every((f) =>
              spans.getFinishedSpans().some((s) => s.attributes['messaging.message.id'] === f.id),
            ),
          { what: 'a send span per event' },
        );
        for (const frame of ofRun) {
          const sends = spans
            .getFinishedSpans()
            .filter((s) => s.attributes['messaging.message.id'] === frame.id && s.name === 'send repo:{id}');
          expect(sends).toHaveLength(1);
          const send = sends[0] as tracing.ReadableSpan;
          expect(send.kind).toBe(api.SpanKind.PRODUCER);
          expect(send.attributes).toMatchObject({
            'messaging.system': name,
            'messaging.operation.type': 'send',
            'messaging.destination.template': 'repo:{id}',
          });
          const child =
            send.spanContext().traceId === clickTrace.traceId &&
            send.parentSpanContext?.spanId === request?.spanContext().spanId;
          const linked = send.links.some(
            (l) =>
              l.context.traceId === clickTrace.traceId && l.context.spanId === request?.spanContext().spanId,
          );
          expect(child || linked, `send span of ${frame.type} ${frame.id} joins the trace`).toBe(true);
        }
      } finally {
        source?.close();
        await server.close(0);
        data.remove();
      }
    },
    60_000,
  );
});
