/** A running watchdog: see {@link watchdog}. */
export interface Watchdog {
  /** True once it aborted the request for silence. */
  fired: boolean;
  /** A byte arrived: silence starts over; `limit` replaces the allowed silence from now on. */
  touch(limit: number): void;
  /** Stops it (the request ended). */
  stop(): void;
}

/**
 * Aborts `controller` once no byte arrived for `ms` (then `limit` from {@link Watchdog.touch}).
 * It compares `Date.now()` at each check, so a timer that fires late (throttled background tab,
 * sleeping laptop) still sees the real silence; it wakes at most once per limit.
 */
export function watchdog(controller: AbortController, ms: number): Watchdog {
  let last = Date.now();
  let limit = ms;
  let timer: ReturnType<typeof setTimeout>;
  const dog: Watchdog = {
    fired: false,
    touch(next) {
      last = Date.now();
      limit = next;
    },
    stop: () => clearTimeout(timer),
  };
  const check = () => {
    const now = Date.now();
    if (now < last) last = now; // the clock was set back: measure from now
    const idle = now - last;
    if (idle < limit) timer = setTimeout(check, limit - idle);
    else {
      dog.fired = true;
      controller.abort();
    }
  };
  timer = setTimeout(check, ms);
  return dog;
}
