import { describeValue } from './describe-value';

/**
 * A tiny payload schema language: enough to validate the event catalog and custom events
 * without a runtime dependency. A schema maps field names to {@link FieldSpec}s.
 */

/** Validates one field value. `describe` is used in error messages ("must be a string"). */
export interface FieldSpec<T = unknown> {
  /** Human description of what is expected, e.g. `a string`, `one of pending, running`. */
  readonly describe: string;
  /** True when the field may be absent (`undefined`). */
  readonly optional: boolean;
  /** Returns true when `value` is acceptable. */
  check(value: unknown): boolean;
  /** Phantom marker carrying the field's TypeScript type; never set at runtime. */
  readonly __type?: T;
}

/** A payload schema: field name → spec. Fields not listed are allowed (forward compatibility). */
export type PayloadSchema = Record<string, FieldSpec>;

/**
 * The TypeScript payload type a {@link PayloadSchema} of `field.*()` builders describes
 * ({@link PayloadOf} picks it for such a schema).
 *
 * @example
 * ```ts
 * type P = FieldsPayloadOf<{ ok: RequiredFieldSpec<boolean> }>; // { ok: boolean }
 * ```
 */
export type FieldsPayloadOf<S extends PayloadSchema> = {
  [K in keyof S as S[K]['optional'] extends true ? never : K]: S[K] extends FieldSpec<infer T> ? T : never;
} & {
  [K in keyof S as S[K]['optional'] extends true ? K : never]?: S[K] extends FieldSpec<infer T> ? T : never;
};

/** A field that must be present. */
export interface RequiredFieldSpec<T> extends FieldSpec<T> {
  /** Always false: the field is required. */
  readonly optional: false;
}

/** A field that may be absent. */
export interface OptionalFieldSpec<T> extends FieldSpec<T> {
  /** Always true: the field may be absent. */
  readonly optional: true;
}

function spec<T>(describe: string, check: (value: unknown) => boolean): RequiredFieldSpec<T> {
  return { describe, optional: false, check };
}

/** Field builders for {@link PayloadSchema}s. */
export const field = {
  /** A string (optionally with a maximum length). */
  string: (maxLength = Number.POSITIVE_INFINITY) =>
    spec<string>('a string', (v) => typeof v === 'string' && v.length <= maxLength),
  /** A finite number, optionally within `[min, max]`. */
  number: (min = Number.NEGATIVE_INFINITY, max = Number.POSITIVE_INFINITY) =>
    spec<number>(
      Number.isFinite(min) || Number.isFinite(max) ? `a number from ${min} to ${max}` : 'a finite number',
      (v) => typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max,
    ),
  /** A boolean. */
  boolean: () => spec<boolean>('a boolean', (v) => typeof v === 'boolean'),
  /** One of a fixed set of string values. */
  oneOf: <const V extends readonly string[]>(values: V) =>
    spec<V[number]>(`one of ${values.join(', ')}`, (v) => typeof v === 'string' && values.includes(v)),
  /** Any JSON value (objects, arrays, strings, numbers, booleans, null). */
  json: () => spec<unknown>('a JSON value', () => true),
  /** Makes a field optional: absent (`undefined`) is accepted, anything present is checked. */
  optional: <T>(inner: FieldSpec<T>): OptionalFieldSpec<T> => ({
    describe: inner.describe,
    optional: true,
    check: (v) => v === undefined || inner.check(v),
  }),
};

/**
 * Checks `payload` against a schema's fields (`Object.entries(schema)`, taken once when the type
 * is set up); returns the first failing field name and what is wrong with it (`is required (a
 * string)`, `must be a number from 0 to 100, got "x"`), or `undefined` when valid.
 */
export function checkSchema(
  fields: readonly (readonly [string, FieldSpec])[],
  payload: Record<string, unknown>,
): { field: string; problem: string } | undefined {
  for (const [name, fieldSpec] of fields) {
    const value = payload[name];
    if (value === undefined && !fieldSpec.optional)
      return { field: name, problem: `is required (${fieldSpec.describe})` };
    if (!fieldSpec.check(value))
      return { field: name, problem: `must be ${fieldSpec.describe}, got ${describeValue(value)}` };
  }
  return undefined;
}
