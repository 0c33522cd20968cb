import {
  type AnyEnvelope,
  BusUnavailableError,
  comparePositions,
  type ResetReason,
  type StreamPosition,
  ZERO_POSITION,
} from '@repopulse/events-core';

/** One stream entry as read from Redis: its position and envelope JSON. */
export interface StreamEntry {
  /** The entry id, i.e. the event's position. */
  position: StreamPosition;
  /** The envelope as stored (JSON text). */
  json: string;
}

/** A consistent view of a topic stream around a cursor, as returned by the read script. */
export interface StreamSnapshot {
  /** False when the key does not exist (never written, or lost with a Redis restart). */
  exists: boolean;
  /** The last position the stream ever issued (`0-0` when it does not exist). */
  last: StreamPosition;
  /** Entries ever appended (Redis 7 `entries-added`). */
  added: number;
  /** Entries retained now. */
  length: number;
  /** The oldest retained position, when any entry is retained. */
  first: StreamPosition | undefined;
  /** True when the cursor itself is still in the stream. */
  found: boolean;
  /** Up to one page of entries after the cursor, oldest first. */
  entries: StreamEntry[];
}

/**
 * How a cursor is judged:
 * - `subscribe`: a caller-supplied `after` (a bad one is `unknown_position`);
 * - `resume`: a position this subscription already delivered (a bad one means the store lost
 *   what we saw: `history_lost`).
 */
export type CursorMode = 'subscribe' | 'resume';

/** Turns the read script's reply into a {@link StreamSnapshot}. */
export function parseSnapshot(reply: unknown): StreamSnapshot {
  if (!Array.isArray(reply) || reply[0] !== 1) {
    return {
      exists: false,
      last: ZERO_POSITION,
      added: 0,
      length: 0,
      first: undefined,
      found: false,
      entries: [],
    };
  }
  const [, last, added, length, first, found, rawEntries] = reply as [
    1,
    string,
    number,
    number,
    string,
    number,
    [string, string[]][],
  ];
  if (added < 0) {
    throw new BusUnavailableError('bus-redis needs Redis 7.0 or newer (XINFO STREAM has no entries-added)');
  }
  const entries: StreamEntry[] = [];
  for (const [position, fields] of rawEntries) {
    const json = fieldOf(fields, 'e');
    if (json !== undefined) entries.push({ position: position as StreamPosition, json });
  }
  return {
    exists: true,
    last: last as StreamPosition,
    added,
    length,
    first: first === '' ? undefined : (first as StreamPosition),
    found: found === 1,
    entries,
  };
}

function fieldOf(fields: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

/**
 * Decides whether everything after `cursor` can be replayed from `snapshot`. Returns the reset
 * reason when it cannot, `undefined` when `snapshot.entries` continue right after the cursor.
 *
 * A cursor is replayable when it is the stream's last issued position, still in the stream,
 * or `0-0` while nothing was ever trimmed. A cursor older than the oldest retained entry of a
 * trimmed stream is `expired`; anything else was never issued by this stream (`unknown_position`,
 * or `history_lost` for a position we delivered ourselves: the stream was recreated).
 */
export function judgeCursor(
  cursor: StreamPosition,
  snapshot: StreamSnapshot,
  mode: CursorMode,
): ResetReason | undefined {
  const unknown: ResetReason = mode === 'resume' ? 'history_lost' : 'unknown_position';
  if (!snapshot.exists) return cursor === ZERO_POSITION ? undefined : unknown;
  if (cursor === snapshot.last) return undefined;
  const trimmed = snapshot.added > snapshot.length;
  if (cursor === ZERO_POSITION) return trimmed ? 'expired' : undefined;
  if (comparePositions(cursor, snapshot.last) > 0) return unknown;
  if (snapshot.found) return undefined;
  if (trimmed && (snapshot.first === undefined || comparePositions(cursor, snapshot.first) < 0)) {
    return 'expired';
  }
  return unknown;
}

/** Parses stored envelope JSON; the bus validated it before storing. */
export function decodeEnvelope(json: string): AnyEnvelope {
  return JSON.parse(json) as AnyEnvelope;
}
