import { describe, expect, it } from 'vitest';
import { RingBuffer } from '../src/ring-buffer';

const contents = <T>(ring: RingBuffer<T>) => Array.from({ length: ring.length }, (_, i) => ring.at(i));

describe('RingBuffer', () => {
  it('keeps the newest `capacity` items in order and returns what it evicts', () => {
    const ring = new RingBuffer<number>(3);
    expect([ring.push(1), ring.push(2), ring.push(3)]).toEqual([undefined, undefined, undefined]);
    expect(ring.push(4)).toBe(1);
    expect(ring.push(5)).toBe(2);
    expect(contents(ring)).toEqual([3, 4, 5]);
    expect(ring.at(3)).toBeUndefined();
    expect(ring.at(-1)).toBeUndefined();
  });

  it('shifts the oldest and finds the first item past a point by binary search', () => {
    const ring = new RingBuffer<number>(4);
    for (const n of [10, 20, 30, 40, 50, 60]) ring.push(n);
    expect(ring.firstIndexWhere((n) => n >= 45)).toBe(2);
    expect(ring.firstIndexWhere((n) => n > 100)).toBe(4);
    expect(ring.firstIndexWhere(() => true)).toBe(0);
    expect(ring.shift()).toBe(30);
    expect(contents(ring)).toEqual([40, 50, 60]);
    ring.clear();
    expect(ring.length).toBe(0);
    expect(ring.shift()).toBeUndefined();
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new RingBuffer(0)).toThrow(RangeError);
    expect(() => new RingBuffer(1.5)).toThrow(RangeError);
  });
});

describe('RingBuffer storage', () => {
  it('grows with what it holds up to its capacity, and gives storage back as it empties', () => {
    const ring = new RingBuffer<number>(5000);
    expect(ring.slots).toBeLessThanOrEqual(4);
    for (let n = 0; n < 100; n++) ring.push(n);
    expect(ring.slots).toBeGreaterThanOrEqual(100);
    expect(ring.slots).toBeLessThan(256);
    expect(contents(ring)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    for (let n = 0; n < 98; n++) ring.shift();
    expect(contents(ring)).toEqual([98, 99]);
    expect(ring.slots).toBeLessThanOrEqual(8);
    ring.push(100);
    expect(contents(ring)).toEqual([98, 99, 100]);
  });

  it('wraps around in a grown buffer and evicts at capacity', () => {
    const ring = new RingBuffer<number>(6);
    for (let n = 0; n < 4; n++) ring.push(n);
    ring.shift();
    ring.shift();
    for (let n = 4; n < 8; n++) expect(ring.push(n)).toBeUndefined();
    expect(ring.push(8)).toBe(2);
    expect(contents(ring)).toEqual([3, 4, 5, 6, 7, 8]);
    expect(ring.slots).toBe(6);
  });
});
