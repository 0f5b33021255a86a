import type { Request, Response } from 'express';
import { Router } from 'express';
import type { Deps } from '../container';
import { NotFoundError } from '../errors';
import { requireLogin } from '../middleware/auth';
import { requestContext } from '../middleware/requestContext';
import { handleForm } from './forms';

export function accountRoutes(deps: Deps): Router {
  const router = Router();
  router.use('/account', requireLogin);

  const profileData = async (req: Request) => {
    const user = req.user!;
    const agency = user.agencyId ? await deps.repos.agencies.findById(user.agencyId) : undefined;
    return {
      title: req.t('account.title'),
      profile: user,
      agency: agency ? (req.lang === 'en' ? agency.nameEn : agency.name) : null,
      activity: await deps.repos.audit.listForActor(user.id, 10),
    };
  };

  router.get('/account', async (req, res) => {
    res.render('pages/account/profile', {
      ...(await profileData(req)),
      values: { phone: req.user!.phone ?? '' },
      errors: {},
    });
  });

  router.post('/account/contact', async (req, res) => {
    await handleForm(
      req,
      res,
      { name: 'pages/account/profile', fields: ['phone'], data: await profileData(req) },
      async () => {
        await deps.accounts.updateContact(req.user!, req.body, requestContext(req));
        req.session.flash = { kind: 'success', key: 'account.contactSaved' };
        res.redirect(303, '/account');
      },
    );
  });

  const passwordView = (req: Request) => ({
    name: 'pages/account/password',
    fields: ['currentPassword', 'password', 'passwordConfirm'],
    data: { title: req.t('account.changePassword') },
  });

  router.get('/account/password', (req: Request, res: Response) => {
    res.render('pages/account/password', { ...passwordView(req).data, values: {}, errors: {} });
  });

  router.post('/account/password', async (req, res) => {
    await handleForm(req, res, passwordView(req), async () => {
      await deps.accounts.changePassword(req.user!, req.body, requestContext(req));
      // This session stays; every other session and every API token of the account ends.
      req.session.authAt = deps.clock.now().getTime();
      req.session.flash = { kind: 'success', key: 'account.passwordChanged' };
      res.redirect(303, '/account');
    });
  });

  router.get('/account/notifications', async (req, res) => {
    const items = await deps.repos.notifications.listForUser(req.user!.id, 50);
    const codes = new Map<number, string>();
    for (const n of items)
      if (n.dossierId && typeof n.params.code === 'string') codes.set(n.dossierId, n.params.code);
    res.render('pages/account/notifications', {
      title: req.t('notifications.title'),
      items: items.map((n) => ({
        text: req.t(n.messageKey, n.params),
        at: n.createdAt,
        unread: n.readAt === null,
        link:
          typeof n.params.code === 'string'
            ? `${req.user!.kind === 'OFFICER' ? '/desk/dossiers/' : '/my/dossiers/'}${encodeURIComponent(n.params.code)}`
            : null,
      })),
    });
  });

  router.post('/account/notifications/read', async (req, res) => {
    await deps.repos.notifications.markAllRead(req.user!.id, deps.clock.now());
    res.redirect(303, '/account/notifications');
  });

  const tokensPage = async (req: Request) => ({
    title: req.t('tokens.title'),
    tokens: await deps.apiTokens.list(req.user!),
  });

  router.get('/account/tokens', async (req, res) => {
    res.render('pages/account/tokens', { ...(await tokensPage(req)), values: {}, errors: {} });
  });

  router.post('/account/tokens', async (req, res) => {
    await handleForm(
      req,
      res,
      { name: 'pages/account/tokens', fields: ['name'], data: await tokensPage(req) },
      async () => {
        const { token } = await deps.apiTokens.issue(req.user!, req.body, requestContext(req));
        // Shown once, on this answer only: it is not stored and not put in the session.
        res.set('Cache-Control', 'no-store');
        res.status(201).render('pages/account/tokens', {
          ...(await tokensPage(req)),
          newToken: token,
          values: {},
          errors: {},
        });
      },
    );
  });

  router.post('/account/tokens/:id/revoke', async (req, res) => {
    // Not a number ("NaN", "Infinity") would reach the query as such: MySQL reads it as a column name.
    const id = Number(req.params.id);
    if (!Number.isSafeInteger(id) || id <= 0) throw new NotFoundError();
    await deps.apiTokens.revoke(req.user!, id, requestContext(req));
    req.session.flash = { kind: 'success', key: 'tokens.revokedDone' };
    res.redirect(303, '/account/tokens');
  });

  return router;
}
