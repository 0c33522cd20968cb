/** Something that must happen at a point in time (a token expiring, a long-poll timing out). */
export interface Deadline {
  /** When, in ms since epoch. Only the queue changes it while queued. */
  deadline: number;
  /** Position in the heap; -1 when not queued. Only the queue sets it. */
  heapIndex: number;
  /** Called once when the deadline has passed. */
  onDeadline(now: number): void;
}

/** setTimeout's largest delay. */
const MAX_DELAY = 2 ** 31 - 1;

/**
 * Every deadline of a handler on ONE timer: a min-heap ordered by deadline, with O(log n)
 * removal, and a single `setTimeout` armed for the earliest entry. No per-connection timers.
 */
export class DeadlineQueue {
  private readonly heap: Deadline[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private armedFor = Number.POSITIVE_INFINITY;

  constructor(private readonly now: () => number = Date.now) {}

  /** Number of pending deadlines. */
  get size(): number {
    return this.heap.length;
  }

  /** Queues `item` for `item.deadline` (re-queues it if it already was). */
  add(item: Deadline): void {
    if (item.heapIndex !== -1) this.remove(item);
    item.heapIndex = this.heap.length;
    this.heap.push(item);
    this.up(item.heapIndex);
    this.arm();
  }

  /** Removes `item`; a no-op when it is not queued. */
  remove(item: Deadline): void {
    const index = item.heapIndex;
    if (index === -1 || this.heap[index] !== item) return;
    item.heapIndex = -1;
    const last = this.heap.pop() as Deadline;
    if (index < this.heap.length) {
      this.heap[index] = last;
      last.heapIndex = index;
      this.down(index);
      this.up(last.heapIndex);
    }
    if (this.heap.length === 0) this.disarm();
  }

  /** Stops the timer; queued items are dropped without being called. */
  clear(): void {
    for (const item of this.heap) item.heapIndex = -1;
    this.heap.length = 0;
    this.disarm();
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
    const now = this.now();
    while (this.heap.length > 0 && (this.heap[0] as Deadline).deadline <= now) {
      const item = this.heap[0] as Deadline;
      this.remove(item);
      item.onDeadline(now);
    }
    this.arm();
  };

  private arm(): void {
    const first = this.heap[0];
    if (!first) return;
    if (this.timer && first.deadline >= this.armedFor) return;
    this.disarm();
    this.armedFor = first.deadline;
    this.timer = setTimeout(this.fire, Math.min(MAX_DELAY, Math.max(0, first.deadline - this.now())));
    this.timer.unref?.();
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
  }

  private up(index: number): void {
    const heap = this.heap;
    const item = heap[index] as Deadline;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = heap[parentIndex] as Deadline;
      if (parent.deadline <= item.deadline) break;
      heap[index] = parent;
      parent.heapIndex = index;
      index = parentIndex;
    }
    heap[index] = item;
    item.heapIndex = index;
  }

  private down(index: number): void {
    const heap = this.heap;
    const n = heap.length;
    const item = heap[index] as Deadline;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= n) break;
      const right = left + 1;
      const child =
        right < n && (heap[right] as Deadline).deadline < (heap[left] as Deadline).deadline ? right : left;
      const childItem = heap[child] as Deadline;
      if (childItem.deadline >= item.deadline) break;
      heap[index] = childItem;
      childItem.heapIndex = index;
      index = child;
    }
    heap[index] = item;
    item.heapIndex = index;
  }
}
