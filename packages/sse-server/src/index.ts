export {
  type AuthorizeContext,
  type AuthorizeResult,
  DEFAULT_HEARTBEAT_MS,
  DEFAULT_LONG_POLL_MAX_BYTES,
  DEFAULT_LONG_POLL_MAX_EVENTS,
  DEFAULT_LONG_POLL_WAIT_MS,
  DEFAULT_MAX_BUFFERED_BYTES,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_CONNECTIONS_PER_KEY,
  DEFAULT_RETRY_MS,
  DEFAULT_TOKEN_COOKIE,
  DEFAULT_WINDOW_BYTES,
  DEFAULT_WINDOW_EVENTS,
  DEFAULT_WRITE_TIMEOUT_MS,
  type EventStreamOptions,
  type OptionsScope,
} from './core/options';
export type { RequestView } from './core/request-view';
export type { ResponseSink } from './core/response-sink';
export type { EventStreamStats } from './core/stats';
export {
  type CloseOptions,
  createStreamServer,
  type StreamServer,
  type UnexpectedErrorHandler,
} from './core/stream-server';
export {
  type SignStreamTokenOptions,
  STREAM_TOKEN_AUDIENCE,
  type StreamTokenClaims,
  type StreamTokenSecret,
  signStreamToken,
  type VerifiedStreamToken,
  type VerifyStreamTokenOptions,
  verifyStreamToken,
} from './core/stream-token';
export {
  isStreamHttpError,
  StreamHttpError,
  type StreamHttpErrorCode,
  type StreamHttpErrorOptions,
} from './errors';
