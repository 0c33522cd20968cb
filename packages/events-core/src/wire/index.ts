/**
 * The protocol between a RepoPulse server and its clients, defined once: stream positions and their
 * order, SSE frames (encode and parse), the reset and its wire form (snake_case on the wire,
 * camelCase in code), the long-poll query and answer, and the error body of a refused request.
 * Dependency-free and tree-shakable: a browser client pays only for what it imports.
 *
 * @packageDocumentation
 */
export { type ErrorBody, encodeErrorBody, parseErrorBody } from './error-body';
export {
  encodeLongPollBody,
  encodeLongPollItem,
  type LongPollAnswer,
  type LongPollBody,
  parseLongPollBody,
} from './long-poll';
export {
  comparePositions,
  formatPosition,
  isAfter,
  isPosition,
  nextPosition,
  type PositionParts,
  parsePosition,
  type StreamPosition,
  ZERO_POSITION,
} from './position';
export {
  type LongPollQuery,
  longPollUrl,
  readLastEventIdQuery,
  readLongPollQuery,
  STREAM_QUERY,
} from './query';
export {
  type ResetDelivery,
  type ResetReason,
  resetFromWire,
  resetToWire,
  retainedTailAfter,
  type WireReset,
} from './reset';
export {
  encodeSseComment,
  encodeSseFrame,
  encodeSseFrameFromJson,
  encodeSseReset,
  encodeSseRetry,
  type ResetFrameData,
} from './sse-frame';
export { createSseParser, type SseMessage } from './sse-parser';
