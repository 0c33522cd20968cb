// Errors a user can act on: HTTP failures name the URL they happened on (without the query, which
// may hold a token), and option names that do not exist are refused, listing the valid ones.
import { StreamHttpError } from '@repopulse/sse-express';
import { cleanupAfterEach } from '@repopulse/test-support/vitest';
import { describe, expect, it } from 'vitest';
import { createEventStream, EventStreamError, type EventStreamOptions } from '../src/index';
import { waitForState } from './helpers/events';
import { serverStarter, streamOpener } from './helpers/harness';

const cleanups = cleanupAfterEach();
const server = serverStarter(cleanups);
const open = streamOpener(cleanups);

describe('error messages', () => {
  it('a 404 from sse-express names the URL (query left out), the code, the status and the server message', async () => {
    const s = await server({
      authorize: () => {
        throw new StreamHttpError(404, 'not_found', 'unknown repository');
      },
    });
    const { stream } = open(`${s.url}?access_token=secret-token`);
    await waitForState(stream, 'closed');
    expect(stream.error?.message).toBe(`[repopulse] GET ${s.url}: not_found (HTTP 404): unknown repository`);
    expect(stream.error?.url).toBe(s.url);
    expect(stream.error?.message).not.toContain('secret-token');
  });

  it('a network failure names the URL too', async () => {
    const s = await server();
    const url = s.url;
    await s.close();
    const { stream, errors } = open(url, { maxRetries: 0, fallback: false });
    await waitForState(stream, 'closed');
    expect(errors[0]?.code).toBe('network');
    expect(errors[0]?.message).toBe(`[repopulse] GET ${url}: network`);
    expect(errors[0]?.cause).toBeInstanceOf(Error);
  });
});

describe('unknown options (plain JS)', () => {
  function thrown(options: Record<string, unknown>): EventStreamError {
    try {
      createEventStream('http://127.0.0.1:1/events', options as EventStreamOptions);
    } catch (error) {
      return error as EventStreamError;
    }
    throw new Error('createEventStream accepted the options');
  }

  it('refuses a misspelled option, naming it and listing the valid ones, before any request', () => {
    const error = thrown({ lastEventID: '1-0' });
    expect(error).toBeInstanceOf(EventStreamError);
    expect(error).toMatchObject({ code: 'invalid_argument', fatal: true, url: undefined });
    expect(error.message).toBe(
      '[repopulse] event stream invalid_argument: unknown option lastEventID; valid: lastEventId, headers, ' +
        'credentials, fetch, signal, backoff, maxRetries, heartbeatTimeoutMs, fallback, pauseWhenHidden, onReset, onError',
    );
  });

  it.each([
    [{ backoff: { initialMS: 5 } }, 'backoff.initialMS; valid: initialMs, maxMs, factor'],
    [
      { fallback: { waitSecond: 1 } },
      'fallback.waitSecond; valid: afterFailures, probeTimeoutMs, upgradeIntervalMs, waitSeconds',
    ],
  ])('refuses unknown nested options %j', (options, expected) => {
    expect(thrown(options).message).toContain(`unknown option ${expected}`);
  });

  it('accepts every documented option (fallback: false included)', () => {
    const controller = new AbortController();
    controller.abort();
    const stream = createEventStream('http://127.0.0.1:1/events', {
      lastEventId: '1-0',
      headers: {},
      credentials: 'include',
      fetch: (input, init) => fetch(input, init),
      signal: controller.signal,
      backoff: { initialMs: 1, maxMs: 2, factor: 3 },
      maxRetries: 1,
      heartbeatTimeoutMs: 1,
      fallback: false,
      pauseWhenHidden: true,
      onReset: () => {},
      onError: () => {},
    });
    expect(stream.state).toBe('closed'); // the aborted signal: no request
  });
});
