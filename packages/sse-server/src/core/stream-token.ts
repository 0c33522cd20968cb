import { createHmac, timingSafeEqual } from 'node:crypto';
import { requireOption } from '@repopulse/events-core/bus-kit';
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

/** A verified token's claims, with its audience and its issue and expiry times. */
export type VerifiedStreamToken = StreamTokenClaims & {
  /** The audience the token was signed for ({@link STREAM_TOKEN_AUDIENCE} for stream tokens). */
  aud: string;
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

/**
 * The `aud` claim of a stream token. The handler accepts only tokens signed for it, so a token made
 * for another purpose with the same secret (a session, say) never opens a stream, and a stream
 * token is never accepted where another audience is required.
 */
export const STREAM_TOKEN_AUDIENCE = 'repopulse:stream';

/** Options of {@link signStreamToken}. */
export interface SignStreamTokenOptions {
  /**
   * Issue time in ms since epoch; override in tests.
   * @default Date.now()
   */
  now?: number;
  /**
   * The `aud` claim. Keep the default for stream tokens; sign anything else (e.g. a session) for
   * an audience of its own and verify it with the same `audience`.
   * @default STREAM_TOKEN_AUDIENCE ('repopulse:stream')
   * @example 'my-app:session'
   */
  audience?: string;
}

/** Options of {@link verifyStreamToken}. */
export interface VerifyStreamTokenOptions {
  /**
   * Current time; override in tests.
   * @default Date.now()
   */
  now?: number;
  /**
   * The `aud` claim required: a token signed for any other audience is `invalid_token`.
   * @default STREAM_TOKEN_AUDIENCE ('repopulse:stream')
   * @example 'my-app:session'
   */
  audience?: string;
}

const MIN_SECRET_BYTES = 16;
const MAX_TOKEN_LENGTH = 8192;
const B64URL = /^[A-Za-z0-9_-]+$/;
/** What a 401 for a token carries (docs/protocol.md, Errors). */
const AUTHENTICATE_HEADERS = { 'WWW-Authenticate': 'Bearer' };

/** Decodes base64url text that is the canonical encoding of its bytes (no padding, no stray bits). */
function canonicalBase64url(text: string): Buffer | undefined {
  if (!B64URL.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : undefined;
}

function checkAudience(scope: string, audience: unknown): string {
  const valid = typeof audience === 'string' && audience.length > 0;
  requireOption(scope, 'audience', valid, 'a non-empty string', audience);
  return audience as string;
}

/** The keys of `secret` (option `option` of `scope`); throws `OptionsError` unless usable. */
function keysOf(scope: string, option: string, secret: StreamTokenSecret): Buffer[] {
  const list = typeof secret === 'string' || secret instanceof Uint8Array ? [secret] : [...secret];
  requireOption(scope, option, list.length > 0, 'a secret or a non-empty list of secrets', secret);
  return list.map((key) => {
    const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : Buffer.from(key);
    const expected = `at least ${MIN_SECRET_BYTES} bytes long`;
    requireOption(scope, option, bytes.length >= MIN_SECRET_BYTES, expected, `${bytes.length} bytes`);
    return bytes;
  });
}

function sign(body: string, key: Buffer): Buffer {
  return createHmac('sha256', key).update(body).digest();
}

/**
 * Makes a short-lived signed token for `?access_token=`, a cookie or `Authorization: Bearer`
 * (EventSource cannot send headers). Format: `<base64url(JSON claims)>.<base64url(HMAC-SHA256)>`.
 * The claims are readable by anyone holding the token: never put secrets in them. The token
 * carries `aud` ({@link STREAM_TOKEN_AUDIENCE} unless `options.audience` says otherwise), `iat`
 * and `exp`; these claims are set here, not taken from `claims`.
 *
 * @param claims what the token grants (e.g. `{ sub: userId, topics: ['repo:42'] }`)
 * @param secret the HMAC key (≥ 16 bytes; the first of a list signs)
 * @param ttlMs lifetime in milliseconds; a stream opened with it is closed when it expires
 * @param options the issue time (a number: the same as `{ now }`) and the audience
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
  options: number | SignStreamTokenOptions = {},
): string {
  const validTtl = ttlMs > 0 && Number.isFinite(ttlMs);
  requireOption('signStreamToken', 'ttlMs', validTtl, 'a positive, finite number of milliseconds', ttlMs);
  const { now = Date.now(), audience = STREAM_TOKEN_AUDIENCE } =
    typeof options === 'number' ? { now: options } : options;
  const aud = checkAudience('signStreamToken', audience);
  const [key] = keysOf('signStreamToken', 'secret', secret);
  const body = Buffer.from(
    JSON.stringify({ ...claims, aud, iat: now, exp: now + Math.ceil(ttlMs) }),
  ).toString('base64url');
  return `${body}.${sign(body, key as Buffer).toString('base64url')}`;
}

/**
 * Checks a token made by {@link signStreamToken} and returns its claims. Throws
 * {@link StreamHttpError} 401 (with `WWW-Authenticate: Bearer`): `invalid_token` (malformed, not
 * canonical base64url, bad signature, another audience) or `token_expired`.
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
  const keys = keysOf('verifyStreamToken', 'secret', secret);
  const audience = checkAudience('verifyStreamToken', options.audience ?? STREAM_TOKEN_AUDIENCE);
  const invalid = (why: string, cause?: unknown) =>
    new StreamHttpError(401, 'invalid_token', `invalid stream token: ${why}`, {
      headers: AUTHENTICATE_HEADERS,
      cause,
    });
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) throw invalid('malformed');
  const dot = token.indexOf('.');
  const body = token.slice(0, dot);
  const signature = token.slice(dot + 1);
  const decodedBody = dot < 1 ? undefined : canonicalBase64url(body);
  const given = dot < 1 ? undefined : canonicalBase64url(signature);
  if (!decodedBody || !given) throw invalid('malformed');
  const matches = keys.some((key) => {
    const expected = sign(body, key);
    return expected.length === given.length && timingSafeEqual(expected, given);
  });
  if (!matches) throw invalid('bad signature');
  let claims: unknown;
  try {
    claims = JSON.parse(decodedBody.toString('utf8'));
  } catch (cause) {
    throw invalid('malformed claims', cause);
  }
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims))
    throw invalid('malformed claims');
  const { exp, iat, topics, aud } = claims as Record<string, unknown>;
  if (typeof exp !== 'number' || typeof iat !== 'number') throw invalid('missing iat/exp');
  if (aud !== audience) throw invalid('signed for another audience');
  if (topics !== undefined && !(Array.isArray(topics) && topics.every((t) => typeof t === 'string'))) {
    throw invalid('topics must be a list of strings');
  }
  if (exp <= (options.now ?? Date.now()))
    throw new StreamHttpError(401, 'token_expired', 'stream token expired', {
      headers: AUTHENTICATE_HEADERS,
    });
  return claims as VerifiedStreamToken;
}

/** True when the token's `topics` claim (if any) allows `topic`; `*` at the end matches a prefix. */
export function tokenAllowsTopic(token: StreamTokenClaims, topic: string): boolean {
  if (token.topics === undefined) return true;
  return token.topics.some((allowed) =>
    allowed.endsWith('*') ? topic.startsWith(allowed.slice(0, -1)) : allowed === topic,
  );
}

/** Throws `OptionsError` unless `secret` is usable (non-empty, every key ≥ 16 bytes). */
export function checkTokenSecret(scope: string, secret: StreamTokenSecret): void {
  keysOf(scope, 'tokenSecret', secret);
}
