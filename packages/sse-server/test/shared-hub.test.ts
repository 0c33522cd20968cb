// One topic hub per topic per process: handlers of different adapters on the same bus share the
// hub (one bus subscription, one window); handlers on different buses do not.
import { createServer } from 'node:http';
import { createMemoryBus } from '@repopulse/bus-memory';
import { listenTracked, type TrackedServer, waitFor } from '@repopulse/test-support';
import { cleanupAfterEach } from '@repopulse/test-support/vitest';
import { describe, expect, it } from 'vitest';
import { createFetchHandler, type FetchHandler } from '../src/fetch/index';
import { createNodeHandler, type NodeHandler } from '../src/node/index';
import { countingBus, logEvent, uniqueTopic } from './helpers/events';
import { openRaw, parseBlocks } from './helpers/raw-stream';

/** Reads a Fetch SSE body into text until `until(text)` holds. */
async function readUntil(response: Response, until: (text: string) => boolean): Promise<string> {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = '';
  while (!until(text)) {
    const { done, value } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  reader.releaseLock();
  return text;
}

describe('one topic hub per topic per process', () => {
  const cleanups = cleanupAfterEach();

  async function nodeServer(events: NodeHandler): Promise<TrackedServer> {
    const listening = await listenTracked(createServer(events));
    cleanups.push(() => listening.close());
    return listening;
  }

  it('a node handler and a fetch handler on the same bus share one subscription and one window', async () => {
    const memory = createMemoryBus();
    const { bus, calls } = countingBus(memory);
    const topic = uniqueTopic('shared');
    const nodeEvents = createNodeHandler({ bus, topic });
    const fetchEvents: FetchHandler = createFetchHandler({ bus, topic });
    cleanups.push(
      () => memory.close(),
      () => nodeEvents.close(),
      () => fetchEvents.close(),
    );
    const { origin } = await nodeServer(nodeEvents);

    const viaNode = await openRaw(`${origin}/`);
    const abort = new AbortController();
    const viaFetch = await fetchEvents(new Request('http://x/', { signal: abort.signal }));
    await waitFor(() => nodeEvents.stats().streams === 1 && fetchEvents.stats().streams === 1, {
      what: 'a stream on each handler',
    });
    expect(calls).toEqual({ subscribe: 1, head: 1 });
    expect(memory.stats().subscriptions).toBe(1);

    const published = [];
    for (let i = 1; i <= 3; i++) published.push((await bus.publish(topic, logEvent(i))).position);
    await viaNode.waitFor(() => viaNode.blocks().filter((b) => b.event === 'log.append').length === 3);
    const fetchText = await readUntil(viaFetch, (text) => parseBlocks(text).filter((b) => b.id).length === 3);
    expect(parseBlocks(fetchText).flatMap((b) => (b.id ? [b.id] : []))).toEqual(published);

    // A fetch stream resuming inside the window is served from the shared window: no bus read.
    const resumed = await fetchEvents(
      new Request('http://x/', { headers: { 'Last-Event-ID': published[0] as string } }),
    );
    const resumedText = await readUntil(
      resumed,
      (text) => parseBlocks(text).filter((b) => b.id).length === 2,
    );
    expect(parseBlocks(resumedText).flatMap((b) => (b.id ? [b.id] : []))).toEqual(published.slice(1));
    expect(calls.subscribe).toBe(1);
    expect(fetchEvents.stats()).toMatchObject({ catchUpReads: 0, streams: 2, topics: 1 });
    expect(nodeEvents.stats()).toMatchObject({ streams: 1, topics: 1 });
    await resumed.body?.cancel();

    // The hub lives while any handler has a reader in it.
    viaNode.destroy();
    await waitFor(() => nodeEvents.stats().streams === 0, { what: 'the node stream closed' });
    expect(memory.stats().subscriptions).toBe(1);
    abort.abort();
    await waitFor(() => fetchEvents.stats().streams === 0, { what: 'the fetch streams closed' });
    await waitFor(() => memory.stats().subscriptions === 0, { what: 'the hub closed' });
  });

  it('handlers on different buses have hubs of their own', async () => {
    const first = countingBus(createMemoryBus());
    const second = countingBus(createMemoryBus());
    const topic = uniqueTopic('apart');
    const a = createNodeHandler({ bus: first.bus, topic });
    const b = createNodeHandler({ bus: second.bus, topic });
    cleanups.push(
      () => first.bus.close(),
      () => second.bus.close(),
      () => a.close(),
      () => b.close(),
    );
    const [serverA, serverB] = [await nodeServer(a), await nodeServer(b)];
    const streams = [await openRaw(`${serverA.origin}/`), await openRaw(`${serverB.origin}/`)];
    await waitFor(() => a.stats().streams === 1 && b.stats().streams === 1, { what: 'both streams' });
    expect([first.calls.subscribe, second.calls.subscribe]).toEqual([1, 1]);
    await first.bus.publish(topic, logEvent(1));
    await streams[0]!.waitFor((text) => text.includes('event: log.append'));
    expect(streams[1]!.text).not.toContain('event: log.append');
    for (const s of streams) s.destroy();
  });
});
