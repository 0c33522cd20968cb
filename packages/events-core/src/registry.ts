import { BUILTIN_SCHEMAS, type EventType } from './catalog';
import { EventValidationError } from './errors';
import type { PayloadSchema } from './schema';
import { checkControlChars } from './text';

const schemas = new Map<string, PayloadSchema>(Object.entries(BUILTIN_SCHEMAS));

const TYPE_RE = /^[A-Za-z0-9_.:-]{1,128}$/;

/**
 * Registers a custom event type and the schema its payload must satisfy. Pair it with an
 * `EventMap` augmentation so the payload is typed too. Registering a type twice throws
 * `already_registered`; a malformed name or a schema entry not built with `field.*()`
 * throws `invalid_field`.
 *
 * @example
 * ```ts
 * declare module '@repopulse/events-core' {
 *   interface EventMap { 'build.finished': { ok: boolean; url?: string } }
 * }
 * registerEventType('build.finished', { ok: field.boolean(), url: field.optional(field.string()) });
 * createEvent('build.finished', { ok: true });
 * ```
 */
export function registerEventType<K extends EventType>(type: K, schema: PayloadSchema): void {
  if (typeof type === 'string') checkControlChars(type, 'type');
  if (typeof type !== 'string' || !TYPE_RE.test(type)) {
    throw new EventValidationError(
      'invalid_field',
      `type "${type}" must be 1-128 of A-Z a-z 0-9 _ . : -`,
      'type',
    );
  }
  const badField =
    typeof schema !== 'object' || schema === null
      ? ''
      : Object.keys(schema).find((name) => typeof schema[name]?.check !== 'function');
  if (badField !== undefined) {
    const where = badField ? `schema.${badField}` : 'schema';
    throw new EventValidationError('invalid_field', `${where} must be built with field.*()`, where);
  }
  if (schemas.has(type))
    throw new EventValidationError('already_registered', `type "${type}" is already registered`, 'type');
  schemas.set(type, schema);
}

/** True when `type` is in the catalog or was registered. */
export function isKnownEventType(type: unknown): type is EventType {
  return typeof type === 'string' && schemas.has(type);
}

/** The schema of a known type, or `undefined`. */
export function schemaOf(type: string): PayloadSchema | undefined {
  return schemas.get(type);
}
