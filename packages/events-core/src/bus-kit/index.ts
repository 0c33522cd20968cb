/**
 * The bus-author layer: everything an `EventBus` means, written once, so a bus provides only its
 * storage and transport primitives ({@link BusTransport}) and {@link defineBus} does the rest.
 * Check a new bus with the contract suite (`testBus()` of the bus-contract package). It also holds
 * what every RepoPulse package (a bus, a server adapter, the client) shares: the topic check, the
 * options checker behind every `OptionsError`, the one retry backoff, and the rate-limited error log
 * behind the default `onError`. The options checker and the backoff are dependency-free, so a browser
 * bundle that imports them carries nothing else of this entry.
 * Positions and frames are in `@repopulse/events-core/wire`.
 *
 * @packageDocumentation
 */

export { type BackoffPolicy, computeBackoff } from '../backoff';
export { assertTopic, logBusError } from '../bus';
export { createErrorLog, type ErrorLog, type ErrorLogOptions, errorLogKey } from '../error-log';
export { checkOptions, type OptionsShape, requireOption } from '../options-check';
export {
  BUS_OPTION_KEYS,
  guardErrorHandler,
  type ResolvedBusOptions,
  resolveBusOptions,
  resolveErrorHandler,
} from './bus-options';
export { defineBus } from './define-bus';
export { isolateHandler } from './handler-isolation';
export { REPLAY_PAGE_SIZE, type ReadResult, ReplayMerge, type ReplayMergeHost } from './replay-merge';
export { type CursorOrigin, decideReplay, neverWrittenRange, type RetainedRange } from './reset-decision';
export type { AppendResult, BusTransport, TransportSink } from './transport';
export { validatedEnvelopeFromJson, validatedEnvelopeJson } from './validated-json';
export { Waiters } from './waiters';
export { withTimeout } from './with-timeout';
