// Options are checked by every adapter, naming its factory; maxDurationMs is validated.
import { createMemoryBus } from '@repopulse/bus-memory';
import { isRepoPulseError, OptionsError } from '@repopulse/events-core';
import { afterAll, describe, expect, it } from 'vitest';
import { createFastifyHandler } from '../src/fastify/index';
import { createFetchHandler } from '../src/fetch/index';
import { createNodeHandler } from '../src/node/index';

const bus = createMemoryBus();
afterAll(() => bus.close());

describe('options', () => {
  it.each([
    ['createNodeHandler', createNodeHandler],
    ['createFetchHandler', createFetchHandler],
    ['createFastifyHandler', createFastifyHandler],
  ] as const)('%s refuses unknown and unusable options with an OptionsError naming it', (name, create) => {
    const make = create as unknown as (options: Record<string, unknown>) => unknown;
    for (const [options, code] of [
      [{ bus, topic: 't', heartbeatMS: 5 }, 'unknown_option'],
      [{ topic: 't' }, 'missing_option'],
      [{ bus, topic: 't', maxDurationMs: 0 }, 'invalid_option'],
      [{ bus, topic: 't', maxDurationMs: Number.POSITIVE_INFINITY }, 'invalid_option'],
      [{ bus, topic: 't', maxDurationMs: '60s' }, 'invalid_option'],
    ] as const) {
      let thrown: unknown;
      try {
        make(options);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(OptionsError);
      expect(isRepoPulseError(thrown, code)).toBe(true);
      expect((thrown as Error).message).toMatch(new RegExp(`^\\[repopulse\\] ${name}`));
    }
  });

  it('a fetch handler takes the same callbacks with the request and the second argument', async () => {
    const seen: unknown[] = [];
    const events = createFetchHandler<{ id: string }>({
      bus,
      topic: (_request, params) => `repo:${params.id}`,
      authorize: (request, { topic }, params) => {
        seen.push(new URL(request.url).pathname, topic, params.id);
        return false;
      },
    });
    const response = await events(new Request('http://x/repos/7/events'), { id: '7' });
    expect(response.status).toBe(403);
    expect(seen).toEqual(['/repos/7/events', 'repo:7', '7']);
    await events.close();
  });
});
