import { timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import { AppError } from '../errors';

/** Multipart forms are checked by their route (the token is the form's first field, read before any
 * file is stored); the JSON API authenticates with bearer tokens only, never the session cookie. */
export function skipsSessionCsrf(req: Request): boolean {
  return req.path.startsWith('/api/') || req.is('multipart/form-data') === 'multipart/form-data';
}

export function assertCsrfToken(req: Request, token: unknown): void {
  const expected = req.session?.csrfToken;
  const ok =
    typeof token === 'string' &&
    typeof expected === 'string' &&
    token.length === expected.length &&
    timingSafeEqual(Buffer.from(token), Buffer.from(expected));
  if (!ok) throw new AppError('CSRF_INVALID', 403, 'error.csrf');
}
