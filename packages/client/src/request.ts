import { parseErrorBody } from '@repopulse/events-core/wire';
import type { Attempt, Outcome } from './attempt';
import { parseRetryAfter } from './backoff';
import type { EventStreamErrorCode } from './errors';

/** Statuses that stop the stream, with their error codes; any other 4xx but 408/429 is fatal too. */
const FATAL: Record<number, EventStreamErrorCode> = {
  204: 'no_content',
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
};

/**
 * Sends one GET to `target` (`accept`: `text/event-stream` or `application/json`) with the
 * stream's headers and, for SSE, the attempt's `lastEventId` as `Last-Event-ID`. A 200 resolves to the
 * response; any other answer to the outcome it calls for (only a 200 carries a stream or a poll
 * answer: 204 and every other 2xx stop, as in EventSource). A network failure rejects.
 */
export async function send(attempt: Attempt, target: string, accept: string): Promise<Response | Outcome> {
  const { lastEventId, refresh } = attempt;
  let headers: Headers;
  try {
    const init = attempt.headers;
    headers = new Headers(typeof init === 'function' ? await init({ refresh }) : init);
  } catch (cause) {
    return { to: 'retry', error: attempt.error('headers', false, 0, '', cause) };
  }
  headers.set('Accept', accept);
  // A header value is a ByteString: send the id's UTF-8 bytes, as EventSource does.
  if (lastEventId && accept[0] === 't')
    headers.set('Last-Event-ID', String.fromCharCode(...new TextEncoder().encode(lastEventId)));
  const response = await attempt.fetch(target, {
    headers,
    signal: attempt.controller.signal,
    credentials: attempt.credentials,
    cache: 'no-store',
  });
  const status = response.status;
  if (status === 200) return response;
  const { message } = parseErrorBody(await response.json().catch(() => undefined));
  if (status === 401 && !refresh) return { to: 'again' };
  const retryable = status === 408 || status === 429 || status > 499;
  const error = attempt.error(
    retryable ? 'http_status' : (FATAL[status] ?? 'http_status'),
    !retryable,
    status,
    message,
  );
  return retryable
    ? { to: 'retry', error, retryAfterMs: parseRetryAfter(response.headers.get('retry-after')) }
    : { to: 'closed', error };
}
