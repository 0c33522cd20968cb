// snapshotInstruments against the real OpenTelemetry SDK: one snapshot per collection however many
// instruments read it, async snapshots, a failed snapshot reports nothing, dispose stops reporting,
// several components on one name summed.
import * as api from '@opentelemetry/api';
import { createTestOpenTelemetry, metricValue } from '@repopulse/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { snapshotInstruments } from '../../src/otel';

const otel = createTestOpenTelemetry();
beforeAll(() => otel.start(() => {}));
afterAll(() => otel.stop(() => {}));

let meters = 0;
const meter = () => api.metrics.getMeter(`snapshot-instruments-${++meters}`);

describe('snapshotInstruments', () => {
  it('takes one snapshot per collection, shared by every instrument, and reports gauges and totals', async () => {
    let taken = 0;
    const state = { open: 3, opened: 10 };
    const instruments = snapshotInstruments(meter(), () => {
      taken++;
      return { ...state };
    });
    instruments.observe('gauge', 'test.sync.open', 'Open things.', '{thing}', (s, r) => r.observe(s.open));
    instruments.observe('total', 'test.sync.opened', 'Things opened.', '{thing}', (s, r) => {
      r.observe(s.opened - 1, { kind: 'a' });
      r.observe(1, { kind: 'b' });
    });
    const first = await otel.collect();
    expect(taken).toBe(1);
    expect(metricValue(first, 'test.sync.open')).toBe(3);
    expect(metricValue(first, 'test.sync.opened', { kind: 'a' })).toBe(9);
    expect(metricValue(first, 'test.sync.opened')).toBe(10);

    state.open = 1;
    state.opened = 12;
    await new Promise((resolve) => setTimeout(resolve, 5)); // the next collection is a new one
    const second = await otel.collect();
    expect(taken).toBe(2);
    expect(metricValue(second, 'test.sync.open')).toBe(1);
    expect(metricValue(second, 'test.sync.opened')).toBe(12);
    instruments.dispose();
  });

  it('waits for an async snapshot, and reports nothing for one that fails', async () => {
    const instruments = snapshotInstruments(meter(), async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      return { pending: 7 };
    });
    instruments.observe('gauge', 'test.async.pending', 'Pending things.', '{thing}', (s, r) =>
      r.observe(s.pending),
    );
    expect(metricValue(await otel.collect(), 'test.async.pending')).toBe(7);
    instruments.dispose();

    const failing = snapshotInstruments(meter(), async () => {
      throw new Error('the store is down');
    });
    failing.observe(
      'gauge',
      'test.failing.pending',
      'Pending things.',
      '{thing}',
      (s: { pending: number }, r) => r.observe(s.pending),
    );
    expect(metricValue(await otel.collect(), 'test.failing.pending')).toBeUndefined();
    failing.dispose();
  });

  it('sums the components that observe one name on one meter; a stopped one stays in a total', async () => {
    const shared = meter();
    const component = (state: { open: number; opened: number }) => {
      const instruments = snapshotInstruments(shared, () => ({ ...state }));
      instruments.observe('gauge', 'test.shared.open', 'Open things.', '{thing}', (s, r) =>
        r.observe(s.open),
      );
      instruments.observe('total', 'test.shared.opened', 'Things opened.', '{thing}', (s, r) => {
        r.observe(s.opened, { kind: 'a' });
      });
      return instruments;
    };
    const first = { open: 2, opened: 5 };
    const second = { open: 3, opened: 7 };
    const one = component(first);
    const two = component(second);
    let collected = await otel.collect();
    expect(metricValue(collected, 'test.shared.open')).toBe(5);
    expect(metricValue(collected, 'test.shared.opened', { kind: 'a' })).toBe(12);

    first.opened = 6; // counted after the last collection, then the component stops
    one.dispose();
    await new Promise((resolve) => setTimeout(resolve, 5));
    collected = await otel.collect();
    expect(metricValue(collected, 'test.shared.open')).toBe(3);
    expect(metricValue(collected, 'test.shared.opened', { kind: 'a' })).toBe(13);
    two.dispose(); // none left: the gauge reads 0 (the SDK would repeat its last value), the total stays
    await new Promise((resolve) => setTimeout(resolve, 5));
    collected = await otel.collect();
    expect(metricValue(collected, 'test.shared.open')).toBe(0);
    expect(metricValue(collected, 'test.shared.opened', { kind: 'a' })).toBe(13);
  });

  it('stops reporting after dispose', async () => {
    let taken = 0;
    const instruments = snapshotInstruments(meter(), () => ++taken);
    instruments.observe('total', 'test.disposed.reads', 'Reads.', '{read}', (s, r) => r.observe(s));
    await otel.collect();
    expect(taken).toBe(1);
    instruments.dispose(); // takes the final value of its total
    const atDispose = taken;
    await new Promise((resolve) => setTimeout(resolve, 5));
    await otel.collect();
    expect(taken).toBe(atDispose);
  });
});
