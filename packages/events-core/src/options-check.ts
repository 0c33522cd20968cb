import { describeValue } from './describe-value';
import { RepoPulseError } from './errors';

/** Why a factory refused its options. */
export type OptionsErrorCode = 'unknown_option' | 'missing_option' | 'invalid_option';

/**
 * Thrown by a RepoPulse factory (`createMemoryBus`, `createRedisBus`, `createEventStreamHandler`, …)
 * when its options object has a key it does not know (a typo such as `heartbeatMS`), lacks a
 * required one, or is not an object. The message names the factory, the key, and the valid keys.
 *
 * @example
 * ```ts
 * try { createMemoryBus({ historylimit: 10 } as never); } catch (e) {
 *   if (e instanceof OptionsError) console.log(e.code, e.option); // 'unknown_option' 'historylimit'
 * }
 * ```
 */
export class OptionsError extends RepoPulseError<OptionsErrorCode> {
  /** The option at fault, when one is to blame (`backoff.initialMs` for a nested one). */
  declare readonly option: string | undefined;

  constructor(code: OptionsErrorCode, message: string, option?: string) {
    super(code, message);
    this.option = option;
  }
}

/** What {@link checkOptions} accepts. */
export interface OptionsShape {
  /** Keys that must be present (not `undefined`). */
  required?: readonly string[];
  /** Keys that may be present. */
  optional?: readonly string[];
}

/**
 * Checks a factory's options object in plain JavaScript too: throws {@link OptionsError}
 * `invalid_option` when it is not an object, `unknown_option` for a key outside `shape` (with a
 * "did you mean" for a case slip), `missing_option` for an absent required key. Checks keys only;
 * each factory validates the values with {@link requireOption}.
 *
 * @param scope - the factory's name, used in messages (e.g. `createMemoryBus`).
 * @param prefix - for a nested options object, its path and a dot (e.g. `backoff.`): messages and
 *   `OptionsError.option` then name `backoff.initialMs`.
 * @example
 * ```ts
 * checkOptions('createMemoryBus', options, { optional: ['historyLimit', 'historyTtlMs'] });
 * checkOptions('createEventStream', options.backoff, { optional: ['initialMs', 'maxMs'] }, 'backoff.');
 * ```
 */
export function checkOptions(
  scope: string,
  options: unknown,
  { required = [], optional = [] }: OptionsShape,
  prefix = '',
): void {
  const known = [...required, ...optional];
  if (options === undefined && !required.length) return;
  requireOption(
    scope,
    prefix.slice(0, -1) || 'options',
    typeof options === 'object' && options !== null && !Array.isArray(options),
    'an object',
    options,
  );
  const quoted = (key: string) => `"${prefix}${key}"`;
  for (const key of Object.keys(options as object)) {
    if (known.includes(key)) continue;
    const hint = known.find((name) => name.toLowerCase() === key.toLowerCase()); // a case slip
    throw new OptionsError(
      'unknown_option',
      `${scope}: unknown option ${quoted(key)}${hint ? ` (did you mean ${quoted(hint)}?)` : ''}; valid options: ${known.map((name) => prefix + name).join(', ')}`,
      prefix + key,
    );
  }
  for (const key of required)
    if ((options as Record<string, unknown>)[key] === undefined)
      throw new OptionsError('missing_option', `${scope}: option ${quoted(key)} is required`, prefix + key);
}

/**
 * Throws {@link OptionsError} `invalid_option` for `option` of `scope` unless `valid`: the one check
 * of an option's value every RepoPulse package uses (with {@link checkOptions} for the keys). The message
 * reads `<scope>: <option> must be <expected>; got <value>`.
 *
 * @example
 * ```ts
 * requireOption('createMyBus', 'flushMs', Number.isInteger(ms) && ms > 0, 'a positive integer', ms);
 * ```
 */
export function requireOption(
  scope: string,
  option: string,
  valid: boolean,
  expected: string,
  value: unknown,
): void {
  if (valid) return;
  throw new OptionsError(
    'invalid_option',
    `${scope}: ${option} must be ${expected}; got ${describeValue(value)}`,
    option,
  );
}
