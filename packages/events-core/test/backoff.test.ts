// The one retry backoff of every package: capped exponential growth, then the jitter share drawn
// from the random source (deterministic when one is given).
import { describe, expect, it } from 'vitest';
import { computeBackoff } from '../src/bus-kit';

const policy = { initialMs: 100, maxMs: 350 };

describe('computeBackoff', () => {
  it('grows by factor per attempt up to the cap (no jitter: exactly the delay)', () => {
    const delays = [0, 1, 2, 3, 10].map((attempt) => computeBackoff(attempt, { ...policy, jitter: 0 }));
    expect(delays).toEqual([100, 200, 350, 350, 350]);
    expect(computeBackoff(2, { initialMs: 100, maxMs: 10_000, factor: 3, jitter: 0 })).toBe(900);
  });

  it('full jitter (the default) is uniform in [0, delay): the draw scales the whole delay', () => {
    expect(computeBackoff(2, policy, () => 0)).toBe(0);
    expect(computeBackoff(2, policy, () => 0.5)).toBe(175);
    expect(computeBackoff(1, policy, () => 0.999_999)).toBe(199);
  });

  it('equal jitter keeps the first half fixed and draws the second', () => {
    const equal = { ...policy, jitter: 0.5 };
    expect(computeBackoff(1, equal, () => 0)).toBe(100);
    expect(computeBackoff(1, equal, () => 0.5)).toBe(150);
    expect(computeBackoff(1, equal, () => 0.999_999)).toBe(199);
  });

  it('a partial jitter (the outbox relay: 0.2) varies the top fifth only', () => {
    expect(computeBackoff(0, { initialMs: 1000, maxMs: 5000, jitter: 0.2 }, () => 0)).toBe(800);
    expect(computeBackoff(0, { initialMs: 1000, maxMs: 5000, jitter: 0.2 }, () => 0.5)).toBe(900);
  });

  it('an initialMs above maxMs is the cap (a server retry: larger than the client maxMs)', () => {
    expect(computeBackoff(3, { initialMs: 60_000, maxMs: 30_000, jitter: 0 })).toBe(60_000);
  });

  it('stays finite for any attempt, an initialMs of 0 included', () => {
    expect(computeBackoff(5000, { ...policy, jitter: 0 })).toBe(350);
    expect(computeBackoff(5000, { initialMs: 0, maxMs: 100, jitter: 0 })).toBe(0);
  });

  it('with Math.random, every delay lies in [delay × (1 − jitter), delay)', () => {
    for (let attempt = 0; attempt < 50; attempt++) {
      const ceiling = Math.min(350, 100 * 2 ** attempt);
      const delay = computeBackoff(attempt, { ...policy, jitter: 0.5 });
      expect(delay).toBeGreaterThanOrEqual(ceiling / 2);
      expect(delay).toBeLessThan(ceiling);
    }
  });
});
