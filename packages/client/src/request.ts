import { parseRetryAfter } from './backoff';
import type { EventStreamErrorCode } from './errors';
import type { Outcome, Session } from './session';

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
 * stream's headers and, for SSE, its cursor as `Last-Event-ID`. A 200 resolves to the response;
 * any other answer to the outcome it calls for (only a 200 carries a stream or a poll answer:
 * 204 and every other 2xx stop, as in EventSource). A network failure rejects.
 */
export async function send(
  s: Session,
  signal: AbortSignal,
  target: string,
  accept: string,
): Promise<Response | Outcome> {
  let headers: Headers;
  try {
    const init = s.options.headers;
    headers = new Headers(typeof init === 'function' ? await init({ refresh: s.refresh }) : init);
  } catch (cause) {
    return { to: 'retry', error: s.error('headers', false, 0, '', cause) };
  }
  headers.set('Accept', accept);
  // A header value is a ByteString: send the id's UTF-8 bytes, as EventSource does.
  if (s.cursor && accept[0] === 't')
    headers.set('Last-Event-ID', String.fromCharCode(...new TextEncoder().encode(s.cursor)));
  const res = await s.settings.fetch(target, {
    headers,
    signal,
    credentials: s.options.credentials,
    cache: 'no-store',
  });
  const status = res.status;
  if (status === 200) {
    s.refresh = false;
    return res;
  }
  const detail: string = await res
    .json()
    .then((body) => body.error.message)
    .catch(() => '');
  if (status === 401 && !s.refresh) {
    s.refresh = true;
    return { to: 'again' };
  }
  const retryable = status === 408 || status === 429 || status > 499;
  s.retryAfter = parseRetryAfter(res.headers.get('retry-after'));
  const error = s.error(
    retryable ? 'http_status' : (FATAL[status] ?? 'http_status'),
    !retryable,
    status,
    detail,
  );
  return retryable ? { to: 'retry', error } : { to: 'closed', error };
}
