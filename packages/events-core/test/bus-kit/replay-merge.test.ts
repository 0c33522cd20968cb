import {
  type BusDelivery,
  createEvent,
  type EventDelivery,
  type StreamPosition,
} from '@repopulse/events-core';
import {
  REPLAY_PAGE_SIZE,
  type ReadResult,
  ReplayMerge,
  type ReplayMergeHost,
} from '@repopulse/events-core/bus-kit';
import { describe, expect, it } from 'vitest';

const event = createEvent('log.append', { level: 'info', message: 'x' });
const at = (n: number): EventDelivery => ({ position: `1-${n}`, event });

/**
 * A store of events at `1-0 … 1-(n-1)` behind a host whose reads resolve only when the test says so,
 * so a test can place live events exactly between a read and its answer.
 */
function scriptedHost() {
  const stored: EventDelivery[] = [];
  const delivered: BusDelivery[] = [];
  const reads: { cursor: StreamPosition; answer: () => void; fail: (error: unknown) => void }[] = [];
  const failures: unknown[] = [];
  let live = true;
  let lost = false;
  const readNow = (cursor: StreamPosition, limit: number): ReadResult => {
    const kept = lost ? [] : stored;
    const head = kept.at(-1)?.position ?? '0-0';
    const index = kept.findIndex((d) => d.position === cursor);
    const from = cursor === '0-0' ? 0 : index + 1;
    return {
      head,
      oldest: kept[0]?.position,
      trimmed: false,
      floor: undefined,
      holdsCursor: index >= 0,
      entries: index < 0 && cursor !== '0-0' ? [] : kept.slice(from, from + limit),
    };
  };
  const host: ReplayMergeHost = {
    read: (cursor, limit) =>
      new Promise((resolve, reject) => {
        reads.push({ cursor, answer: () => resolve(readNow(cursor, limit)), fail: reject });
      }),
    head: async () => (lost ? '0-0' : (stored.at(-1)?.position ?? '0-0')),
    deliver: (d) => delivered.push(d),
    replayFailed: (error) => failures.push(error),
    isLive: () => live,
    retryDelay: async () => {},
  };
  return {
    host,
    stored,
    delivered,
    reads,
    failures,
    store: (n: number) => {
      const d = at(n);
      stored.push(d);
      return d;
    },
    setLive: (value: boolean) => {
      live = value;
    },
    loseHistory: () => {
      lost = true;
    },
    /** A merge from `after` whose first catch-up has run to the end. */
    async started(after: string | undefined) {
      const merge = new ReplayMerge(host, after);
      const start = merge.start();
      await this.drain();
      await start;
      return merge;
    },
    /** Answers pending reads until none is left (reads started by answers included). */
    async drain() {
      for (let i = 0; i < 100; i++) {
        await new Promise((resolve) => setImmediate(resolve));
        const next = reads.shift();
        if (!next) return;
        next.answer();
      }
    },
    positions: () => delivered.map((d) => (d.reset ? `reset:${d.reason}` : d.position)),
  };
}

describe('ReplayMerge', () => {
  it('holds live events back while the replay is read, then delivers each position once, in order', async () => {
    const h = scriptedHost();
    for (let n = 0; n < 3; n++) h.store(n);
    const merge = new ReplayMerge(h.host, '1-0');
    const started = merge.start();
    // Published while the read is in flight: 1-3 is in the store *and* arrives live; 1-4 only live.
    merge.onLive(h.store(3));
    const late = at(4);
    merge.onLive(late);
    await h.drain();
    await started;
    expect(h.positions()).toEqual(['1-1', '1-2', '1-3', '1-4']);
    merge.onLive(at(4)); // a duplicate arriving late
    merge.onLive(at(5));
    expect(h.positions()).toEqual(['1-1', '1-2', '1-3', '1-4', '1-5']);
  });

  it('a drop is one history_lost reset at the new head, then live; an older or repeated drop is ignored', async () => {
    const h = scriptedHost();
    for (let n = 0; n < 3; n++) h.store(n);
    const merge = await h.started('1-0');
    merge.onDropped('1-5');
    merge.onDropped('1-5'); // the same drop heard twice
    merge.onLive(at(4)); // from before the drop: already covered by the reset
    merge.onLive(at(6));
    expect(h.positions()).toEqual(['1-1', '1-2', 'reset:history_lost', '1-6']);
    expect(h.delivered[2]).toEqual({ reset: true, position: '1-5', reason: 'history_lost' });
    expect(merge.position).toBe('1-6');
  });

  it('a drop heard while catching up is held in order with the live events around it', async () => {
    const h = scriptedHost();
    for (let n = 0; n < 3; n++) h.store(n);
    const merge = new ReplayMerge(h.host, '1-0');
    const started = merge.start();
    merge.onLive(h.store(3));
    merge.onDropped('1-4');
    merge.onLive(at(5));
    await h.drain();
    await started;
    expect(h.positions()).toEqual(['1-1', '1-2', '1-3', 'reset:history_lost', '1-5']);
  });

  it('a drop the catch-up already read past (its reset came from the store) gives no second reset', async () => {
    const h = scriptedHost();
    for (let n = 0; n < 3; n++) h.store(n);
    const merge = new ReplayMerge(h.host, 'garbage');
    const started = merge.start();
    merge.onDropped('1-1'); // before the head the malformed reset is decided at (1-2)
    await h.drain();
    await started;
    expect(h.positions()).toEqual(['reset:malformed']);
  });

  it('pages through a replay longer than one page', async () => {
    const h = scriptedHost();
    const total = REPLAY_PAGE_SIZE * 2 + 10;
    for (let n = 0; n < total; n++) h.store(n);
    const merge = new ReplayMerge(h.host, '0-0');
    const started = merge.start();
    await h.drain();
    await started;
    expect(h.delivered).toHaveLength(total);
    expect(h.positions().at(-1)).toBe(`1-${total - 1}`);
    expect(new Set(h.positions()).size).toBe(total);
  });

  it('a live-only subscription starts at the head and ignores what came before', async () => {
    const h = scriptedHost();
    h.store(0);
    const merge = new ReplayMerge(h.host, undefined);
    await merge.start();
    merge.onLive(at(0));
    merge.onLive(at(1));
    expect(h.positions()).toEqual(['1-1']);
  });

  it('a malformed resume point is one reset at the head, then live', async () => {
    const h = scriptedHost();
    h.store(0);
    const merge = new ReplayMerge(h.host, 'yesterday');
    await merge.start();
    merge.onLive(at(1));
    expect(h.delivered[0]).toEqual({ reset: true, position: '1-0', reason: 'malformed' });
    expect(h.positions()).toEqual(['reset:malformed', '1-1']);
  });

  it('after an interruption it buffers, catches up from the last delivered position, then goes live', async () => {
    const h = scriptedHost();
    h.store(0);
    const merge = await h.started('0-0');
    merge.pause();
    h.setLive(false);
    h.store(1); // missed while down: only in the store
    merge.onLive(h.store(2)); // arrived live while down
    expect(h.positions()).toEqual(['1-0']);
    h.setLive(true);
    merge.catchUp();
    expect(h.reads.at(-1)?.cursor).toBe('1-0');
    await h.drain();
    merge.onLive(at(3));
    expect(h.positions()).toEqual(['1-0', '1-1', '1-2', '1-3']);
  });

  it('keeps buffering when live delivery is still down after a catch-up, until the next one', async () => {
    const h = scriptedHost();
    h.setLive(false);
    const merge = await h.started('0-0');
    merge.onLive(h.store(0));
    expect(h.delivered).toEqual([]);
    h.setLive(true);
    merge.catchUp();
    await h.drain();
    expect(h.positions()).toEqual(['1-0']);
  });

  it('retries a failed catch-up and reports the failure', async () => {
    const h = scriptedHost();
    const merge = new ReplayMerge(h.host, undefined);
    await merge.start();
    merge.pause();
    h.store(0);
    merge.catchUp();
    await new Promise((resolve) => setImmediate(resolve));
    h.reads.shift()?.fail(new Error('connection lost'));
    await h.drain();
    expect(h.failures).toEqual([new Error('connection lost')]);
    expect(h.positions()).toEqual(['1-0']);
  });

  it('a catch-up that finds its history gone is a history_lost reset at the new head', async () => {
    const h = scriptedHost();
    h.store(0);
    const merge = await h.started('0-0');
    merge.pause();
    h.loseHistory();
    merge.catchUp();
    await h.drain();
    expect(h.delivered.at(-1)).toEqual({ reset: true, position: '0-0', reason: 'history_lost' });
  });

  it('delivers nothing once inactive, not even a replay in flight', async () => {
    const h = scriptedHost();
    h.store(0);
    const merge = new ReplayMerge(h.host, '0-0');
    const started = merge.start();
    merge.active = false;
    await h.drain();
    await started;
    merge.onLive(at(1));
    expect(h.delivered).toEqual([]);
  });
});
