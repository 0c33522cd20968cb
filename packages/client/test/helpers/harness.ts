import type { Cleanups } from '@repopulse/test-support/vitest';
import { createEventStream, type EventStreamError, type EventStreamOptions } from '../../src/index';
import { type EventServer, startEventServer } from './event-server';
import { collect } from './events';

/**
 * `server(options)`: {@link startEventServer}, closed by `cleanups` after the test.
 * @param started Called with each started server (e.g. to point happy-dom's page at it).
 */
export function serverStarter(
  cleanups: Cleanups,
  started?: (server: EventServer) => void,
): (options?: Parameters<typeof startEventServer>[0]) => Promise<EventServer> {
  return async (options = {}) => {
    const s = await startEventServer(options);
    cleanups.push(() => s.close());
    started?.(s);
    return s;
  };
}

/** `open(url, options)`: a stream collecting its items and errors, closed by `cleanups` after the test. */
export function streamOpener(cleanups: Cleanups) {
  return (url: string, options: EventStreamOptions = {}) => {
    const errors: EventStreamError[] = [];
    const stream = createEventStream(url, { onError: (e) => errors.push(e), ...options });
    cleanups.push(() => stream.close());
    return { stream, errors, got: collect(stream) };
  };
}
