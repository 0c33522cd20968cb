import type { ResetReason } from '../bus';
import { comparePositions, isPosition, type StreamPosition, ZERO_POSITION } from '../wire/position';

/**
 * What a store can say about a topic's retained history around a cursor, all from one consistent
 * view. A topic that was never written (or whose store lost it) has `head: '0-0'`, no `oldest`,
 * no `floor`, `trimmed: false`.
 */
export interface RetainedRange {
  /** The last position the topic ever issued (`0-0` before its first event). */
  head: StreamPosition;
  /** The oldest position still retained, if any event is retained. */
  oldest: StreamPosition | undefined;
  /** True once any event of the topic left the history (count or age limit). */
  trimmed: boolean;
  /**
   * The newest position that left the history (`undefined` while none did, or when the store
   * cannot tell). Trimming always removes the oldest entries, so every event after the floor is
   * still retained: a cursor equal to the floor is replayable.
   */
  floor: StreamPosition | undefined;
  /** True when the cursor itself is still retained. */
  holdsCursor: boolean;
}

/**
 * The range of a topic that was never written (or whose store lost it): head `0-0`, nothing
 * retained, nothing trimmed.
 *
 * @example
 * ```ts
 * if (!(await store.exists(topic))) return { ...neverWrittenRange(), entries: [] };
 * ```
 */
export function neverWrittenRange(): RetainedRange {
  return { head: ZERO_POSITION, oldest: undefined, trimmed: false, floor: undefined, holdsCursor: false };
}

/**
 * Where a cursor comes from:
 * - `requested`: a subscriber's `after` (a position the store never issued is `unknown_position`);
 * - `delivered`: a position this subscription already delivered, when it catches up again (one the
 *   store no longer knows means the store lost its history: `history_lost`).
 */
export type CursorOrigin = 'requested' | 'delivered';

/**
 * Decides whether everything after `cursor` can be replayed from `range`: `undefined` when it can
 * (events retained after the cursor follow it without a gap), else the reason of the reset.
 *
 * A cursor is replayable when it is the head, still retained, the floor (the newest position
 * trimmed away: everything after it is retained), or `0-0` while nothing was ever trimmed. A malformed cursor is `malformed`; one older than the oldest retained event of a trimmed
 * topic (or any old one once everything expired) is `expired`; anything else — later than the
 * head, or inside the window but never issued — is `unknown_position` (`history_lost` for a
 * `delivered` cursor).
 *
 * @example
 * ```ts
 * const range = { head: '9-0', oldest: '7-0', floor: '6-0', trimmed: true, holdsCursor: false } as const;
 * decideReplay('5-0', range, 'requested'); // 'expired'
 * decideReplay('6-0', range, 'requested'); // undefined: 7-0 … 9-0 follow without a gap
 * ```
 */
export function decideReplay(
  cursor: string,
  range: RetainedRange,
  origin: CursorOrigin,
): ResetReason | undefined {
  if (!isPosition(cursor)) return 'malformed';
  if (cursor === range.head || cursor === range.floor) return undefined;
  if (cursor === ZERO_POSITION) return range.trimmed ? 'expired' : undefined;
  const unknown: ResetReason = origin === 'delivered' ? 'history_lost' : 'unknown_position';
  if (comparePositions(cursor, range.head) > 0) return unknown;
  if (range.holdsCursor) return undefined;
  if (range.trimmed && (range.oldest === undefined || comparePositions(cursor, range.oldest) < 0)) {
    return 'expired';
  }
  return unknown;
}
