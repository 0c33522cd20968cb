export { type BackoffOptions, computeBackoff, parseRetryAfter } from './backoff';
export { EventStreamError, type EventStreamErrorCode } from './errors';
export {
  createLiveResource,
  type LiveResource,
  type LiveResourceOptions,
  type LiveResourceValue,
} from './live-resource';
export type { ShareOptions } from './share/types';
export { createEventStream } from './stream';
export type {
  EventHandler,
  EventStream,
  EventStreamOptions,
  EventStreamState,
  FallbackOptions,
  FetchLike,
  HeadersContext,
  ResetNotice,
  StreamItem,
  StreamOpener,
} from './types';
