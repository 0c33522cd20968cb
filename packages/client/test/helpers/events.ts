import type { AnyEnvelope } from '@repopulse/events-core';
import type { EventStream, EventStreamState } from '../../src/index';

/** A minimal valid envelope for frames written by hand (no events-core runtime needed). */
export function envelope(n: number, type = 'log.append'): AnyEnvelope {
  return {
    id: `evt-${n}`,
    type,
    ts: 1_700_000_000_000 + n,
    repo_id: '1',
    payload: { level: 'info', message: `line ${n}` },
  } as AnyEnvelope;
}

/** One SSE frame as sse-express writes it. */
export function frame(position: string, n: number, type = 'log.append'): string {
  return `id: ${position}\nevent: ${type}\ndata: ${JSON.stringify(envelope(n, type))}\n\n`;
}

/** Resolves when `predicate` holds, checked on every item; rejects after `ms` with `what`. */
export function collect(stream: {
  on(type: '*', handler: (event: AnyEnvelope, position: string) => void): () => void;
}) {
  const items: { position: string; event: AnyEnvelope }[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  stream.on('*', (event, position) => {
    items.push({ position, event });
    for (const waiter of [...waiters]) {
      if (items.length >= waiter.count) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  });
  return {
    items,
    /** Resolves once `count` events arrived. */
    waitFor(count: number): Promise<void> {
      if (items.length >= count) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ count, resolve }));
    },
  };
}

// Captured at load so helpers keep working while a test fakes timers.
const realSetTimeout = globalThis.setTimeout;

/** Waits `ms` of real time, even under fake timers. */
export function realSleep(ms: number): Promise<void> {
  return new Promise((resolve) => realSetTimeout(resolve, ms));
}

/** Resolves when `fn` returns true (checked every 5 ms of real time); rejects after `timeoutMs`. */
export async function until(fn: () => boolean, what = 'condition', timeoutMs = 10_000): Promise<void> {
  for (let waited = 0; !fn(); waited += 5) {
    if (waited > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await realSleep(5);
  }
}

/** Resolves when the stream reaches `state` (at once if it is there already). */
export function waitForState(stream: EventStream, state: EventStreamState): Promise<void> {
  if (stream.state === state) return Promise.resolve();
  return new Promise((resolve) => {
    const off = stream.onState((next) => {
      if (next !== state) return;
      off();
      resolve();
    });
  });
}

/** The event ids of collected items, in order. */
export const ids = (items: { event: { id: string } }[]): string[] => items.map((i) => i.event.id);

/** `['evt-<from>', …, 'evt-<to>']`, the ids {@link envelope} gives. */
export const range = (from: number, to: number): string[] =>
  Array.from({ length: to - from + 1 }, (_, i) => `evt-${from + i}`);
