/** Slots a {@link RingBuffer} starts with, and never shrinks below. */
const MIN_SLOTS = 4;

/**
 * A FIFO of at most `capacity` items: pushing onto a full buffer evicts the oldest item. Items are
 * kept in insertion order and addressed from the oldest (`at(0)`) to the newest (`at(length - 1)`).
 *
 * Storage grows with what it holds, not with `capacity`: the slot array starts small, doubles when
 * full (up to `capacity`), and halves when a quarter or less of it is used, so an empty buffer costs
 * a few slots whatever its capacity.
 */
export class RingBuffer<T> {
  private items: (T | undefined)[];
  private start = 0;
  private size = 0;

  /** @param capacity - The most items held; pushing more evicts the oldest. */
  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError('capacity must be a positive integer');
    this.items = new Array(Math.min(capacity, MIN_SLOTS));
  }

  /** Number of items held. */
  get length(): number {
    return this.size;
  }

  /** Slots allocated now (between `length` and `capacity`): what the buffer costs. */
  get slots(): number {
    return this.items.length;
  }

  /** Appends `item`; returns the evicted oldest item when the buffer was full. */
  push(item: T): T | undefined {
    if (this.size === this.items.length && this.size < this.capacity) {
      this.resize(Math.min(this.capacity, this.items.length * 2));
    }
    const slots = this.items.length;
    if (this.size < slots) {
      this.items[(this.start + this.size++) % slots] = item;
      return undefined;
    }
    const evicted = this.items[this.start];
    this.items[this.start] = item;
    this.start = (this.start + 1) % slots;
    return evicted;
  }

  /** The item at `index` (0 = oldest), or `undefined` when out of range. */
  at(index: number): T | undefined {
    if (index < 0 || index >= this.size) return undefined;
    return this.items[(this.start + index) % this.items.length];
  }

  /** Removes the oldest item and returns it. */
  shift(): T | undefined {
    if (this.size === 0) return undefined;
    const item = this.items[this.start];
    this.items[this.start] = undefined;
    this.start = (this.start + 1) % this.items.length;
    this.size--;
    if (this.items.length > MIN_SLOTS && this.size * 4 <= this.items.length) {
      this.resize(Math.max(MIN_SLOTS, this.items.length >>> 1));
    }
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

  /** Drops every item and gives the storage back. */
  clear(): void {
    this.items = new Array(Math.min(this.capacity, MIN_SLOTS));
    this.start = 0;
    this.size = 0;
  }

  /** Moves the items, oldest first, into a new slot array of `slots` (≥ `length`). */
  private resize(slots: number): void {
    const items: (T | undefined)[] = new Array(slots);
    for (let i = 0; i < this.size; i++) items[i] = this.at(i);
    this.items = items;
    this.start = 0;
  }
}
