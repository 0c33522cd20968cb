import type { Server } from 'node:http';
import type { EventBus } from '@repopulse/events-core';
import { listenTracked, type TrackedServer } from '@repopulse/test-support';
import type { Cleanups } from '@repopulse/test-support/vitest';

/**
 * Listens with `server` (which serves `handler`) on a free port; after the test, `handler`, the
 * server and `bus` are closed, in that order.
 */
export async function listenHandler(
  cleanups: Cleanups,
  bus: EventBus,
  handler: { close(): unknown },
  server: Server,
): Promise<TrackedServer> {
  const listening = await listenTracked(server);
  cleanups.push(
    () => bus.close(),
    () => listening.close(),
    () => handler.close(),
  );
  return listening;
}
