import type { NextFunction, Request, Response } from 'express';
import { ForbiddenError } from '../errors';
import type { AccountKind, OfficerRole } from '../domain/roles';

/** Only a local path may be a redirect target after login, never another site. */
export function safeNextPath(value: unknown): string {
  return typeof value === 'string' && /^\/(?![/\\])[^\s]*$/.test(value) ? value : '/';
}

/** The page a form was sent from, when the browser says so and it is on this site. */
function formPage(req: Request): string | null {
  const referer = req.get('referer');
  if (!referer) return null;
  try {
    const url = new URL(referer);
    if (url.host !== req.get('host')) return null;
    const path = `${url.pathname}${url.search}`;
    return safeNextPath(path) === path ? path : null;
  } catch {
    return null;
  }
}

/**
 * Sends a visitor who is not logged in to the login page, and back here afterwards. A form sent after
 * the session ended (an action with an attachment, whose route has no page of its own) comes back to
 * the page it was sent from, with a message that it was not carried out: login redirects with a GET.
 */
export function requireLogin(req: Request, res: Response, next: NextFunction): void {
  if (req.user) return next();
  const reading = req.method === 'GET' || req.method === 'HEAD';
  req.session.flash = { kind: 'info', key: reading ? 'login.required' : 'login.requiredNotDone' };
  const back = reading ? req.originalUrl : (formPage(req) ?? '/');
  res.redirect(303, `/login?next=${encodeURIComponent(back)}`);
}

export function requireKind(...kinds: AccountKind[]) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (!req.user) return requireLogin(req, res, next);
    if (!kinds.includes(req.user.kind)) return next(new ForbiddenError());
    next();
  };
}

export function requireRole(...roles: OfficerRole[]) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (!req.user) return requireLogin(req, res, next);
    if (req.user.kind !== 'OFFICER' || !req.user.roles.some((r) => roles.includes(r))) {
      return next(new ForbiddenError());
    }
    next();
  };
}
