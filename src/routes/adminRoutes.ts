import type { Request } from 'express';
import { Router } from 'express';
import type { Deps } from '../container';
import { NotFoundError } from '../errors';
import { formatDate, formatDateTime } from '../i18n/messages';
import { requireRole } from '../middleware/auth';
import { requestContext } from '../middleware/requestContext';
import { isHolidayYear, weekdayOf } from '../services/holidayService';
import { isSystemAdmin } from '../services/officerService';
import { CALENDAR_DAY_KINDS } from '../domain/workingCalendar';
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

const HOLIDAY_FIELDS = ['date', 'kind', 'name'];

/** A year from a query or a form, or undefined when it is not one the holiday table may hold. */
function yearParam(value: unknown): number | undefined {
  if (typeof value !== 'string' || !/^\d{4}$/.test(value.trim())) return undefined;
  const year = Number(value.trim());
  return isHolidayYear(year) ? year : undefined;
}

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

  const holidayPageData = async (req: Request, year: number) => {
    const days = await deps.holidays.listYear(req.user!, year);
    return {
      title: req.t('admin.holidays'),
      year,
      yearValue: String(year),
      prevYear: isHolidayYear(year - 1) ? year - 1 : null,
      nextYear: isHolidayYear(year + 1) ? year + 1 : null,
      mayChange: deps.holidays.mayChange(req.user!),
      kinds: CALENDAR_DAY_KINDS,
      days: days.map((d) => ({
        ...d,
        dateText: formatDate(d.date),
        weekday: req.t(`weekday.${weekdayOf(d.date)}`),
      })),
    };
  };

  router.get('/admin/holidays', async (req, res) => {
    const asked = req.query.year;
    const year = asked === undefined ? deps.holidays.currentYear() : yearParam(asked);
    if (year === undefined) {
      // Keep what was typed next to the message, and still show a year's table below it.
      res.status(400).render('pages/admin/holidays', {
        ...(await holidayPageData(req, deps.holidays.currentYear())),
        yearValue: typeof asked === 'string' ? asked : '',
        values: { kind: 'HOLIDAY' },
        errors: { year: req.t('v.holidayYear') },
      });
      return;
    }
    const data = await holidayPageData(req, year);
    // "Edit" on a row fills the form with that row, so a change needs no retyping (and no script).
    const edited = data.days.find((d) => d.date === req.query.edit);
    res.render('pages/admin/holidays', {
      ...data,
      values: edited ? { date: edited.date, kind: edited.kind, name: edited.name } : { kind: 'HOLIDAY' },
      errors: {},
    });
  });

  router.post('/admin/holidays', async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const dateYear = typeof body.date === 'string' ? yearParam(body.date.trim().slice(0, 4)) : undefined;
    const year = yearParam(body.year) ?? dateYear ?? deps.holidays.currentYear();
    const data = await holidayPageData(req, year);
    await handleForm(req, res, { name: 'pages/admin/holidays', fields: HOLIDAY_FIELDS, data }, async () => {
      const { day, before } = await deps.holidays.save(req.user!, req.body, requestContext(req));
      req.session.flash = {
        kind: 'success',
        key: before ? 'admin.holidayUpdated' : 'admin.holidayAdded',
        params: { date: formatDate(day.date), name: day.name },
      };
      res.redirect(303, `/admin/holidays?year=${day.date.slice(0, 4)}`);
    });
  });

  router.post('/admin/holidays/:date/delete', async (req, res) => {
    const removed = await deps.holidays.remove(req.user!, String(req.params.date), requestContext(req));
    req.session.flash = {
      kind: 'success',
      key: 'admin.holidayRemoved',
      params: { date: formatDate(removed.date), name: removed.name },
    };
    res.redirect(303, `/admin/holidays?year=${removed.date.slice(0, 4)}`);
  });

  const WORKING_TIME_FIELDS = [
    'morningStart',
    'morningEnd',
    'afternoonStart',
    'afternoonEnd',
    'cutoff',
    'weekendDays',
  ];

  const workingTimePageData = async (req: Request) => {
    const stored = await deps.holidays.workingTime(req.user!);
    const by = stored.updatedBy === null ? undefined : await deps.repos.users.findById(stored.updatedBy);
    const calendar = await deps.calendars.current();
    return {
      title: req.t('admin.workingTime'),
      current: stored.settings,
      hoursPerDay: calendar.hoursPerDay,
      updatedText: stored.updatedAt
        ? req.t('admin.workingTimeUpdatedBy', {
            at: formatDateTime(req.lang, stored.updatedAt),
            name: by?.fullName ?? '',
          })
        : req.t('admin.workingTimeNeverUpdated'),
      mayChange: deps.holidays.mayChange(req.user!),
    };
  };

  router.get('/admin/working-time', async (req, res) => {
    const data = await workingTimePageData(req);
    res.render('pages/admin/working-time', { ...data, values: { ...data.current }, errors: {} });
  });

  router.post('/admin/working-time', async (req, res) => {
    const data = await workingTimePageData(req);
    await handleForm(
      req,
      res,
      { name: 'pages/admin/working-time', fields: WORKING_TIME_FIELDS, data },
      async () => {
        await deps.holidays.saveWorkingTime(req.user!, req.body, requestContext(req));
        req.session.flash = { kind: 'success', key: 'admin.workingTimeSaved' };
        res.redirect(303, '/admin/working-time');
      },
    );
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
