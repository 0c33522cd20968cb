/**
 * A fixed-capacity FIFO: pushing onto a full buffer evicts the oldest item. Items are kept in
 * insertion order and addressed from the oldest (`at(0)`) to the newest (`at(length - 1)`).
 */
export class RingBuffer<T> {
  private readonly items: (T | undefined)[];
  private start = 0;
  private size = 0;

  /** @param capacity - The most items held; pushing more evicts the oldest. */
  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError('capacity must be a positive integer');
    this.items = new Array(capacity);
  }

  /** Number of items held. */
  get length(): number {
    return this.size;
  }

  /** Appends `item`; returns the evicted oldest item when the buffer was full. */
  push(item: T): T | undefined {
    if (this.size < this.capacity) {
      this.items[(this.start + this.size++) % this.capacity] = item;
      return undefined;
    }
    const evicted = this.items[this.start];
    this.items[this.start] = item;
    this.start = (this.start + 1) % this.capacity;
    return evicted;
  }

  /** The item at `index` (0 = oldest), or `undefined` when out of range. */
  at(index: number): T | undefined {
    if (index < 0 || index >= this.size) return undefined;
    return this.items[(this.start + index) % this.capacity];
  }

  /** Removes the oldest item and returns it. */
  shift(): T | undefined {
    if (this.size === 0) return undefined;
    const item = this.items[this.start];
    this.items[this.start] = undefined;
    this.start = (this.start + 1) % this.capacity;
    this.size--;
    return item;
  }

  /** Index of the first item for which `isAfter` is true, assuming items are sorted by it (binary search). */
  firstIndexWhere(isAfter: (item: T) => boolean): number {
    let lo = 0;
    let hi = this.size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (isAfter(this.at(mid) as T)) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** Drops every item. */
  clear(): void {
    this.items.fill(undefined);
    this.start = 0;
    this.size = 0;
  }
}
