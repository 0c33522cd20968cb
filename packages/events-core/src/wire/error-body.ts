/** The JSON body of a refused request (before any stream opens): `{"error":{"code","message"}}`. */
export interface ErrorBody {
  /** The refusal. */
  error: {
    /** Machine-readable reason, e.g. `missing_token`. */
    code: string;
    /** Human-readable detail. */
    message: string;
  };
}

/**
 * The JSON text of a refusal.
 *
 * @example
 * ```ts
 * encodeErrorBody('not_found', 'unknown repository');
 * // '{"error":{"code":"not_found","message":"unknown repository"}}'
 * ```
 */
export function encodeErrorBody(code: string, message: string): string {
  const body: ErrorBody = { error: { code, message } };
  return JSON.stringify(body);
}

/**
 * The code and message of a parsed refusal body; each `''` when absent or not a string (any
 * JSON, or none, may come back from a proxy).
 *
 * @example
 * ```ts
 * parseErrorBody(await res.json().catch(() => undefined)).message;
 * ```
 */
export function parseErrorBody(body: unknown): { code: string; message: string } {
  const error = (body as Partial<ErrorBody> | null | undefined)?.error;
  const text = (value: unknown) => (typeof value === 'string' ? value : '');
  return { code: text(error?.code), message: text(error?.message) };
}
