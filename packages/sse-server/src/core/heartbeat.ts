/**
 * One interval per handler, running only while streams are open. Each tick visits the streams;
 * the callback writes a comment to those idle for `heartbeatMs`. Ticks every `heartbeatMs / 2`,
 * so an idle stream hears something within 1.5 × `heartbeatMs` and a busy one never does.
 */
export class HeartbeatTimer {
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly heartbeatMs: number,
    private readonly tick: (now: number) => void,
  ) {}

  /** True while running. */
  get running(): boolean {
    return this.timer !== undefined;
  }

  /** Starts ticking (no-op when running). */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(Date.now()), Math.max(5, Math.floor(this.heartbeatMs / 2)));
    this.timer.unref?.();
  }

  /** Stops ticking. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
