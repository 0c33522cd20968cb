import { StreamHttpError } from '../errors';
import type { ResolvedOptions } from './options';
import { findToken, type Transport } from './request-info';
import type { RequestView } from './request-view';
import { tokenAllowsTopic, type VerifiedStreamToken, verifyStreamToken } from './stream-token';

/** The outcome of a request's auth: when its credentials stop being valid. */
export interface Grant {
  /** Ms since epoch after which a stream must be closed; `Infinity` for never. */
  expiresAt: number;
  /** The verified stream token, when the request carried one. */
  token: VerifiedStreamToken | undefined;
}

/**
 * Runs the token check (when `tokenSecret` is set) then `authorize`. Throws `StreamHttpError`:
 * 401 `missing_token` / `invalid_token` / `token_expired`, 403 `forbidden`, or whatever
 * `authorize` threw.
 */
export async function authenticate<Req>(
  options: ResolvedOptions<Req>,
  view: RequestView,
  req: Req,
  query: URLSearchParams,
  topic: string,
  transport: Transport,
): Promise<Grant> {
  let token: VerifiedStreamToken | undefined;
  let expiresAt = Number.POSITIVE_INFINITY;
  if (options.tokenSecret !== undefined) {
    const found = findToken(view, query, options.tokenCookie);
    if (found) {
      token = verifyStreamToken(found.token, options.tokenSecret);
      if (!tokenAllowsTopic(token, topic)) {
        throw new StreamHttpError(403, 'forbidden', 'the stream token does not grant this topic');
      }
      expiresAt = token.exp;
    } else if (options.requireToken) {
      throw new StreamHttpError(401, 'missing_token', 'a stream token is required', {
        headers: { 'WWW-Authenticate': 'Bearer' },
      });
    }
  }
  if (options.authorize) {
    const result = await options.authorize(req, { topic, token, transport });
    if (result === false) throw new StreamHttpError(403, 'forbidden', 'not allowed to read this topic');
    if (typeof result === 'object' && result !== null && typeof result.expiresAt === 'number') {
      if (result.expiresAt <= Date.now()) {
        throw new StreamHttpError(401, 'token_expired', 'credentials expired', {
          headers: { 'WWW-Authenticate': 'Bearer' },
        });
      }
      expiresAt = Math.min(expiresAt, result.expiresAt);
    }
  }
  return { expiresAt, token };
}
