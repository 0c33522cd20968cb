export { type BackoffOptions, computeBackoff, parseRetryAfter } from './backoff';
export { EventStreamError, type EventStreamErrorCode } from './errors';
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
} from './types';
