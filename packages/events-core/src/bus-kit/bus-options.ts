import { type BusErrorHandler, type BusOptions, DEFAULT_HISTORY_LIMIT, logBusError } from '../bus';
import { checkOptions, OptionsError } from '../options-check';

/** The option keys of {@link BusOptions}, which every bus accepts. */
export const BUS_OPTION_KEYS: readonly (keyof BusOptions)[] = [
  'historyLimit',
  'historyTtlMs',
  'onError',
  'maxEventBytes',
];

/** {@link BusOptions} with defaults applied and values checked, as {@link defineBus} takes them. */
export interface ResolvedBusOptions {
  /** Events retained per topic. */
  historyLimit: number;
  /** Age limit of retained events in ms; `undefined`: none. */
  historyTtlMs: number | undefined;
  /** Largest accepted envelope in bytes; `undefined`: the envelope parser's default. */
  maxEventBytes: number | undefined;
  /** Receives errors nobody awaits; never throws (a throwing `onError` is swallowed). */
  report: BusErrorHandler;
}

/**
 * Throws {@link OptionsError} `invalid_option` for `option` of `scope` unless `valid`. The message
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

/**
 * Checks a bus factory's options: the keys (every {@link BUS_OPTION_KEYS} entry plus the bus's own
 * `optional`/`required` keys; an unknown key throws {@link OptionsError} `unknown_option` listing the
 * valid ones) and the values of the shared options, then applies their defaults. The bus checks the
 * values of its own options itself, with {@link requireOption}.
 *
 * @param scope - the factory's name, used in messages (e.g. `createMemoryBus`).
 * @example
 * ```ts
 * const resolved = resolveBusOptions('createMyBus', options, { optional: ['flushMs'] });
 * ```
 */
export function resolveBusOptions(
  scope: string,
  options: BusOptions | undefined,
  own: { required?: readonly string[]; optional?: readonly string[] } = {},
): ResolvedBusOptions {
  checkOptions(scope, options, {
    required: own.required,
    optional: [...BUS_OPTION_KEYS, ...(own.optional ?? [])],
  });
  const { historyLimit = DEFAULT_HISTORY_LIMIT, historyTtlMs, maxEventBytes, onError } = options ?? {};
  requireOption(
    scope,
    'historyLimit',
    Number.isInteger(historyLimit) && historyLimit >= 1,
    'a positive integer',
    historyLimit,
  );
  requireOption(
    scope,
    'historyTtlMs',
    historyTtlMs === undefined || (typeof historyTtlMs === 'number' && historyTtlMs > 0),
    'a positive number of milliseconds',
    historyTtlMs,
  );
  requireOption(
    scope,
    'maxEventBytes',
    maxEventBytes === undefined || (Number.isInteger(maxEventBytes) && maxEventBytes > 0),
    'a positive integer',
    maxEventBytes,
  );
  requireOption(
    scope,
    'onError',
    onError === undefined || typeof onError === 'function',
    'a function',
    onError,
  );
  return { historyLimit, historyTtlMs, maxEventBytes, report: guardErrorHandler(onError ?? logBusError) };
}

/** Wraps `onError` so that an error it throws itself is swallowed: reporting never breaks delivery. */
export function guardErrorHandler(onError: BusErrorHandler): BusErrorHandler {
  return (error, context) => {
    try {
      onError(error, context);
    } catch {
      // an onError that throws must not break delivery
    }
  };
}

function describeValue(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'object' && value !== null) return Array.isArray(value) ? 'an array' : 'an object';
  return String(value);
}
