/**
 * The bus-author layer: everything an `EventBus` means, written once, so a bus provides only its
 * storage and transport primitives ({@link BusTransport}) and {@link defineBus} does the rest.
 * Check a new bus with the contract suite (`testBus()` of the bus-contract package).
 *
 * @packageDocumentation
 */
export {
  BUS_OPTION_KEYS,
  guardErrorHandler,
  type ResolvedBusOptions,
  requireOption,
  resolveBusOptions,
} from './bus-options';
export { defineBus } from './define-bus';
export { isolateHandler } from './handler-isolation';
export { REPLAY_PAGE_SIZE, type ReadResult, ReplayMerge, type ReplayMergeHost } from './replay-merge';
export { type CursorOrigin, decideReplay, type RetainedRange } from './reset-decision';
export type { AppendResult, BusTransport, TransportSink } from './transport';
