/**
 * The query parameters of the stream URL, as the server reads them and clients write them:
 * `last_event_id` (SSE resume point when no `Last-Event-ID` header can be sent), `after` and `wait`
 * (a long-poll's resume point and how long to wait, in seconds).
 *
 * @example
 * ```ts
 * url.searchParams.set(STREAM_QUERY.lastEventId, '1732842000000-0');
 * ```
 */
export const STREAM_QUERY = {
  /** SSE resume point, for clients that cannot send the `Last-Event-ID` header. */
  lastEventId: 'last_event_id',
  /** Long-poll resume point. */
  after: 'after',
  /** Long-poll wait in seconds (decimals allowed). */
  wait: 'wait',
} as const;

/** What a long-poll asks for: `?after=<position>&wait=<s>`. */
export interface LongPollQuery {
  /** Answer with the events after this position; omit to start at the head. */
  after?: string | undefined;
  /** How long the server may wait for an event, in seconds (`0`: answer at once). */
  waitSeconds: number;
}

/**
 * The long-poll URL for `url`: `wait` set, `after` set (or removed when not given).
 *
 * @example
 * ```ts
 * longPollUrl('https://x.test/api/events', { after: '9-0', waitSeconds: 25 });
 * // URL https://x.test/api/events?wait=25&after=9-0
 * ```
 */
export function longPollUrl(url: string | URL, query: LongPollQuery): URL {
  const target = new URL(url);
  target.searchParams.set(STREAM_QUERY.wait, `${query.waitSeconds}`);
  if (query.after) target.searchParams.set(STREAM_QUERY.after, query.after);
  else target.searchParams.delete(STREAM_QUERY.after);
  return target;
}

/**
 * Reads a long-poll's query: `after` (`undefined` when absent or blank) and the raw `wait` text
 * (`undefined` when absent or blank; the server checks and caps it).
 *
 * @example
 * ```ts
 * readLongPollQuery(new URLSearchParams('after=9-0&wait=2.5')); // { after: '9-0', wait: '2.5' }
 * ```
 */
export function readLongPollQuery(query: URLSearchParams): { after?: string; wait?: string } {
  const after = query.get(STREAM_QUERY.after)?.trim();
  const wait = query.get(STREAM_QUERY.wait) ?? '';
  return { ...(after ? { after } : {}), ...(wait ? { wait } : {}) };
}

/**
 * The SSE resume point in a query (`?last_event_id=`), trimmed; `undefined` when absent or blank.
 *
 * @example
 * ```ts
 * readLastEventIdQuery(new URLSearchParams('last_event_id=5-0')); // '5-0'
 * ```
 */
export function readLastEventIdQuery(query: URLSearchParams): string | undefined {
  return query.get(STREAM_QUERY.lastEventId)?.trim() || undefined;
}
