import type { StreamPosition } from './position';
import { ZERO_POSITION } from './position';

/**
 * Why a subscriber was reset instead of replayed:
 * - `unknown_position`: `after` was not issued by this bus's history (another process, the future).
 * - `expired`: `after` is older than the retained history (limit or TTL).
 * - `malformed`: `after` is not a `<ms>-<seq>` position.
 * - `history_lost`: the store lost its history (e.g. Redis restarted without persistence), or the
 *   topic was dropped (`EventBus.dropTopic`) while subscribed.
 */
export type ResetReason = 'unknown_position' | 'expired' | 'malformed' | 'history_lost';

/**
 * A reset, as code sees it everywhere (a bus delivery, a server's reader, a client's notice): the
 * requested point cannot be replayed, so the subscriber must re-read its snapshot. Delivery
 * continues live after `position` (the topic head). On the wire it is a {@link WireReset}
 * ({@link resetToWire}, {@link resetFromWire}).
 */
export interface ResetDelivery {
  /** Marks a reset. */
  reset: true;
  /** The head of the topic when the reset was decided; live events follow it. */
  position: StreamPosition;
  /** Why the point could not be replayed. */
  reason: ResetReason;
  /**
   * Only on an `expired` reset of a topic that still retains events: events after this position
   * are still retained; subscribe `after` it to read them (in order, then live, with no reset).
   * It is the newest position that left the history, so the events between the requested point
   * and it are the ones lost. Absent when every event of the topic expired (nothing is left to
   * read: live events follow {@link ResetDelivery.position}).
   * @example
   * ```ts
   * bus.subscribe(topic, (d) => {
   *   if ('reset' in d && d.retainedAfter) void bus.subscribe(topic, handler, { after: d.retainedAfter });
   * }, { after: '0-0' });
   * ```
   */
  retainedAfter?: StreamPosition;
}

/**
 * A reset on the wire (snake_case): the data of the SSE `reset` event and the `reset` field of a
 * long-poll answer.
 */
export interface WireReset {
  /** Why the stream could not resume from the requested point. */
  reason: ResetReason;
  /** The topic head: the stream continues live after it. */
  position: StreamPosition;
  /** {@link ResetDelivery.retainedAfter}; absent when nothing is retained. */
  retained_after?: StreamPosition;
}

/**
 * The wire form of a reset: `retainedAfter` is written as `retained_after`, only when set.
 *
 * @example
 * ```ts
 * resetToWire({ reset: true, reason: 'expired', position: '9-0', retainedAfter: '6-0' });
 * // { reason: 'expired', position: '9-0', retained_after: '6-0' }
 * ```
 */
export function resetToWire(reset: ResetDelivery): WireReset {
  const wire: WireReset = { reason: reset.reason, position: reset.position };
  if (reset.retainedAfter !== undefined) wire.retained_after = reset.retainedAfter;
  return wire;
}

/**
 * A reset as the server sent it (parsed JSON of an SSE `reset` event, or a long-poll answer's
 * `reset`), as code uses it; `undefined` when `data` is not an object.
 *
 * @example
 * ```ts
 * resetFromWire({ reason: 'expired', position: '9-0', retained_after: '6-0' });
 * // { reset: true, reason: 'expired', position: '9-0', retainedAfter: '6-0' }
 * ```
 */
export function resetFromWire(data: unknown): ResetDelivery | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const { reason, position, retained_after } = data as WireReset;
  const reset: ResetDelivery = { reset: true, reason, position };
  if (retained_after) reset.retainedAfter = retained_after;
  return reset;
}

/**
 * Where to read on after `reset` when reading a topic from its start (`from` is `0-0`): the
 * retained tail of an `expired` topic starts after {@link ResetDelivery.retainedAfter}. `undefined`
 * when there is no tail to follow (another reason, a later `from`, or nothing retained): the stream
 * simply continues live after the reset.
 *
 * @example
 * ```ts
 * const tail = retainedTailAfter(reset, '0-0');
 * if (tail) reopen({ lastEventId: tail });
 * ```
 */
export function retainedTailAfter(reset: ResetDelivery, from: string): StreamPosition | undefined {
  return from === ZERO_POSITION && reset.reason === 'expired' ? reset.retainedAfter : undefined;
}
