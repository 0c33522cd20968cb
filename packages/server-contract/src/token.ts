import { createHmac } from 'node:crypto';

/**
 * Signs a stream token exactly as docs/protocol.md describes it (base64url JSON claims, `.`,
 * base64url HMAC-SHA256), independently of any server package, so the suite checks the format
 * and not only a round trip through one implementation.
 */
export function signToken(
  secret: string,
  claims: { topics?: string[]; sub?: string },
  ttlMs: number,
  now = Date.now(),
): string {
  const body = Buffer.from(
    JSON.stringify({ ...claims, aud: 'repopulse:stream', iat: now, exp: now + ttlMs }),
  ).toString('base64url');
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}
