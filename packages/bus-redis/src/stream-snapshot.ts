import {
  type AnyEnvelope,
  BusUnavailableError,
  type StreamPosition,
  ZERO_POSITION,
} from '@repopulse/events-core';
import type { RetainedRange } from '@repopulse/events-core/bus-kit';

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
 */
export function parseSnapshot(reply: unknown): StreamSnapshot {
  if (!Array.isArray(reply) || reply[0] !== 1) {
    return { head: ZERO_POSITION, oldest: undefined, trimmed: false, holdsCursor: false, entries: [] };
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
    head: last as StreamPosition,
    oldest: first === '' ? undefined : (first as StreamPosition),
    trimmed: added > length,
    holdsCursor: found === 1,
    entries,
  };
}

function fieldOf(fields: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

/** Parses stored envelope JSON; the bus validated it before storing. */
export function decodeEnvelope(json: string): AnyEnvelope {
  return JSON.parse(json) as AnyEnvelope;
}
