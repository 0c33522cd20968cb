// @vitest-environment happy-dom
// useLiveResource rendered with react-dom/client against a real sse-express server and snapshot endpoint.
import type { AnyEnvelope } from '@repopulse/events-core';
import { cleanupAfterEach } from '@repopulse/test-support/vitest';
import { describe, expect, it } from 'vitest';
import { useLiveResource } from '../src/react';
import { tabSharing } from '../src/share';
import { realSleep, until } from './helpers/events';
import { setPageUrl } from './helpers/happy-dom';
import { rootMounter, sync } from './helpers/react-root';
import { type Snapshot, type SnapshotServer, startSnapshotServer } from './helpers/snapshot-server';

const cleanups = cleanupAfterEach();

async function server(): Promise<SnapshotServer> {
  const s = await startSnapshotServer();
  cleanups.push(() => s.close());
  setPageUrl(s.origin);
  return s;
}

const mount = rootMounter(cleanups);

const append = (state: Snapshot, event: AnyEnvelope): Snapshot =>
  event.type === 'log.append' && !state.lines.includes(event.payload.message)
    ? { ...state, lines: [...state.lines, event.payload.message] }
    : state;

function Lines(props: { s: SnapshotServer; loads?: AbortSignal[]; tag?: string }) {
  const { s, loads, tag = '' } = props;
  const { data, state, loading, error } = useLiveResource<Snapshot>({
    url: s.url,
    load: async (signal) => {
      loads?.push(signal);
      return (await fetch(s.snapshotUrl, { signal })).json();
    },
    apply: (state, event) => {
      const next = append(state, event);
      return tag ? { ...next, lines: next.lines.map((l) => (l.endsWith(tag) ? l : l + tag)) } : next;
    },
    share: tabSharing(),
  });
  return (
    <p>
      <b>{state}</b>
      <u>{loading ? 'loading' : 'loaded'}</u>
      <i>{data?.lines.join('|')}</i>
      <s>{error ? String(error) : ''}</s>
    </p>
  );
}

const text = (container: HTMLElement, tag: 'b' | 'i' | 'u' | 's') =>
  container.querySelector(tag)?.textContent ?? '';

describe('useLiveResource', () => {
  it('shows the snapshot, then every event applied once, and closes on unmount', async () => {
    const s = await server();
    await s.write(1, 2);
    const { root, container } = mount();
    sync(() => root.render(<Lines s={s} />));
    expect(text(container, 'u')).toBe('loading');
    await until(() => text(container, 'b') === 'open', 'open');
    expect(text(container, 'i')).toBe('line 1|line 2');
    await s.write(3, 2);
    await until(() => text(container, 'i') === 'line 1|line 2|line 3|line 4', 'events in the DOM');
    expect(text(container, 'u')).toBe('loaded');
    expect(s.handler.stats().streams).toBe(1);
    sync(() => root.unmount());
    await until(() => s.handler.stats().streams === 0, 'the server to see the stream close');
  });

  it('calls the latest apply', async () => {
    const s = await server();
    const { root, container } = mount();
    sync(() => root.render(<Lines s={s} />));
    await until(() => text(container, 'b') === 'open', 'open');
    sync(() => root.render(<Lines s={s} tag="!" />));
    await s.write(1);
    await until(() => text(container, 'i') === 'line 1!', 'applied by the latest reducer');
  });

  it('unmounting mid-load aborts the load and never opens a stream', async () => {
    const s = await server();
    const release = s.hold();
    const loads: AbortSignal[] = [];
    const { root } = mount();
    sync(() => root.render(<Lines s={s} loads={loads} />));
    await until(() => loads.length === 1, 'load started');
    sync(() => root.unmount());
    expect(loads[0]?.aborted).toBe(true);
    release();
    await realSleep(50);
    expect(s.requests.filter((r) => r.accept === 'text/event-stream')).toHaveLength(0);
    expect(s.handler.stats().connections).toBe(0);
  });
});
