import type { ResetReason } from './bus';
import type { AnyEnvelope } from './envelope';
import { EventValidationError } from './errors';
import type { StreamPosition } from './position';
import { checkControlChars } from './text';

/**
 * The exact SSE frame of one event:
 * ```
 * id: <position>\nevent: <type>\ndata: <envelope JSON on one line>\n\n
 * ```
 * Throws `invalid_field` if the position or type holds CR/LF/NUL (frame injection). JSON never
 * holds a raw newline, so the data line is safe.
 */
export function encodeSseFrame(position: StreamPosition | string, envelope: AnyEnvelope): string {
  return encodeSseFrameFromJson(position, envelope.type, JSON.stringify(envelope));
}

/**
 * Like {@link encodeSseFrame} for an envelope already serialized once (`json` must be the
 * output of `JSON.stringify`, which never contains a raw newline).
 */
export function encodeSseFrameFromJson(position: string, type: string, json: string): string {
  checkControlChars(position, 'position');
  checkControlChars(type, 'type');
  if (json.includes('\n') || json.includes('\r')) {
    throw new EventValidationError('invalid_field', 'data must not contain CR or LF', 'data');
  }
  return `id: ${position}\nevent: ${type}\ndata: ${json}\n\n`;
}

/** Data of the `reset` SSE event. */
export interface ResetFrameData {
  /** Why the stream could not resume from the requested point. */
  reason: ResetReason;
  /** The topic head: the stream continues live after it. */
  position: StreamPosition;
  /**
   * Only on an `expired` reset of a topic that still retains events: the events after this
   * position are still retained; resume after it (`Last-Event-ID` / `?after=`) to read them.
   * Absent when nothing is retained.
   */
  retained_after?: StreamPosition;
}

/**
 * The frame telling a client its resume point is gone: `event: reset`, with `id:` set to the
 * head so a later reconnect resumes from there; `retainedAfter` (a reset's
 * `ResetDelivery.retainedAfter`) is written as `retained_after` only when given. Throws
 * `invalid_field` if a position holds CR/LF/NUL.
 *
 * @example
 * ```ts
 * encodeSseReset('expired', '9-0', '6-0');
 * // 'id: 9-0\nevent: reset\ndata: {"reason":"expired","position":"9-0","retained_after":"6-0"}\n\n'
 * ```
 */
export function encodeSseReset(
  reason: ResetReason,
  position: StreamPosition,
  retainedAfter?: StreamPosition,
): string {
  checkControlChars(position, 'position');
  const data: ResetFrameData = { reason, position };
  if (retainedAfter !== undefined) {
    checkControlChars(retainedAfter, 'retained_after');
    data.retained_after = retainedAfter;
  }
  return `id: ${position}\nevent: reset\ndata: ${JSON.stringify(data)}\n\n`;
}

/** A comment line (`: text\n\n`), used for the first flush and heartbeats. CR/LF are replaced by spaces. */
export function encodeSseComment(text = ''): string {
  return `:${text ? ` ${text.replace(/[\r\n]/g, ' ')}` : ''}\n\n`;
}

/** The `retry:` field telling clients how long to wait before reconnecting. */
export function encodeSseRetry(ms: number): string {
  return `retry: ${Math.max(0, Math.floor(ms))}\n\n`;
}
