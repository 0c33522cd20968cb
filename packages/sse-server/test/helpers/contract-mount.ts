import type { ContractStats, MountedServer } from '@repopulse/server-contract';
import { accessOf } from '@repopulse/server-contract';
import type { TrackedServer } from '@repopulse/test-support';
import { StreamHttpError } from '../../src/index';

/** The route every contract mount serves: `/topics/:id/events`. */
export const ROUTE = '/topics/:id/events';

/** The route id of a request path, or undefined when the path is not {@link ROUTE}. */
export function routeId(url: string | undefined): string | undefined {
  const match = /^\/topics\/([^/?]+)\/events(?:\?|$)/.exec(url ?? '');
  return match ? decodeURIComponent(match[1]!) : undefined;
}

/** The contract's `authorize` for route id `id`: 403 (`false`) or 404 by its prefix. */
export function authorizeId(id: string): boolean {
  const access = accessOf(id);
  if (access === 'not_found') throw new StreamHttpError(404, 'not_found', 'unknown topic');
  return access === 'allow';
}

/** A `MountedServer` from a listening server and a handler with `close`/`stats`. */
export function mounted(
  listening: TrackedServer,
  origin: string,
  handler: { close(options?: { graceMs?: number }): Promise<void>; stats(): ContractStats },
  closeServer: () => Promise<void> = () => listening.close(),
): MountedServer {
  return {
    origin,
    url: (id, query = '') => `${origin}/topics/${encodeURIComponent(id)}/events${query}`,
    stats: () => handler.stats(),
    dropConnections: listening.dropConnections,
    closeHandler: (options) => handler.close(options),
    async close() {
      await handler.close();
      await closeServer();
    },
  };
}
