export {
  type AuthorizeContext,
  type AuthorizeResult,
  type CloseOptions,
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
  type EventStreamStats,
  isStreamHttpError,
  type SignStreamTokenOptions,
  STREAM_TOKEN_AUDIENCE,
  StreamHttpError,
  type StreamHttpErrorCode,
  type StreamHttpErrorOptions,
  type StreamTokenClaims,
  type StreamTokenSecret,
  signStreamToken,
  type UnexpectedErrorHandler,
  type VerifiedStreamToken,
  type VerifyStreamTokenOptions,
  verifyStreamToken,
} from '@repopulse/sse-server';
export type { NodeRequest, NodeResponse } from '@repopulse/sse-server/node';
export type { ErrorBody, LongPollResponse } from './deprecated-types';
export { createEventStreamCore, type EventStreamCore, type EventStreamOptions } from './event-stream-core';
export {
  createEventStreamHandler,
  type EventStreamHandler,
  type ExpressLikeRequest,
  type NextFunction,
} from './express';
