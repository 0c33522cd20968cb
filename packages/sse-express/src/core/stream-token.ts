import { createHmac, timingSafeEqual } from 'node:crypto';
import { StreamHttpError } from '../errors';

/**
 * What a stream token grants. Add any claims you need; they come back from
 * {@link verifyStreamToken} and are passed to `authorize`.
 */
export interface StreamTokenClaims {
  /** Who the token was issued to (a user id). */
  sub?: string;
  /**
   * Topics the token may open; an entry ending in `*` matches a prefix (`repo:*`). Absent: any
   * topic (then `authorize` must decide).
   * @example ['repo:42']
   */
  topics?: readonly string[];
  /** Any other claim, JSON-serializable. */
  [claim: string]: unknown;
}

/** A verified token's claims, with its issue and expiry times. */
export type VerifiedStreamToken = StreamTokenClaims & {
  /** Issued at, milliseconds since epoch (unlike JWT, milliseconds). */
  iat: number;
  /** Expires at, milliseconds since epoch (unlike JWT, milliseconds). */
  exp: number;
};

/**
 * An HMAC key: a string (UTF-8) or bytes, at least 16 bytes. A list verifies with any of them
 * and signs with the first, for key rotation.
 */
export type StreamTokenSecret = string | Uint8Array | readonly (string | Uint8Array)[];

/** Options of {@link verifyStreamToken}. */
export interface VerifyStreamTokenOptions {
  /**
   * Current time; override in tests.
   * @default Date.now()
   */
  now?: number;
}

const MIN_SECRET_BYTES = 16;
const MAX_TOKEN_LENGTH = 8192;
const B64URL = /^[A-Za-z0-9_-]+$/;

function keysOf(secret: StreamTokenSecret): Buffer[] {
  const list = typeof secret === 'string' || secret instanceof Uint8Array ? [secret] : [...secret];
  if (list.length === 0) throw new RangeError('[repopulse] a stream token secret list must not be empty');
  return list.map((key) => {
    const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : Buffer.from(key);
    if (bytes.length < MIN_SECRET_BYTES) {
      throw new RangeError(`[repopulse] a stream token secret must be at least ${MIN_SECRET_BYTES} bytes`);
    }
    return bytes;
  });
}

function sign(body: string, key: Buffer): Buffer {
  return createHmac('sha256', key).update(body).digest();
}

/**
 * Makes a short-lived signed token for `?access_token=`, a cookie or `Authorization: Bearer`
 * (EventSource cannot send headers). Format: `<base64url(JSON claims)>.<base64url(HMAC-SHA256)>`.
 * The claims are readable by anyone holding the token: never put secrets in them.
 *
 * @param claims what the token grants (e.g. `{ sub: userId, topics: ['repo:42'] }`)
 * @param secret the HMAC key (≥ 16 bytes; the first of a list signs)
 * @param ttlMs lifetime in milliseconds; a stream opened with it is closed when it expires
 * @example
 * ```ts
 * const token = signStreamToken({ sub: user.id, topics: [`repo:${id}`] }, process.env.STREAM_SECRET!, 60_000);
 * new EventSource(`/api/repositories/${id}/events?access_token=${token}`);
 * ```
 */
export function signStreamToken(
  claims: StreamTokenClaims,
  secret: StreamTokenSecret,
  ttlMs: number,
  now: number = Date.now(),
): string {
  if (!(ttlMs > 0) || !Number.isFinite(ttlMs)) {
    throw new RangeError('[repopulse] ttlMs must be a positive, finite number of milliseconds');
  }
  const [key] = keysOf(secret);
  const body = Buffer.from(JSON.stringify({ ...claims, iat: now, exp: now + Math.ceil(ttlMs) })).toString(
    'base64url',
  );
  return `${body}.${sign(body, key as Buffer).toString('base64url')}`;
}

/**
 * Checks a token made by {@link signStreamToken} and returns its claims. Throws
 * {@link StreamHttpError} 401: `invalid_token` (malformed, bad signature) or `token_expired`.
 *
 * @example
 * ```ts
 * const claims = verifyStreamToken(token, secret); // { sub, topics, iat, exp }
 * ```
 */
export function verifyStreamToken(
  token: string,
  secret: StreamTokenSecret,
  options: VerifyStreamTokenOptions = {},
): VerifiedStreamToken {
  const keys = keysOf(secret);
  const invalid = (why: string) => new StreamHttpError(401, 'invalid_token', `invalid stream token: ${why}`);
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) throw invalid('malformed');
  const dot = token.indexOf('.');
  const body = token.slice(0, dot);
  const signature = token.slice(dot + 1);
  if (dot < 1 || !B64URL.test(body) || !B64URL.test(signature)) throw invalid('malformed');
  const given = Buffer.from(signature, 'base64url');
  const matches = keys.some((key) => {
    const expected = sign(body, key);
    return expected.length === given.length && timingSafeEqual(expected, given);
  });
  if (!matches) throw invalid('bad signature');
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch (cause) {
    throw new StreamHttpError(401, 'invalid_token', 'invalid stream token: malformed claims', { cause });
  }
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims))
    throw invalid('malformed claims');
  const { exp, iat, topics } = claims as Record<string, unknown>;
  if (typeof exp !== 'number' || typeof iat !== 'number') throw invalid('missing iat/exp');
  if (topics !== undefined && !(Array.isArray(topics) && topics.every((t) => typeof t === 'string'))) {
    throw invalid('topics must be a list of strings');
  }
  if (exp <= (options.now ?? Date.now()))
    throw new StreamHttpError(401, 'token_expired', 'stream token expired');
  return claims as VerifiedStreamToken;
}

/** True when the token's `topics` claim (if any) allows `topic`; `*` at the end matches a prefix. */
export function tokenAllowsTopic(token: StreamTokenClaims, topic: string): boolean {
  if (token.topics === undefined) return true;
  return token.topics.some((allowed) =>
    allowed.endsWith('*') ? topic.startsWith(allowed.slice(0, -1)) : allowed === topic,
  );
}

/** Throws `RangeError` unless `secret` is usable (non-empty, every key ≥ 16 bytes). */
export function checkTokenSecret(secret: StreamTokenSecret): void {
  keysOf(secret);
}
