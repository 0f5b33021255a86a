import type { NextFunction, Request, Response } from 'express';
import { ForbiddenError } from '../errors';
import type { AccountKind, OfficerRole } from '../domain/roles';

/** Only a local path may be a redirect target after login, never another site. */
export function safeNextPath(value: unknown): string {
  return typeof value === 'string' && /^\/(?![/\\])[^\s]*$/.test(value) ? value : '/';
}

export function requireLogin(req: Request, res: Response, next: NextFunction): void {
  if (req.user) return next();
  req.session.flash = { kind: 'info', key: 'login.required' };
  res.redirect(303, `/login?next=${encodeURIComponent(req.originalUrl)}`);
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
