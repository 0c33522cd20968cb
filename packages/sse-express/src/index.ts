export {
  type CloseOptions,
  createEventStreamCore,
  type EventStreamCore,
  type UnexpectedErrorHandler,
} from './core/event-stream-core';
export type { ErrorBody } from './core/json-response';
export type { LongPollResponse } from './core/long-poll';
export type { NodeResponse } from './core/node-response';
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
  DEFAULT_WRITE_TIMEOUT_MS,
  type EventStreamOptions,
} from './core/options';
export type { NodeRequest } from './core/request-info';
export type { EventStreamStats } from './core/stats';
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
export {
  createEventStreamHandler,
  type EventStreamHandler,
  type ExpressLikeRequest,
  type NextFunction,
} from './express';
