// History lost under the hub: a Redis restart without persistence must reach every connection of
// the topic (streams and long-polls) as one explicit reset, then live — never a silent gap.
import { createRedisBus } from '@repopulse/bus-redis';
import type { EventBus } from '@repopulse/events-core';
import { waitFor } from '@repopulse/test-support';
import { afterEach, expect, it } from 'vitest';
// The bus-redis suite's own-server helper: a redis-server on a free port in a temp folder.
import { describeWithRedis, type RedisServer, startRedisServer } from '../../bus-redis/test/redis-server';
import { logEvent, numberOf, publishNumbered } from '../../sse-server/test/helpers/events';
import { openRaw, startRequest } from '../../sse-server/test/helpers/raw-stream';
import { startServer, type TestServer } from './helpers/server';

describeWithRedis('topic hub: Redis restarted without persistence', () => {
  let redis: RedisServer | undefined;
  let bus: EventBus | undefined;
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    await bus?.close();
    await redis?.destroy();
    server = undefined;
    bus = undefined;
    redis = undefined;
  });

  it('every connection of the topic gets one history_lost reset, then live events', async () => {
    redis = await startRedisServer({ appendonly: false });
    bus = createRedisBus({
      url: redis.url,
      keyPrefix: 'hub-restart:',
      publishTimeoutMs: 15_000,
      onError: () => {},
    });
    const b = bus;
    server = await startServer({ bus: b, windowEvents: 16 });
    const s = server;
    const topic = 'repo:volatile';
    const positions = await publishNumbered(b, topic, 0, 5);
    // Streams at different points (in step, from the window, from before it) and a waiting long-poll.
    const streams = await Promise.all([
      openRaw(s.url('volatile')),
      openRaw(s.url('volatile', `?last_event_id=${positions[2]}`)),
      openRaw(s.url('volatile', `?last_event_id=${positions[0]}`)),
    ]);
    await Promise.all(streams.map((c) => c.waitFor((t) => t.includes(': ok'))));
    const [fifth] = await publishNumbered(b, topic, 5, 1);
    await Promise.all(streams.map((c) => c.waitFor((t) => t.includes(`id: ${fifth}\n`))));
    const poll = startRequest(s.url('volatile', `?after=${fifth}&wait=20`), { Accept: 'application/json' });
    await waitFor(() => s.handler.stats().longPolls === 1);

    await redis.restart();
    await Promise.all(streams.map((c) => c.waitFor((t) => t.includes('event: reset'), 15_000)));
    const answer = JSON.parse((await poll.done).text);
    expect(answer.reset).toEqual({ reason: 'history_lost', position: '0-0' });

    const { position: live } = await b.publish(topic, logEvent(100));
    await Promise.all(streams.map((c) => c.waitFor((t) => t.includes(`id: ${live}\n`))));
    for (const c of streams) {
      const blocks = c.blocks().filter((block) => block.event === 'reset' || block.event === 'log.append');
      const resets = blocks.filter((block) => block.event === 'reset');
      expect(resets).toHaveLength(1);
      expect(JSON.parse(resets[0]!.data!)).toEqual({ reason: 'history_lost', position: '0-0' });
      // before the reset: a gap-free run ending at 5; after it: the live event only
      const at = blocks.indexOf(resets[0]!);
      const before = blocks.slice(0, at).map((block) => numberOf(JSON.parse(block.data!)));
      expect(before.at(-1)).toBe(5);
      expect(before).toEqual(before.map((_, i) => before[0]! + i));
      expect(blocks.slice(at + 1).map((block) => numberOf(JSON.parse(block.data!)))).toEqual([100]);
      c.destroy();
    }
  }, 60_000);
});
