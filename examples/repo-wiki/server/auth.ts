import { signStreamToken, verifyStreamToken } from '@repopulse/sse-express';
import type { Request } from 'express';
import { AppError } from './app-error';
import type { DemoUser } from './config';
import type { AuthUser } from './services/access';

/** Logs users in and recognizes them on later requests. */
export interface Authenticator {
  /** Name of the session cookie. */
  readonly cookieName: string;
  /** Lifetime of a session (cookie and token). */
  readonly sessionTtlMs: number;
  /** Checks a login; returns a signed token for the cookie, `Bearer` or `?access_token=`. Throws `unauthorized`. */
  login(username: unknown, password: unknown): { token: string; user: AuthUser };
  /** The user of a request (Bearer, `?access_token=` or cookie, in that order). Throws `unauthorized`. */
  authenticate(req: Request): AuthUser;
}

/** Options of {@link createAuthenticator}. */
export interface AuthenticatorOptions {
  users: readonly DemoUser[];
  /** HMAC secret (≥ 16 bytes). */
  secret: string;
  /** @default 'repopulse_session' */
  cookieName?: string;
  /** @default 12 hours */
  sessionTtlMs?: number;
}

function cookie(header: string | undefined, name: string): string | undefined {
  for (const part of header?.split(';') ?? []) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

/** Token from `Authorization: Bearer`, then `?access_token=`, then the session cookie. */
function tokenOf(req: Request, cookieName: string): string | undefined {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '');
  if (bearer) return bearer[1];
  const query = req.query.access_token;
  if (typeof query === 'string' && query !== '') return query;
  return cookie(req.get('cookie'), cookieName);
}

/**
 * Demo authentication: fixed users, sessions as signed stream tokens (sse-express's
 * `signStreamToken`), so one token works as the cookie, as `Bearer` and as `?access_token=`.
 */
export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const cookieName = options.cookieName ?? 'repopulse_session';
  const sessionTtlMs = options.sessionTtlMs ?? 12 * 60 * 60 * 1000;
  const byName = new Map(options.users.map((u) => [u.username, u]));
  return {
    cookieName,
    sessionTtlMs,
    login(username, password) {
      const user = typeof username === 'string' ? byName.get(username) : undefined;
      if (!user || typeof password !== 'string' || user.password !== password) {
        throw new AppError('unauthorized', 'unknown user or wrong password');
      }
      const token = signStreamToken({ sub: user.username, role: user.role }, options.secret, sessionTtlMs);
      return { token, user: { username: user.username, role: user.role } };
    },
    authenticate(req) {
      const token = tokenOf(req, cookieName);
      if (!token) throw new AppError('unauthorized', 'log in first (cookie, Bearer token or ?access_token=)');
      let claims: ReturnType<typeof verifyStreamToken>;
      try {
        claims = verifyStreamToken(token, options.secret);
      } catch (cause) {
        throw new AppError('unauthorized', 'invalid or expired session', { cause });
      }
      const user = typeof claims.sub === 'string' ? byName.get(claims.sub) : undefined;
      if (!user) throw new AppError('unauthorized', 'unknown user');
      return { username: user.username, role: user.role };
    },
  };
}
