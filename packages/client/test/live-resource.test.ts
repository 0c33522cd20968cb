// createLiveResource against a real sse-express server (memory bus) with a real snapshot endpoint.
import { createMemoryBus } from '@repopulse/bus-memory';
import type { AnyEnvelope } from '@repopulse/events-core';
import { isAfter } from '@repopulse/events-core/wire';
import { cleanupAfterEach } from '@repopulse/test-support/vitest';
import { describe, expect, it } from 'vitest';
import { createLiveResource, type FetchLike, type LiveResourceOptions } from '../src/index';
import { tabSharing } from '../src/share';
import { range, realSleep, until } from './helpers/events';
import { type Snapshot, startSnapshotServer } from './helpers/snapshot-server';

const cleanups = cleanupAfterEach();

async function server(options: Parameters<typeof startSnapshotServer>[0] = {}) {
  const s = await startSnapshotServer(options);
  cleanups.push(() => s.close());
  return s;
}

/** The reducer under test: appends a line once (idempotent by message), counting its calls. */
function reducer() {
  const applied: string[] = [];
  const apply = (state: Snapshot, event: AnyEnvelope) => {
    if (event.type !== 'log.append') return state;
    applied.push(event.payload.message);
    return state.lines.includes(event.payload.message)
      ? state
      : { ...state, lines: [...state.lines, event.payload.message] };
  };
  return { applied, apply };
}

/** The real fetch, recording every chunk of text the stream received (to know what reached the client). */
function observedFetch(): { fetch: FetchLike; text: () => string } {
  let seen = '';
  const decoder = new TextDecoder();
  return {
    text: () => seen,
    fetch: async (input, init) => {
      const res = await fetch(input, init);
      if (!res.body) return res;
      const body = res.body.pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, controller) {
            seen += decoder.decode(chunk, { stream: true });
            controller.enqueue(chunk);
          },
        }),
      );
      return new Response(body, { status: res.status, headers: res.headers });
    },
  };
}

const lines = (n: number, m: number) => range(n, m).map((id) => id.replace('evt-', 'line '));

function live(
  options: Omit<LiveResourceOptions<Snapshot>, 'apply'> & Partial<LiveResourceOptions<Snapshot>>,
) {
  const { apply, applied } = reducer();
  const resource = createLiveResource<Snapshot>({ apply, onError: () => {}, ...options });
  cleanups.push(() => resource.close());
  return { resource, applied };
}

const loader = (url: string) => async (signal: AbortSignal) =>
  (await fetch(url, { signal })).json() as Promise<Snapshot>;

describe('isAfter', () => {
  it.each([
    ['1-0', '', true],
    ['1-1', '1-0', true],
    ['2-0', '1-9', true],
    ['10-0', '9-0', true], // numeric, not lexical
    ['1-0', '1-0', false],
    ['1-0', '1-1', false],
    ['9-5', '10-0', false],
    ['weird', '1-0', true], // an unknown shape is delivered, never dropped
  ])('isAfter(%j, %j) is %s', (a, b, expected) => {
    expect(isAfter(a, b)).toBe(expected);
  });
});

describe('createLiveResource', () => {
  it('loads the snapshot, streams from exactly its position and applies each later event once', async () => {
    const s = await server();
    await s.write(1, 3);
    const { resource, applied } = live({ url: s.url, load: loader(s.snapshotUrl) });
    expect(resource.current).toMatchObject({ loading: true, state: 'connecting', data: undefined });
    await until(() => resource.current.state === 'open', 'open');
    const { position } = resource.current;
    expect(resource.current.data?.lines).toEqual(lines(1, 3));
    expect(s.requests.find((r) => r.accept === 'text/event-stream')?.lastEventId).toBe(position);
    const changes: string[][] = [];
    resource.subscribe(() => changes.push(resource.current.data?.lines ?? []));
    const positions = await s.write(4, 3);
    await until(() => resource.current.data?.lines.length === 6, 'three events');
    expect(resource.current.data?.lines).toEqual(lines(1, 6));
    expect(applied).toEqual(lines(4, 6)); // nothing from before the snapshot reached the reducer
    expect(resource.current.position).toBe(positions[2]);
    expect(resource.current).toMatchObject({ loading: false, error: undefined });
    expect(changes.length).toBeGreaterThanOrEqual(3);
  });

  it('on reset, re-loads while holding new events, then applies only those after the new snapshot', async () => {
    const s = await server({ bus: createMemoryBus({ historyLimit: 3, onError: () => {} }) });
    const seen = observedFetch();
    const [first] = await s.write(1, 6); // history keeps 4..6 only
    let loads = 0;
    let release = () => {};
    const { resource, applied } = live({
      url: s.url,
      fetch: seen.fetch,
      // The first snapshot is stale: its position fell out of history, so the stream resets.
      load: async (signal) => {
        if (++loads === 1) return { position: first as string, lines: lines(1, 1) };
        release = s.hold(); // the second load waits until the test has published more
        return loader(s.snapshotUrl)(signal);
      },
    });
    await until(() => loads === 2 && resource.current.loading, 'the re-load after the reset');
    expect(seen.text()).toContain('event: reset');
    await s.write(7, 2); // these arrive while the re-load is held
    await until(() => seen.text().includes('evt-8'), 'evt-8 to reach the client');
    expect(applied).toEqual([]); // held, not applied to the stale state
    expect(resource.current.data?.lines).toEqual(lines(1, 1));
    await s.write(9); // still held: the snapshot is read after it, so it contains 9
    await until(() => seen.text().includes('evt-9'), 'evt-9 to reach the client');
    const afterSnapshot = s.write(10); // races the snapshot read: in it or applied on top
    release();
    await afterSnapshot;
    await until(() => resource.current.data?.lines.length === 10 && !resource.current.loading, 'all ten');
    expect(resource.current.data?.lines).toEqual(lines(1, 10));
    // Held events at or before the new snapshot's position never reached the reducer.
    expect(applied.filter((line) => line !== 'line 10')).toEqual([]);
    await s.write(11);
    await until(() => resource.current.data?.lines.length === 11, 'live after the reset');
    expect(resource.current.data?.lines).toEqual(lines(1, 11));
  });

  it('refuses a bad URL or option at once with a typed error, before any request', async () => {
    const s = await server();
    let loads = 0;
    const load = async () => {
      loads++;
      return { position: '0-0', lines: [] };
    };
    expect(() => createLiveResource({ url: '/relative/in/node', load, apply: (x) => x })).toThrow(
      expect.objectContaining({ code: 'invalid_argument' }),
    );
    expect(() => createLiveResource({ url: s.url, load, apply: (x) => x, heartbeatTimeoutMs: -1 })).toThrow(
      /heartbeatTimeoutMs/,
    );
    expect(() =>
      createLiveResource({ url: s.url, load, apply: (x) => x, ...({ lastEventID: '1-0' } as object) }),
    ).toThrow(/unknown option lastEventID/);
    await realSleep(30);
    expect(loads).toBe(0);
    expect(s.requests).toHaveLength(0);
  });

  it('share that is not tabSharing() (the old share: true) throws a typed error naming it, loading nothing', async () => {
    const s = await server();
    for (const share of [true, { key: 'k' }])
      expect(() => live({ url: s.url, load: loader(s.snapshotUrl), share: share as never })).toThrow(
        expect.objectContaining({
          code: 'invalid_argument',
          message: expect.stringContaining('tabSharing()'),
        }),
      );
    await realSleep(30);
    expect(s.loads).toBe(0);
    expect(s.requests).toHaveLength(0);
  });

  it('bad share options stop it with the typed error once the snapshot is in, opening nothing', async () => {
    const s = await server();
    const { resource } = live({
      url: s.url,
      load: loader(s.snapshotUrl),
      share: tabSharing({ histroy: 1 } as never),
    });
    await until(() => resource.current.state === 'closed', 'closed');
    expect(resource.current.error).toMatchObject({ code: 'invalid_argument' });
    expect(String(resource.current.error)).toContain('share.histroy');
    expect(s.requests.filter((r) => r.accept === 'text/event-stream')).toHaveLength(0);
  });

  it('a failed load stops it with the error and no stream; reload() starts again', async () => {
    const s = await server();
    await s.write(1);
    let fail = true;
    const { resource } = live({
      url: s.url,
      load: async (signal) => {
        if (fail) throw new Error('snapshot unavailable');
        return loader(s.snapshotUrl)(signal);
      },
    });
    await until(() => resource.current.state === 'closed', 'closed');
    expect(resource.current).toMatchObject({ loading: false, data: undefined });
    expect(resource.current.error).toMatchObject({ message: 'snapshot unavailable' });
    expect(s.requests.filter((r) => r.accept === 'text/event-stream')).toHaveLength(0);
    fail = false;
    resource.reload();
    await until(() => resource.current.state === 'open', 'open after reload');
    expect(resource.current.error).toBeUndefined();
    expect(resource.current.data?.lines).toEqual(lines(1, 1));
  });

  it('reports a fatal stream error through error and state', async () => {
    const s = await server({ authorize: () => false });
    const { resource } = live({ url: s.url, load: loader(s.snapshotUrl) });
    await until(() => resource.current.state === 'closed', 'closed');
    expect(resource.current.error).toMatchObject({ code: 'forbidden', fatal: true });
    expect(resource.current.data?.lines).toEqual([]);
  });

  it('close() mid-load aborts the load and never opens a stream', async () => {
    const s = await server();
    const release = s.hold();
    let signal: AbortSignal | undefined;
    const { resource } = live({
      url: s.url,
      load: (sig) => {
        signal = sig;
        return loader(s.snapshotUrl)(sig);
      },
    });
    await until(() => signal !== undefined, 'load started');
    let notified = 0;
    resource.subscribe(() => notified++);
    resource.close();
    expect(signal?.aborted).toBe(true);
    expect(resource.current.state).toBe('closed');
    release();
    await realSleep(50);
    expect(s.requests.filter((r) => r.accept === 'text/event-stream')).toHaveLength(0);
    expect(s.handler.stats().connections).toBe(0);
    expect(notified).toBe(1); // closed, then nothing
  });

  it('close() while a load ignores its abort signal still never opens a stream', async () => {
    const s = await server();
    let finish: (snapshot: Snapshot) => void = () => {};
    const { resource } = live({
      url: s.url,
      load: () => new Promise((resolve) => (finish = resolve)),
    });
    resource.close();
    finish({ position: '0-0', lines: [] });
    await realSleep(50);
    expect(resource.current).toMatchObject({ state: 'closed', data: undefined });
    expect(s.requests).toHaveLength(0);
  });

  it('close() while streaming ends the connection on the server', async () => {
    const s = await server();
    const { resource } = live({ url: s.url, load: loader(s.snapshotUrl) });
    await until(() => resource.current.state === 'open', 'open');
    expect(s.handler.stats().streams).toBe(1);
    resource.close();
    await until(() => s.handler.stats().streams === 0, 'server to see the close');
    expect(s.bus.stats().subscriptions).toBe(0);
  });

  it('tabSharing() without Web Locks (Node) is an ordinary stream', async () => {
    const s = await server();
    await s.write(1, 2);
    const { resource } = live({ url: s.url, load: loader(s.snapshotUrl), share: tabSharing() });
    await until(() => resource.current.state === 'open', 'open');
    await s.write(3);
    await until(() => resource.current.data?.lines.length === 3, 'event 3');
    expect(resource.current.data?.lines).toEqual(lines(1, 3));
    expect(s.handler.stats().streams).toBe(1);
  });
});
