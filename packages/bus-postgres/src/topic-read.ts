import type { EventDelivery, StreamPosition } from '@repopulse/events-core';
import type { ReadResult } from '@repopulse/events-core/bus-kit';
import { parsePosition, ZERO_POSITION } from '@repopulse/events-core/wire';
import { quoteIdentifier } from './schema-sql';

/** A page of a topic as one statement sees it: the retained range, the page, and the latest drop. */
export interface TopicPage extends ReadResult {
  /** The position of the topic's latest drop, if it was ever dropped. */
  dropped: StreamPosition | undefined;
  /** The position of the page's last row, decoded or not (undefined: no rows after the cursor). */
  through: StreamPosition | undefined;
  /** Rows the page held, counting those `decode` skipped. */
  rowCount: number;
}

interface PageRow {
  last_ms: string | null;
  last_seq: string | null;
  floor_ms: string | null;
  floor_seq: string | null;
  dropped_ms: string | null;
  dropped_seq: string | null;
  expired_ms: string | null;
  expired_seq: string | null;
  oldest_ms: string | null;
  oldest_seq: string | null;
  holds: boolean;
  ms: string | null;
  seq: string | null;
  envelope: string | null;
}

/**
 * The read statement of a topic in `schema`: its head row, the newest expired event (older than the
 * age limit, not yet deleted), the oldest retained one, whether the cursor is retained, and up to
 * `limit` events after the cursor, all from one snapshot. Events older than the age limit count as
 * trimmed even before an append deletes them.
 *
 * Parameters: $1 topic, $2/$3 the cursor's ms/seq, $4 limit, $5 age limit in ms (0: none).
 */
export function topicReadSql(schema: string): string {
  const s = quoteIdentifier(schema);
  return `WITH cut AS (
  SELECT CASE WHEN $5::bigint > 0
    THEN floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint - $5::bigint ELSE -1 END AS ms
)
SELECT t.last_ms, t.last_seq, t.floor_ms, t.floor_seq, t.dropped_ms, t.dropped_seq,
  x.ms AS expired_ms, x.seq AS expired_seq, o.ms AS oldest_ms, o.seq AS oldest_seq,
  EXISTS (SELECT 1 FROM ${s}.events e WHERE e.topic = $1 AND e.ms = $2::bigint AND e.seq = $3::bigint
    AND e.ms >= cut.ms) AS holds,
  p.ms, p.seq, p.envelope
FROM cut
LEFT JOIN ${s}.topics t ON t.topic = $1
LEFT JOIN LATERAL (SELECT e.ms, e.seq FROM ${s}.events e WHERE e.topic = $1 AND e.ms < cut.ms
  ORDER BY e.ms DESC, e.seq DESC LIMIT 1) x ON true
LEFT JOIN LATERAL (SELECT e.ms, e.seq FROM ${s}.events e WHERE e.topic = $1 AND e.ms >= cut.ms
  ORDER BY e.ms, e.seq LIMIT 1) o ON true
LEFT JOIN LATERAL (SELECT e.ms, e.seq, e.envelope FROM ${s}.events e
  WHERE e.topic = $1 AND (e.ms, e.seq) > ($2::bigint, $3::bigint) AND e.ms >= cut.ms
  ORDER BY e.ms, e.seq LIMIT $4::integer) p ON true
ORDER BY p.ms, p.seq`;
}

/** The parameters of {@link topicReadSql}. */
export function topicReadParams(
  topic: string,
  cursor: StreamPosition,
  limit: number,
  ttlMs: number | undefined,
): unknown[] {
  const { ms, seq } = parsePosition(cursor) ?? { ms: 0, seq: 0 };
  return [topic, String(ms), String(seq), limit, ttlMs === undefined ? 0 : Math.ceil(ttlMs)];
}

/**
 * Turns the rows of {@link topicReadSql} into a page. `decode` turns stored envelope text into a
 * delivery's event (it reports and skips text it cannot decode by returning undefined).
 */
export function parseTopicPage(
  rows: PageRow[],
  decode: (json: string) => EventDelivery['event'] | undefined,
): TopicPage {
  const first = rows[0];
  const position = (ms: string | null | undefined, seq: string | null | undefined) =>
    ms == null || seq == null ? undefined : (`${ms}-${seq}` as StreamPosition);
  const floor =
    position(first?.expired_ms, first?.expired_seq) ?? position(first?.floor_ms, first?.floor_seq);
  const entries: EventDelivery[] = [];
  let through: StreamPosition | undefined;
  let rowCount = 0;
  for (const row of rows) {
    const at = position(row.ms, row.seq);
    if (at === undefined || row.envelope === null) continue;
    through = at;
    rowCount++;
    const event = decode(row.envelope);
    if (event !== undefined) entries.push({ position: at, event });
  }
  return {
    head: position(first?.last_ms, first?.last_seq) ?? ZERO_POSITION,
    oldest: position(first?.oldest_ms, first?.oldest_seq),
    trimmed: floor !== undefined,
    floor,
    holdsCursor: first?.holds === true,
    dropped: position(first?.dropped_ms, first?.dropped_seq),
    through,
    rowCount,
    entries,
  };
}

export type { PageRow };
