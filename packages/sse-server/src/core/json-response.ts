import { encodeErrorBody, type ErrorBody as WireErrorBody } from '@repopulse/events-core/wire';
import { isStreamHttpError, StreamHttpError } from '../errors';
import type { ResponseSink } from './response-sink';

/** @deprecated The wire module's `ErrorBody` (`@repopulse/events-core/wire`). */
export type ErrorBody = WireErrorBody;

/** Turns anything thrown into the HTTP error to send (500 `internal_error` for the unexpected). */
export function toHttpError(error: unknown): StreamHttpError {
  return isStreamHttpError(error)
    ? error
    : new StreamHttpError(500, 'internal_error', 'internal error', { cause: error });
}

/** Sends `error` as status + JSON body. The response must not have started. */
export function sendJsonError(res: ResponseSink, error: StreamHttpError): void {
  const bytes = Buffer.from(encodeErrorBody(error.code, error.publicMessage ?? error.message), 'utf8');
  res.writeHead(error.status, {
    ...error.headers,
    'Content-Type': 'application/json; charset=utf-8',
    'Cache-Control': 'no-store',
    'Content-Length': String(bytes.length),
  });
  res.end(bytes);
}
