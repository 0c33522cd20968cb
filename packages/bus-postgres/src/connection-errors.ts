/**
 * SQLSTATE classes and codes after which the same statement may succeed on another connection or a
 * little later: connection exceptions (08), the server shutting down, restarting or terminating the
 * backend (57P01–57P03), too many connections (53300), a serialization failure or deadlock (40001,
 * 40P01).
 */
const RETRYABLE_CODES = new Set(['57P01', '57P02', '57P03', '53300', '40001', '40P01']);

/** Network errors of Node's sockets, and pg's own messages for a connection that went away. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
]);
const CONNECTION_MESSAGES = [
  'Connection terminated',
  'connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error',
  'the database system is',
];

/** True when `error` says the connection or server failed, not the statement: retrying may work. */
export function isRetryable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (code.startsWith('08') || RETRYABLE_CODES.has(code) || NETWORK_CODES.has(code)) return true;
  }
  const message = (error as { message?: unknown }).message;
  return typeof message === 'string' && CONNECTION_MESSAGES.some((text) => message.includes(text));
}

/** The message of any thrown value. */
export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
