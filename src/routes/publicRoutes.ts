import { Router } from 'express';
import type { Deps } from '../container';
import { LANGUAGES } from '../i18n/messages';
import { safeNextPath } from '../middleware/auth';
import { LANG_COOKIE } from '../middleware/i18n';

export function publicRoutes(deps: Deps): Router {
  const router = Router();

  router.get('/', (req, res) => {
    res.render('pages/public/home', { title: req.t('home.title') });
  });

  // A plain link, so the switch works without JavaScript and without creating a session.
  router.get('/language', (req, res) => {
    const to = String(req.query.to ?? '');
    if ((LANGUAGES as readonly string[]).includes(to)) {
      res.cookie(LANG_COOKIE, to, {
        maxAge: 365 * 24 * 3600_000,
        httpOnly: true,
        sameSite: 'lax',
        secure: deps.config.secureCookies,
      });
    }
    res.redirect(303, safeNextPath(req.query.next));
  });

  return router;
}
