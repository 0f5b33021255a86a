import { timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import { AppError } from '../errors';

/** The multipart forms whose routes check the CSRF token themselves, as the form's first field, before
 * any file is stored. Every other form, whatever its content type, goes through csrf-sync. */
const MULTIPART_ROUTES: readonly RegExp[] = [
  /^\/verify$/,
  /^\/procedures\/[^/]+\/file$/,
  /^\/my\/drafts\/\d+$/,
  /^\/my\/dossiers\/[^/]+\/resubmit$/,
  /^\/desk\/intake\/[^/]+$/,
  /^\/desk\/dossiers\/[^/]+\/actions\/[a-z_]+$/,
  /^\/admin\/certificates\/import$/,
];

/** The JSON API authenticates with bearer tokens only, never the session cookie, so it needs none. */
export function skipsSessionCsrf(req: Request): boolean {
  if (req.path.startsWith('/api/')) return true;
  return (
    req.method === 'POST' &&
    req.is('multipart/form-data') === 'multipart/form-data' &&
    MULTIPART_ROUTES.some((r) => r.test(req.path))
  );
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
