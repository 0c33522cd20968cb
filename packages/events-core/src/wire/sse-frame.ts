import type { AnyEnvelope } from '../envelope';
import { EventValidationError } from '../errors';
import { checkControlChars } from '../text';
import type { StreamPosition } from './position';
import { type ResetDelivery, type ResetReason, resetToWire, type WireReset } from './reset';

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

/** @deprecated Renamed {@link WireReset}. */
export type ResetFrameData = WireReset;

/**
 * The frame telling a client its resume point is gone: `event: reset`, with `id:` set to the
 * head so a later reconnect resumes from there, and the reset's {@link WireReset} as data
 * (`retained_after` only when the reset has `retainedAfter`). Takes a {@link ResetDelivery}, or its
 * reason, position and `retainedAfter`. Throws `invalid_field` if a position holds CR/LF/NUL.
 *
 * @example
 * ```ts
 * encodeSseReset({ reset: true, reason: 'expired', position: '9-0', retainedAfter: '6-0' });
 * encodeSseReset('expired', '9-0', '6-0'); // the same frame:
 * // 'id: 9-0\nevent: reset\ndata: {"reason":"expired","position":"9-0","retained_after":"6-0"}\n\n'
 * ```
 */
export function encodeSseReset(reset: ResetDelivery): string;
export function encodeSseReset(
  reason: ResetReason,
  position: StreamPosition,
  retainedAfter?: StreamPosition,
): string;
export function encodeSseReset(
  reset: ResetDelivery | ResetReason,
  position?: StreamPosition,
  retainedAfter?: StreamPosition,
): string {
  const data = resetToWire(
    typeof reset === 'object'
      ? reset
      : { reset: true, reason: reset, position: position as StreamPosition, retainedAfter },
  );
  checkControlChars(data.position, 'position');
  if (data.retained_after !== undefined) checkControlChars(data.retained_after, 'retained_after');
  return `id: ${data.position}\nevent: reset\ndata: ${JSON.stringify(data)}\n\n`;
}

/** A comment line (`: text\n\n`), used for the first flush and heartbeats. CR/LF are replaced by spaces. */
export function encodeSseComment(text = ''): string {
  return `:${text ? ` ${text.replace(/[\r\n]/g, ' ')}` : ''}\n\n`;
}

/** The `retry:` field telling clients how long to wait before reconnecting. */
export function encodeSseRetry(ms: number): string {
  return `retry: ${Math.max(0, Math.floor(ms))}\n\n`;
}
