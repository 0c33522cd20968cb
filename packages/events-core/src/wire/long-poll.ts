import type { AnyEnvelope } from '../envelope';
import type { StreamPosition } from './position';
import { type ResetDelivery, resetFromWire, resetToWire, type WireReset } from './reset';

/** The JSON answer of a long-poll, as sent: `{events: [{position, event}], position, reset?}`. */
export interface LongPollBody {
  /** Events after the requested point, in order (empty on timeout). */
  events: {
    /** The event's position in the topic. */
    position: string;
    /** The envelope. */
    event: AnyEnvelope;
  }[];
  /**
   * Pass it as `after` in the next poll: the last event's position, or the point asked for. An
   * answer may be capped by the server: more may follow right after it.
   */
  position: string;
  /**
   * Present when the requested point could not be replayed (same data as the SSE `reset`
   * event): re-read the snapshot; `events` then holds what came after the head.
   */
  reset?: WireReset;
}

/** A long-poll answer as code uses it: the reset, if any, as a {@link ResetDelivery}. */
export interface LongPollAnswer {
  /** Events after the requested point, in order. */
  events: { position: StreamPosition; event: AnyEnvelope }[];
  /** Where the next poll continues (absent when the server sent none). */
  position: StreamPosition | undefined;
  /** The reset delivered before `events`, when the point could not be replayed. */
  reset: ResetDelivery | undefined;
}

/**
 * One item of a long-poll answer's `events`, from an envelope already serialized once (`json`
 * is the output of `JSON.stringify`).
 *
 * @example
 * ```ts
 * encodeLongPollItem('9-0', JSON.stringify(event)); // '{"position":"9-0","event":{…}}'
 * ```
 */
export function encodeLongPollItem(position: string, json: string): string {
  return `{"position":${JSON.stringify(position)},"event":${json}}`;
}

/**
 * A long-poll answer's JSON text from its items ({@link encodeLongPollItem}), the position the
 * next poll continues after, and the reset, if any.
 *
 * @example
 * ```ts
 * encodeLongPollBody([], '9-0'); // '{"events":[],"position":"9-0"}'
 * ```
 */
export function encodeLongPollBody(
  items: readonly string[],
  position: string,
  reset?: ResetDelivery,
): string {
  const resetJson = reset ? `,"reset":${JSON.stringify(resetToWire(reset))}` : '';
  return `{"events":[${items.join(',')}],"position":${JSON.stringify(position)}${resetJson}}`;
}

/**
 * Reads a parsed long-poll answer; `undefined` when `body` is not one (no `events` array), e.g.
 * when the URL is not a RepoPulse stream.
 *
 * @example
 * ```ts
 * const answer = parseLongPollBody(await res.json());
 * if (answer?.reset) reload();
 * ```
 */
export function parseLongPollBody(body: unknown): LongPollAnswer | undefined {
  const { events, position, reset } = (body ?? {}) as Partial<LongPollBody>;
  if (!Array.isArray(events)) return undefined;
  return {
    events: events as LongPollAnswer['events'],
    position: (position || undefined) as StreamPosition | undefined,
    reset: reset ? resetFromWire(reset) : undefined,
  };
}
