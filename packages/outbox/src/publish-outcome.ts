import { BusError, EventValidationError, isRepoPulseError } from '@repopulse/events-core';

/**
 * True when the bus refused an event for good: retrying cannot help (the event is invalid or too
 * large for this bus, its topic is malformed). Anything else (unreachable, closed, an unknown error)
 * is retried, so no event is given up on by mistake.
 */
export function refusedForGood(error: unknown): boolean {
  if (error instanceof EventValidationError) return true;
  if (error instanceof BusError) return error.code === 'invalid_topic';
  return isRepoPulseError(error, 'too_large', 'invalid_payload', 'invalid_field', 'unknown_type');
}

/** True when a publish result says the bus already held the event (an idempotent append). */
export function wasDuplicate(result: unknown): boolean {
  return (result as { duplicate?: unknown } | undefined)?.duplicate === true;
}
