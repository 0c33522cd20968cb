import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { AppError } from './app-error';
import type { DemoUser } from './config';
import type { Db } from './db';
import type { AuthUser } from './services/access';

/** A logged-in session, as a request presents it. */
export interface AuthSession {
  /** The session's id (a hash of its token: the token itself is never stored). */
  id: string;
  /** Whose session it is. */
  user: AuthUser;
  /** When it ends, ms since epoch (a stream of it is closed then). */
  expiresAt: number;
}

/** Logs users in and out, and recognizes them on later requests. */
export interface Authenticator {
  /** Name of the session cookie. */
  readonly cookieName: string;
  /** Lifetime of a session (cookie and token). */
  readonly sessionTtlMs: number;
  /**
   * Checks a login and starts a session; its token works as the cookie, `Bearer` or
   * `?access_token=`. Throws `unauthorized`.
   */
  login(username: unknown, password: unknown): { token: string; session: AuthSession };
  /** The session of a request (Bearer, `?access_token=` or cookie, in that order). Throws `unauthorized`. */
  authenticate(req: IncomingMessage): AuthSession;
  /** Ends the request's session, if it has a valid one; returns it. */
  logout(req: IncomingMessage): AuthSession | undefined;
}

/** Options of {@link createAuthenticator}. */
export interface AuthenticatorOptions {
  users: readonly DemoUser[];
  /** Where sessions live (the `sessions` table). */
  db: Db;
  /** @default 'repopulse_session' */
  cookieName?: string;
  /** @default 12 hours */
  sessionTtlMs?: number;
}

/** 32 random bytes, base64url. */
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/** One cookie's value; a value that is not valid percent-encoding counts as absent. */
function cookie(header: string | undefined, name: string): string | undefined {
  for (const part of header?.split(';') ?? []) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** Token from `Authorization: Bearer`, then `?access_token=`, then the session cookie. */
function tokenOf(req: IncomingMessage, cookieName: string): string | undefined {
  const authorization = req.headers.authorization;
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (bearer) return bearer[1];
  const query = new URL(req.url ?? '/', 'http://x').searchParams.get('access_token');
  if (query) return query;
  return cookie(req.headers.cookie, cookieName);
}

const sessionId = (token: string) => createHash('sha256').update(token).digest('hex');

/**
 * Demo authentication: fixed users, server-side sessions in SQLite. A session's token is random
 * (only its hash is stored), so logging out revokes it for good, on every instance sharing the
 * database.
 */
export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const cookieName = options.cookieName ?? 'repopulse_session';
  const sessionTtlMs = options.sessionTtlMs ?? 12 * 60 * 60 * 1000;
  const byName = new Map(options.users.map((u) => [u.username, u]));
  const { db } = options;
  const insert = db.prepare(
    'INSERT INTO sessions (id, username, created_at, expires_at) VALUES (?, ?, ?, ?)',
  );
  const purge = db.prepare('DELETE FROM sessions WHERE expires_at <= ?');
  const find = db.prepare('SELECT username, expires_at FROM sessions WHERE id = ?');
  const remove = db.prepare('DELETE FROM sessions WHERE id = ?');

  const authenticate = (req: IncomingMessage): AuthSession => {
    const token = tokenOf(req, cookieName);
    if (!token) throw new AppError('unauthorized', 'log in first (cookie, Bearer token or ?access_token=)');
    const invalid = () => new AppError('unauthorized', 'invalid, expired or ended session');
    if (!TOKEN.test(token)) throw invalid();
    const id = sessionId(token);
    const row = find.get(id) as { username: string; expires_at: number } | undefined;
    if (!row || row.expires_at <= Date.now()) throw invalid();
    const user = byName.get(row.username);
    if (!user) throw new AppError('unauthorized', 'unknown user');
    return { id, user: { username: user.username, role: user.role }, expiresAt: row.expires_at };
  };

  return {
    cookieName,
    sessionTtlMs,
    login(username, password) {
      const user = typeof username === 'string' ? byName.get(username) : undefined;
      if (!user || typeof password !== 'string' || user.password !== password) {
        throw new AppError('unauthorized', 'unknown user or wrong password');
      }
      const now = Date.now();
      const token = randomBytes(32).toString('base64url');
      const session: AuthSession = {
        id: sessionId(token),
        user: { username: user.username, role: user.role },
        expiresAt: now + sessionTtlMs,
      };
      purge.run(now);
      insert.run(session.id, user.username, now, session.expiresAt);
      return { token, session };
    },
    authenticate,
    logout(req) {
      let session: AuthSession;
      try {
        session = authenticate(req);
      } catch {
        return undefined;
      }
      remove.run(session.id);
      return session;
    },
  };
}
