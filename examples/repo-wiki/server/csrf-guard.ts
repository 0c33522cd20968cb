import type { NextFunction, Request, Response } from 'express';
import { AppError } from './app-error';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Refuses cross-site request forgery on every mutating request (anything but GET/HEAD/OPTIONS),
 * login and logout included. Two checks, both required:
 *
 * 1. The request is one a plain HTML form cannot send: `Content-Type: application/json`, or an
 *    `X-Requested-With` or `Authorization` header. Browsers preflight these cross-origin, and the
 *    app answers no CORS preflight, so only the app's own pages (and non-browser clients) can.
 * 2. It comes from this origin: `Sec-Fetch-Site`, when the browser sends it, is `same-origin`
 *    (not `same-site`: a sibling subdomain or another port is another origin), and `Origin`, when
 *    sent, has the request's own host.
 *
 * Clients that are not browsers (curl, the CLI) send neither header and pass check 2.
 */
export function csrfGuard(req: Request, _res: Response, next: NextFunction): void {
  const refusal = SAFE_METHODS.has(req.method) ? undefined : refusalOf(req);
  next(refusal === undefined ? undefined : new AppError('csrf_rejected', refusal));
}

/** Why a mutating request looks forged, or undefined when it does not. */
function refusalOf(req: Request): string | undefined {
  const json = /^application\/json\s*(;|$)/i.test(req.get('content-type') ?? '');
  if (!json && req.get('x-requested-with') === undefined && req.get('authorization') === undefined) {
    return 'a mutating request needs Content-Type: application/json or an X-Requested-With header';
  }
  const site = req.get('sec-fetch-site');
  if (site !== undefined && site !== 'same-origin') {
    return `cross-origin request refused (Sec-Fetch-Site: ${site})`;
  }
  const origin = req.get('origin');
  if (origin !== undefined && hostOf(origin) !== req.get('host')) {
    return 'cross-origin request refused (Origin is not this site)';
  }
  return undefined;
}

function hostOf(origin: string): string | undefined {
  try {
    return new URL(origin).host;
  } catch {
    return undefined; // `null` (sandboxed frames, file: pages) and garbage match no host
  }
}
