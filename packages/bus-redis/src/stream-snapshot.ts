import { type AnyEnvelope, BusUnavailableError, type StreamPosition } from '@repopulse/events-core';
import { neverWrittenRange, type RetainedRange } from '@repopulse/events-core/bus-kit';
import {
  formatPosition,
  type PositionParts,
  parsePosition,
  ZERO_POSITION,
} from '@repopulse/events-core/wire';

/** One stream entry as read from Redis: its position and envelope JSON. */
export interface StreamEntry {
  /** The entry id, i.e. the event's position. */
  position: StreamPosition;
  /** The envelope as stored (JSON text). */
  json: string;
}

/** A consistent view of a topic stream around a cursor, as returned by the read script. */
export interface StreamSnapshot extends RetainedRange {
  /** Up to one page of entries after the cursor, oldest first. */
  entries: StreamEntry[];
}

/**
 * Turns the read script's reply into a {@link StreamSnapshot}. A stream that does not exist
 * (never written, or lost with a Redis restart) reads as an empty, untrimmed range at `0-0`.
 * The stream was trimmed when it ever added more entries than it holds.
 *
 * The floor of a trimmed stream is the position just before its oldest retained entry (the head
 * once every entry expired): Redis does not record the id of the newest trimmed entry
 * (`max-deleted-entry-id` follows `XDEL` only, not `XTRIM` or `MAXLEN`), and trimming removes the
 * oldest entries, so everything after that position is retained.
 */
export function parseSnapshot(reply: unknown): StreamSnapshot {
  if (!Array.isArray(reply) || reply[0] !== 1) return { ...neverWrittenRange(), entries: [] };
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
  const head = last as StreamPosition;
  const oldest = first === '' ? undefined : (first as StreamPosition);
  const trimmed = added > length;
  return {
    head,
    oldest,
    trimmed,
    floor: trimmed ? (oldest === undefined ? head : positionBefore(oldest)) : undefined,
    holdsCursor: found === 1,
    entries,
  };
}

/** The greatest position before `position` (`<ms>-<seq - 1>`, or the last of the previous ms). */
function positionBefore(position: StreamPosition): StreamPosition {
  const { ms, seq } = parsePosition(position) as PositionParts;
  if (seq > 0) return formatPosition({ ms, seq: seq - 1 });
  return ms > 0 ? formatPosition({ ms: ms - 1, seq: Number.MAX_SAFE_INTEGER }) : ZERO_POSITION;
}

function fieldOf(fields: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

/** Parses stored envelope JSON; the bus validated it before storing. */
export function decodeEnvelope(json: string): AnyEnvelope {
  return JSON.parse(json) as AnyEnvelope;
}
