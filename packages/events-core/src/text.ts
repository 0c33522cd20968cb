import { EventValidationError } from './errors';

const FORBIDDEN = /[\r\n\0]/;

/** True when `value` holds CR, LF or NUL. */
export function hasControlChars(value: string): boolean {
  return FORBIDDEN.test(value);
}

/**
 * Throws `invalid_field` when `value` holds CR, LF or NUL: such a string would break an SSE
 * `event:`/`id:` line (frame injection).
 */
export function checkControlChars(value: string, fieldName: string): void {
  if (hasControlChars(value)) {
    throw new EventValidationError('invalid_field', `${fieldName} must not contain CR, LF or NUL`, fieldName);
  }
}
