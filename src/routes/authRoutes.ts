import type { NextFunction, Request, Response } from 'express';
import { Router } from 'express';
import type { Authenticator } from '../middleware/passportSetup';
import type { Deps } from '../container';
import type { User } from '../data/userRepository';
import { LoginThrottledError } from '../errors';
import { requireLogin, safeNextPath } from '../middleware/auth';
import { requestContext } from '../middleware/requestContext';
import { handleForm } from './forms';

const CITIZEN_FIELDS = [
  'fullName',
  'citizenId',
  'dateOfBirth',
  'email',
  'phone',
  'password',
  'passwordConfirm',
  'acceptTerms',
];
const BUSINESS_FIELDS = [
  'companyName',
  'taxCode',
  'representativeName',
  'email',
  'phone',
  'password',
  'passwordConfirm',
  'acceptTerms',
];

/** Logs the person in on a fresh session id (passport regenerates it), then redirects. */
function logInAndGo(
  req: Request,
  res: Response,
  next: NextFunction,
  user: User,
  to: string,
  at: Date,
  flashKey?: string,
): void {
  req.logIn(user, (err) => {
    if (err) return next(err);
    req.session.authAt = at.getTime();
    if (flashKey) req.session.flash = { kind: 'success', key: flashKey };
    res.redirect(303, to);
  });
}

export function authRoutes(deps: Deps, authenticator: Authenticator): Router {
  const router = Router();

  const loginPage = (req: Request, res: Response, status: number, error: string | null) =>
    res.status(status).render('pages/auth/login', {
      title: req.t('login.title'),
      next: safeNextPath((req.body as Record<string, unknown> | undefined)?.next ?? req.query.next),
      values: { email: typeof req.body?.email === 'string' ? req.body.email : '' },
      error,
    });

  router.get('/login', (req, res) => {
    if (req.user) return res.redirect(303, '/');
    loginPage(req, res, 200, null);
  });

  router.post('/login', (req, res, next) => {
    authenticator.authenticate('local', { session: false }, (err: unknown, user: User | false) => {
      if (err instanceof LoginThrottledError) {
        res.set('Retry-After', String(err.retryAfterMinutes * 60));
        return loginPage(req, res, 429, req.t('login.locked', { minutes: err.retryAfterMinutes }));
      }
      if (err) return next(err);
      // Same words whether the email is unknown, the password wrong or the account disabled.
      if (!user) return loginPage(req, res, 401, req.t('login.failed'));
      logInAndGo(
        req,
        res,
        next,
        user,
        safeNextPath((req.body as Record<string, unknown>).next),
        deps.clock.now(),
      );
    })(req, res, next);
  });

  router.post('/logout', requireLogin, async (req, res, next) => {
    await deps.accounts.recordLogout(req.user!, requestContext(req));
    req.logOut((err) => {
      if (err) return next(err);
      req.session.flash = { kind: 'info', key: 'logout.done' };
      res.redirect(303, '/');
    });
  });

  router.get('/register', (req, res) => {
    res.render('pages/auth/register', { title: req.t('register.title') });
  });

  const registration = (kind: 'citizen' | 'business') => {
    const name = `pages/auth/register-${kind}`;
    const fields = kind === 'citizen' ? CITIZEN_FIELDS : BUSINESS_FIELDS;
    router.get(`/register/${kind}`, (req, res) => {
      if (req.user) return res.redirect(303, '/account');
      res.render(name, { title: req.t(`register.${kind}Title`), values: {}, errors: {} });
    });
    router.post(`/register/${kind}`, async (req, res, next) => {
      const data = { title: req.t(`register.${kind}Title`) };
      await handleForm(req, res, { name, fields, data }, async () => {
        const ctx = requestContext(req);
        const user =
          kind === 'citizen'
            ? await deps.accounts.registerCitizen(req.body, ctx)
            : await deps.accounts.registerBusiness(req.body, ctx);
        logInAndGo(req, res, next, user, '/account', deps.clock.now(), 'register.done');
      });
    });
  };
  registration('citizen');
  registration('business');

  return router;
}
