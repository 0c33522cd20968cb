// @vitest-environment happy-dom
// useEventStream rendered with react-dom/client against a real sse-express server.

import { cleanupAfterEach } from '@repopulse/test-support/vitest';
import { useEffect, useState } from 'react';
import { describe, expect, it } from 'vitest';
import type { EventStreamError } from '../src/index';
import { useEventStream } from '../src/react';
import { tabSharing } from '../src/share';
import { until } from './helpers/events';
import { setPageUrl } from './helpers/happy-dom';
import { serverStarter } from './helpers/harness';
import { rootMounter, sync } from './helpers/react-root';

const cleanups = cleanupAfterEach();

const server = serverStarter(cleanups, (s) => setPageUrl(s.origin));

const mount = rootMounter(cleanups);

function Log({
  url,
  onError,
  share,
}: {
  url: string | null;
  onError?: (e: EventStreamError) => void;
  share?: boolean;
}) {
  const [lines, setLines] = useState<string[]>([]);
  const { state, on } = useEventStream(url, {
    lastEventId: '0-0',
    onError,
    ...(share && { share: tabSharing() }),
  });
  useEffect(() => on('log.append', (event) => setLines((all) => [...all, event.payload.message])), [on]);
  return (
    <p>
      <b>{state}</b>
      <i>{lines.join('|')}</i>
    </p>
  );
}

const text = (container: HTMLElement, tag: 'b' | 'i') => container.querySelector(tag)?.textContent ?? '';

describe('useEventStream', () => {
  it('reports the state, delivers typed events to subscribers, and closes on unmount', async () => {
    const s = await server();
    const { root, container } = mount();
    sync(() => root.render(<Log url={s.url} />));
    expect(text(container, 'b')).toBe('connecting');
    await until(() => text(container, 'b') === 'open', 'open');
    await s.publish(1, 2);
    await until(() => text(container, 'i') === 'line 1|line 2', 'events in the DOM');
    expect(s.handler.stats().streams).toBe(1);
    sync(() => root.unmount());
    await until(() => s.handler.stats().streams === 0, 'the server to see the stream close');
    expect(s.requests).toHaveLength(1);
  });

  it('reconnects to a new URL, keeping subscriptions, and stays closed for a null URL', async () => {
    const s = await server();
    const { root, container } = mount();
    sync(() => root.render(<Log url={null} />));
    expect(text(container, 'b')).toBe('closed');
    sync(() => root.render(<Log url={s.url} />));
    await until(() => text(container, 'b') === 'open', 'open');
    await s.publish(1);
    await until(() => text(container, 'i') === 'line 1', 'first event');
    sync(() => root.render(<Log url={`${s.url}?v=2`} />));
    await until(() => s.requests.length === 2 && text(container, 'b') === 'open', 'second stream');
    expect(s.handler.stats().streams).toBe(1);
    await s.publish(2);
    // The new stream starts again from lastEventId 0-0: it replays line 1, then line 2.
    await until(() => text(container, 'i') === 'line 1|line 1|line 2', 'events after the switch');
    sync(() => root.render(<Log url={null} />));
    await until(() => text(container, 'b') === 'closed' && s.handler.stats().streams === 0, 'closed');
  });

  it('passes errors to the latest onError and shows the fatal state', async () => {
    const s = await server({ authorize: () => false });
    const seen: string[] = [];
    const { root, container } = mount();
    sync(() => root.render(<Log url={s.url} onError={(e) => seen.push(`first:${e.code}`)} />));
    sync(() => root.render(<Log url={s.url} onError={(e) => seen.push(`latest:${e.code}`)} />));
    await until(() => text(container, 'b') === 'closed', 'closed');
    expect(seen).toEqual(['latest:forbidden']);
    expect(s.requests).toHaveLength(1);
  });

  it('accepts share: tabSharing() (here without Web Locks: a stream of its own)', async () => {
    const s = await server();
    const { root, container } = mount();
    sync(() => root.render(<Log url={s.url} share />));
    await until(() => text(container, 'b') === 'open', 'open');
    await s.publish(1, 2);
    await until(() => text(container, 'i') === 'line 1|line 2', 'events in the DOM');
    sync(() => root.unmount());
    await until(() => s.handler.stats().streams === 0, 'the server to see the stream close');
  });
});
