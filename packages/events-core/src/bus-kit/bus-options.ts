import { type BusErrorHandler, type BusOptions, DEFAULT_HISTORY_LIMIT, logBusError } from '../bus';
import { checkOptions, requireOption } from '../options-check';

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
 * Checks a bus factory's options: the keys (every {@link BUS_OPTION_KEYS} entry plus the bus's own
 * `optional`/`required` keys; an unknown key throws `OptionsError` `unknown_option` listing the
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
  const report = resolveErrorHandler(scope, onError, logBusError);
  return { historyLimit, historyTtlMs, maxEventBytes, report };
}

/**
 * A factory's `onError` option, checked and guarded: throws `OptionsError` unless it is a function
 * or undefined, and returns it (`fallback` when undefined) wrapped by {@link guardErrorHandler}.
 *
 * @example
 * ```ts
 * const report = resolveErrorHandler('createMyRelay', options.onError, (error) => console.error(error));
 * ```
 */
export function resolveErrorHandler<Handler extends (error: never, context: never) => void>(
  scope: string,
  onError: Handler | undefined,
  fallback: Handler,
): Handler {
  requireOption(
    scope,
    'onError',
    onError === undefined || typeof onError === 'function',
    'a function',
    onError,
  );
  return guardErrorHandler((onError ?? fallback) as unknown as BusErrorHandler) as unknown as Handler;
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
