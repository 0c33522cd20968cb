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
