import { AppError } from '../app-error';
import type { RepositoryRow } from '../db';

/** A logged-in user. */
export interface AuthUser {
  /** Login name. */
  username: string;
  /** `admin` sees every repository; `member` only its own. */
  role: 'admin' | 'member';
}

/** True when `user` may see `repo`. */
export function canSee(user: AuthUser, repo: Pick<RepositoryRow, 'owner'>): boolean {
  return user.role === 'admin' || repo.owner === user.username;
}

/** Throws `AppError('forbidden')` unless `user` may see `repo`. */
export function assertCanSee(user: AuthUser, repo: Pick<RepositoryRow, 'owner' | 'id'>): void {
  if (!canSee(user, repo)) {
    throw new AppError('forbidden', `user "${user.username}" may not access repository ${repo.id}`);
  }
}
