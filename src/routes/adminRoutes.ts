import type { Request } from 'express';
import { Router } from 'express';
import type { Deps } from '../container';
import { NotFoundError } from '../errors';
import { requireRole } from '../middleware/auth';
import { requestContext } from '../middleware/requestContext';
import { isSystemAdmin } from '../services/officerService';
import { handleForm } from './forms';

const OFFICER_FIELDS = [
  'fullName',
  'email',
  'position',
  'phone',
  'agencyId',
  'roles',
  'password',
  'passwordConfirm',
];

function idParam(req: Request): number {
  const id = Number(req.params.id);
  if (!Number.isSafeInteger(id) || id <= 0) throw new NotFoundError();
  return id;
}

export function adminRoutes(deps: Deps): Router {
  const router = Router();
  router.use('/admin', requireRole('SYSTEM_ADMIN', 'AGENCY_ADMIN'));

  const agencyName = (req: Request) => (a: { name: string; nameEn: string }) =>
    req.lang === 'en' ? a.nameEn : a.name;

  router.get('/admin', (_req, res) => res.redirect(303, '/admin/officers'));

  router.get('/admin/officers', async (req, res) => {
    const [officers, agencies] = await Promise.all([
      deps.officers.listOfficers(req.user!),
      deps.officers.manageableAgencies(req.user!),
    ]);
    const names = new Map(agencies.map((a) => [a.id, agencyName(req)(a)]));
    res.render('pages/admin/officers', {
      title: req.t('admin.officers'),
      officers: officers.map((o) => ({ ...o, agencyName: o.agencyId ? (names.get(o.agencyId) ?? '') : '' })),
    });
  });

  const officerFormData = async (req: Request, title: string) => ({
    title,
    agencies: (await deps.officers.manageableAgencies(req.user!)).map((a) => ({
      id: a.id,
      name: agencyName(req)(a),
    })),
    roles: deps.officers.grantableRoles(req.user!),
  });

  router.get('/admin/officers/new', async (req, res) => {
    const data = await officerFormData(req, req.t('admin.newOfficer'));
    const only = data.agencies.length === 1 ? String(data.agencies[0]!.id) : '';
    res.render('pages/admin/officer-new', { ...data, values: { agencyId: only, roles: [] }, errors: {} });
  });

  router.post('/admin/officers', async (req, res) => {
    const data = await officerFormData(req, req.t('admin.newOfficer'));
    await handleForm(
      req,
      res,
      { name: 'pages/admin/officer-new', fields: OFFICER_FIELDS, data },
      async () => {
        const officer = await deps.officers.createOfficer(req.user!, req.body, requestContext(req));
        req.session.flash = {
          kind: 'success',
          key: 'admin.officerCreated',
          params: { email: officer.email },
        };
        res.redirect(303, '/admin/officers');
      },
    );
  });

  router.get('/admin/officers/:id', async (req, res) => {
    const officer = await deps.officers.getOfficer(req.user!, idParam(req));
    res.render('pages/admin/officer-edit', {
      ...(await officerFormData(req, req.t('admin.editOfficer'))),
      officer,
      values: {
        fullName: officer.fullName,
        position: officer.position ?? '',
        status: officer.status,
        roles: officer.roles,
      },
      errors: {},
    });
  });

  router.post('/admin/officers/:id', async (req, res) => {
    const id = idParam(req);
    const officer = await deps.officers.getOfficer(req.user!, id);
    const data = { ...(await officerFormData(req, req.t('admin.editOfficer'))), officer };
    await handleForm(
      req,
      res,
      { name: 'pages/admin/officer-edit', fields: ['fullName', 'position', 'status', 'roles'], data },
      async () => {
        const updated = await deps.officers.updateOfficer(req.user!, id, req.body, requestContext(req));
        req.session.flash = {
          kind: 'success',
          key: 'admin.officerUpdated',
          params: { email: updated.email },
        };
        res.redirect(303, '/admin/officers');
      },
    );
  });

  router.get('/admin/agencies', async (req, res) => {
    const all = await deps.repos.agencies.listAll();
    const byId = new Map(all.map((a) => [a.id, a]));
    res.render('pages/admin/agencies', {
      title: req.t('admin.agencies'),
      agencies: all.map((a) => ({
        code: a.code,
        name: agencyName(req)(a),
        level: a.level,
        parent: a.parentId && byId.get(a.parentId) ? agencyName(req)(byId.get(a.parentId)!) : '',
      })),
    });
  });

  router.get('/admin/audit', async (req, res) => {
    const user = req.user!;
    const records = await deps.repos.audit.listRecent({
      agencyIds: isSystemAdmin(user) ? undefined : [user.agencyId ?? -1],
      limit: 100,
    });
    res.render('pages/admin/audit', { title: req.t('admin.audit'), records });
  });

  return router;
}
