import * as api from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createEvent,
  EventValidationError,
  fromCloudEvent,
  isTraceparent,
  isTracestate,
  parseEnvelope,
  toCloudEvent,
  traceIdOf,
} from '../src/index';
import {
  destinationTemplate,
  registerOpenTelemetry,
  spanContextOf,
  unregisterOpenTelemetry,
} from '../src/otel/index';

const TP = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const base = {
  id: '01JD0000000000000000000000',
  type: 'log.append',
  ts: 1,
  payload: { level: 'info', message: 'm' },
};

describe('W3C trace context fields', () => {
  it.each([
    [TP, true],
    ['00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00', true],
    ['01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future', true],
    ['00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra', false],
    ['ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', false],
    ['00-00000000000000000000000000000000-00f067aa0ba902b7-01', false],
    ['00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01', false],
    ['00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01', false],
    ['00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7', false],
    [42, false],
  ])('isTraceparent(%j) is %s', (value, valid) => {
    expect(isTraceparent(value)).toBe(valid);
  });

  it.each([
    ['rojo=00f067aa0ba902b7,congo=t61rcWkgMzE', true],
    ['tenant@vendor=v, other=x', true],
    ['', true],
    ['Upper=x', false],
    ['k=', false],
    ['k=a,b', false],
    ['k=v\n', false],
    [`k=${'v'.repeat(600)}`, false],
    [Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(','), false],
  ])('isTracestate(%j) is %s', (value, valid) => {
    expect(isTracestate(value)).toBe(valid);
  });

  it('parseEnvelope keeps valid fields and rejects bad ones with invalid_field naming them', () => {
    const ok = parseEnvelope({ ...base, traceparent: TP, tracestate: 'a=b', extra: 1 });
    expect(ok).toMatchObject({ traceparent: TP, tracestate: 'a=b' });
    expect(JSON.stringify(ok)).toContain(`"traceparent":"${TP}"`);
    expect(traceIdOf(ok.traceparent)).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(traceIdOf(undefined)).toBeUndefined();
    for (const [input, field] of [
      [{ ...base, traceparent: 'nope' }, 'traceparent'],
      [{ ...base, tracestate: 'a=b' }, 'tracestate'],
      [{ ...base, traceparent: TP, tracestate: 'A=b' }, 'tracestate'],
    ] as const) {
      const error = (() => {
        try {
          parseEnvelope(input);
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(EventValidationError);
      expect(error).toMatchObject({ code: 'invalid_field', field });
      expect((error as Error).message).toMatch(/^\[repopulse\] /);
    }
  });

  it('CloudEvents carry them as the distributed-tracing extension attributes, both ways', () => {
    const event = parseEnvelope({ ...base, traceparent: TP, tracestate: 'a=b' });
    const ce = toCloudEvent(event);
    expect(ce).toMatchObject({ traceparent: TP, tracestate: 'a=b' });
    expect(fromCloudEvent(ce)).toMatchObject({ traceparent: TP, tracestate: 'a=b' });
    expect(() => fromCloudEvent({ ...ce, traceparent: 'x' })).toThrow(/traceparent/);
  });

  it('helpers: destination templates and span contexts of a traceparent', () => {
    expect(destinationTemplate('repo:42')).toBe('repo:{id}');
    expect(destinationTemplate('repos')).toBe('repos');
    expect(spanContextOf(TP)).toEqual({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      traceFlags: 1,
      isRemote: true,
    });
    expect(spanContextOf('x')).toBeUndefined();
  });
});

describe('createEvent and the active OpenTelemetry context', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  beforeAll(() => provider.register());
  afterAll(async () => {
    unregisterOpenTelemetry();
    await provider.shutdown();
    api.trace.disable();
    api.context.disable();
    api.propagation.disable();
  });

  const inSpan = <T>(fn: () => T): { result: T; traceId: string; spanId: string } => {
    const tracer = api.trace.getTracer('test');
    return tracer.startActiveSpan('work', (span) => {
      const result = fn();
      span.end();
      return { result, ...span.spanContext() };
    });
  };

  it('without registerOpenTelemetry, no field is added even inside a span', () => {
    unregisterOpenTelemetry();
    const { result } = inSpan(() => createEvent('log.append', { level: 'info', message: 'x' }));
    expect(result).not.toHaveProperty('traceparent');
    expect(result).not.toHaveProperty('tracestate');
  });

  it("after registerOpenTelemetry, the active span's context; none outside a span; meta wins", () => {
    registerOpenTelemetry(api);
    const { result, traceId, spanId } = inSpan(() =>
      createEvent('log.append', { level: 'info', message: 'x' }),
    );
    expect(result.traceparent).toBe(`00-${traceId}-${spanId}-01`);
    expect(createEvent('log.append', { level: 'info', message: 'y' })).not.toHaveProperty('traceparent');
    const state = api.trace.wrapSpanContext({
      traceId: 'a'.repeat(32),
      spanId: 'b'.repeat(16),
      traceFlags: 0,
      traceState: new (class {
        serialize() {
          return 'vendor=1';
        }
      })() as unknown as api.TraceState,
    });
    const withState = api.context.with(api.trace.setSpan(api.context.active(), state), () =>
      createEvent('log.append', { level: 'info', message: 'z' }),
    );
    expect(withState).toMatchObject({
      traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-00`,
      tracestate: 'vendor=1',
    });
    const given = inSpan(() =>
      createEvent('log.append', { level: 'info', message: 'w' }, { traceparent: TP }),
    );
    expect(given.result.traceparent).toBe(TP);
  });
});
