/**
 * Runs `run` when {@link CoalescedRuns.request}ed, one run at a time and at most one start per
 * `intervalMs`: a request while idle and after a quiet interval runs right after the current task
 * (no delay); requests made in the same task, while a run is in flight, or sooner than `intervalMs`
 * after the last start are served together by one later run. Nothing runs without a request.
 */
export class CoalescedRuns {
  private requested = false;
  private running: Promise<void> | undefined;
  private timer: ReturnType<typeof setTimeout> | ReturnType<typeof setImmediate> | undefined;
  /** The wait before the next run (the interval, or the current task) is over. */
  private waited = false;
  private lastStart = Number.NEGATIVE_INFINITY;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly intervalMs: number,
    private readonly run: () => Promise<void>,
  ) {}

  /** Asks for a run: now if allowed, else as soon as the interval and the run in flight allow. */
  request(): void {
    this.requested = true;
    this.schedule();
  }

  /** Resolves once nothing is requested, waiting or in flight (a request made before it has run). */
  idle(): Promise<void> {
    if (!this.requested && !this.running && !this.timer) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private schedule(): void {
    if (this.running || this.timer) return;
    if (!this.requested) {
      for (const resolve of this.idleWaiters.splice(0)) resolve();
      return;
    }
    if (!this.waited) {
      // After the current task: the requests it makes (one per topic a commit woke) go together.
      this.waited = true;
      const wait = this.lastStart + this.intervalMs - Date.now();
      const next = () => {
        this.timer = undefined;
        this.schedule();
      };
      this.timer = wait > 0 ? setTimeout(next, wait) : setImmediate(next);
      return;
    }
    this.waited = false;
    this.requested = false;
    this.lastStart = Date.now();
    this.running = this.run()
      .catch(() => {}) // `run` reports its own failures
      .finally(() => {
        this.running = undefined;
        this.schedule();
      });
  }
}
