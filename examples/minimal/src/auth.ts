import type { NextFunction, Request, Response } from 'express';

/** The signed-in user, as your existing authentication (sessions, passport, JWT…) provides it. */
export interface User {
  name: string;
  /** Ids of the repositories this user may see. */
  repos: string[];
}

// Tell TypeScript about `req.user`, as passport's types do.
declare global {
  namespace Express {
    interface Request {
      user?: User;
    }
  }
}

const USERS: Record<string, User> = {
  alice: { name: 'alice', repos: ['42'] },
  bob: { name: 'bob', repos: ['7'] },
};

/** A stand-in for your authentication middleware: the `user` cookie names the user (alice by default). */
export function authenticate(req: Request, _res: Response, next: NextFunction): void {
  const name = /(?:^|;\s*)user=(\w+)/.exec(req.headers.cookie ?? '')?.[1] ?? 'alice';
  req.user = USERS[name];
  next();
}

/** Whether `user` may see repository `repoId`. */
export function canSee(user: User | undefined, repoId: string): boolean {
  return user?.repos.includes(repoId) === true;
}
