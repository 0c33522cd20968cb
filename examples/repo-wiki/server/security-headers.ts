import type { NextFunction, Request, Response } from 'express';

/**
 * The Content-Security-Policy of every answer. The built UI is one module script and one
 * stylesheet from `/assets`, so nothing inline is allowed: injected markup can neither run script
 * nor load anything from elsewhere, and no other site may frame the app.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const HEADERS: Record<string, string> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  // For browsers without `frame-ancestors`.
  'X-Frame-Options': 'DENY',
  // `?access_token=` in a URL never leaves in a Referer.
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
};

/** Sets the security headers on every response (pages, assets, API, streams, errors). */
export function securityHeaders(_req: Request, res: Response, next: NextFunction): void {
  for (const [name, value] of Object.entries(HEADERS)) res.setHeader(name, value);
  next();
}
