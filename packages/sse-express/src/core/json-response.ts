import { isStreamHttpError, StreamHttpError } from '../errors';
import type { NodeResponse } from './node-response';

/** The JSON error body: `{"error":{"code","message"}}`. */
export interface ErrorBody {
  /** The refusal. */
  error: {
    /** Machine-readable reason, e.g. `missing_token`. */
    code: string;
    /** Human-readable detail. */
    message: string;
  };
}

/** Turns anything thrown into the HTTP error to send (500 `internal_error` for the unexpected). */
export function toHttpError(error: unknown): StreamHttpError {
  return isStreamHttpError(error)
    ? error
    : new StreamHttpError(500, 'internal_error', 'internal error', { cause: error });
}

/** Sends `error` as status + JSON body. The response must not have started. */
export function sendJsonError(res: NodeResponse, error: StreamHttpError): void {
  const body: ErrorBody = {
    error: { code: error.code, message: error.publicMessage ?? error.message },
  };
  const bytes = Buffer.from(JSON.stringify(body), 'utf8');
  res.writeHead(error.status, {
    ...error.headers,
    'Content-Type': 'application/json; charset=utf-8',
    'Cache-Control': 'no-store',
    'Content-Length': String(bytes.length),
  });
  res.end(bytes);
}
