import { readLastEventIdQuery, readLongPollQuery } from '@repopulse/events-core/wire';
import { StreamHttpError } from '../errors';
import type { RequestView } from './request-view';

/** Which transport a request asked for. */
export type Transport = 'sse' | 'long-poll';

/** Picks the transport from `Accept`: JSON (without `text/event-stream`) → long-poll, else SSE. */
export function transportOf(req: RequestView): Transport {
  const accept = req.header('accept') ?? '';
  if (accept.includes('text/event-stream')) return 'sse';
  return accept.includes('application/json') ? 'long-poll' : 'sse';
}

/** The query string of a request, parsed. */
export function queryOf(req: RequestView): URLSearchParams {
  const url = req.url;
  const q = url.indexOf('?');
  return new URLSearchParams(q === -1 ? '' : url.slice(q + 1));
}

/**
 * The SSE resume point: `Last-Event-ID` (sent by EventSource on reconnect) wins over
 * `?last_event_id=`; empty means none. Malformed values are passed on: the bus answers them
 * with a reset.
 */
export function sseResumePoint(req: RequestView, query: URLSearchParams): string | undefined {
  const fromHeader = req.header('last-event-id')?.trim();
  if (fromHeader) return fromHeader;
  return readLastEventIdQuery(query);
}

/**
 * The long-poll wait in ms from `?wait=<seconds>` (decimals allowed), capped at `maxMs`.
 * Throws 400 `invalid_parameter` for anything but a non-negative number.
 */
export function longPollWaitMs(query: URLSearchParams, maxMs: number): number {
  const raw = readLongPollQuery(query).wait;
  if (raw === undefined) return maxMs;
  const seconds = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw) || !Number.isFinite(seconds)) {
    throw new StreamHttpError(400, 'invalid_parameter', 'wait must be a non-negative number of seconds');
  }
  return Math.min(maxMs, Math.round(seconds * 1000));
}

/** The long-poll resume point from `?after=`; empty means "from the current head". */
export function longPollAfter(query: URLSearchParams): string | undefined {
  return readLongPollQuery(query).after;
}

/** Where a stream token was found. */
export type TokenSource = 'bearer' | 'query' | 'cookie';

/**
 * Finds a stream token: `Authorization: Bearer <token>` first, then `?access_token=`, then the
 * cookie named `cookieName`.
 */
export function findToken(
  req: RequestView,
  query: URLSearchParams,
  cookieName: string,
): { token: string; source: TokenSource } | undefined {
  const auth = req.header('authorization');
  if (auth) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (match) return { token: match[1] as string, source: 'bearer' };
  }
  const fromQuery = query.get('access_token');
  if (fromQuery) return { token: fromQuery, source: 'query' };
  const fromCookie = cookieValue(req.header('cookie'), cookieName);
  return fromCookie ? { token: fromCookie, source: 'cookie' } : undefined;
}

/** Reads one cookie from a `Cookie` header (URL-decoded when possible). */
export function cookieValue(cookieHeader: string | undefined, name: string): string | undefined {
  if (!cookieHeader) return undefined;
  for (const part of cookieHeader.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1 || part.slice(0, eq).trim() !== name) continue;
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    try {
      return decodeURIComponent(value);
    } catch {
      return value;
    }
  }
  return undefined;
}
