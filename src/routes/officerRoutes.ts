import type { Request, Response } from 'express';
import { Router } from 'express';
import { z } from 'zod';
import type { Deps } from '../container';
import { randomUUID } from 'node:crypto';
import type { ProcedureVersion } from '../data/procedureRepository';
import { AppError, ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../errors';
import { assertCsrfToken } from '../middleware/csrf';
import { counterApplicantSchema } from '../services/accountSchemas';
import { parseInput } from '../services/validation';
import { resultSummary, sendNotice, sendReceipt, sendResult } from './documentResponses';
import type { Upload } from '../services/dossierForm';
import { parseMultipart, UploadError, uploadsOf } from './multipart';
import { requireRole } from '../middleware/auth';
import { requestContext } from '../middleware/requestContext';
import type { DossierView } from '../services/dossierService';
import { localText } from '../domain/procedureDefinition';
import { DOSSIER_STATUSES } from '../domain/dossierStatus';
import { sendPaper } from './dossierRoutes';
import {
  agencyName,
  dossierErrors,
  presentProcedure,
  timeLimitText,
  presentContents,
  NOTICE_KINDS,
} from './presenters';

const HOUR = 3_600_000;

const inboxQuery = z.object({
  status: z.enum(DOSSIER_STATUSES).optional().catch(undefined),
  procedure: z.string().max(32).optional().catch(undefined),
  due: z.enum(['soon', 'overdue']).optional().catch(undefined),
  mine: z.literal('1').optional().catch(undefined),
  q: z.string().trim().max(100).optional().catch(undefined),
  after: z
    .string()
    .regex(/^\d+-\d+$/)
    .optional()
    .catch(undefined),
});

/** The officers' desk: the agency's inbox by legal due date, and each dossier with the actions the
 * officer may take now. */
export function officerRoutes(deps: Deps): Router {
  const router = Router();
  router.use('/desk', requireRole('RECEPTION', 'SPECIALIST', 'APPROVER', 'CLERK', 'AGENCY_ADMIN'));

  router.get('/desk', async (req, res) => {
    const f = inboxQuery.parse(req.query);
    const officer = req.user!;
    const now = deps.clock.now();
    const calendar = await deps.calendars.current();
    const soonLimit = calendar.addWorkingMillis(
      calendar.nextWorkingInstant(now),
      calendar.hoursPerDay * HOUR,
    );
    const [afterMs, afterId] = f.after ? f.after.split('-').map(Number) : [];
    const items = await deps.dossiers.inbox(
      officer,
      {
        status: f.status,
        procedureCode: f.procedure || undefined,
        dueBefore: f.due === 'overdue' ? now : f.due === 'soon' ? soonLimit : undefined,
        assigneeUserId: f.mine ? officer.id : undefined,
        q: f.q || undefined,
      },
      afterMs !== undefined && afterId !== undefined ? { dueAt: new Date(afterMs), id: afterId } : null,
      26,
    );
    const page = items.slice(0, 25);
    const last = page[page.length - 1];
    const next = items.length > 25 && last?.dueAt ? `${last.dueAt.getTime()}-${last.id}` : null;
    const keep = new URLSearchParams(
      Object.entries({ status: f.status, procedure: f.procedure, due: f.due, mine: f.mine, q: f.q }).filter(
        (e): e is [string, string] => typeof e[1] === 'string' && e[1] !== '',
      ),
    );
    if (next) keep.set('after', next);
    res.render('pages/officer/inbox', {
      title: req.t('desk.title'),
      filter: f,
      statuses: DOSSIER_STATUSES.filter((s) => s !== 'DRAFT'),
      procedures: (await deps.procedures.list({ agencyId: officer.agencyId ?? -1 })).map((p) => ({
        code: p.code,
        name: localText(p.definition.name, req.lang),
      })),
      items: page.map((i) => {
        const left = i.dueAt ? calendar.workingMillisBetween(now, i.dueAt) : 0;
        const overdue = !!i.dueAt && i.dueAt.getTime() < now.getTime();
        return {
          ...i,
          procedureName: req.lang === 'en' ? i.procedureNameEn : i.procedureName,
          urgency:
            i.status === 'RESULT_READY'
              ? 'resolved'
              : i.status === 'SUPPLEMENT_REQUESTED'
                ? 'paused'
                : overdue
                  ? 'overdue'
                  : left <= calendar.hoursPerDay * HOUR
                    ? 'soon'
                    : 'ok',
          hoursLeft: Math.floor(left / HOUR),
          mine: i.assigneeUserId === officer.id,
        };
      }),
      nextPage: next ? `/desk?${keep.toString()}` : null,
    });
  });

  const dossierPage = async (
    req: Request,
    res: Response,
    view: DossierView,
    status = 200,
    errors: Record<string, string> = {},
    values: Record<string, unknown> = {},
  ) => {
    const d = view.dossier;
    const def = view.procedure.definition;
    const agency = await deps.repos.agencies.findById(d.agencyId);
    const actions = await deps.commands.transitionDossier.actionsFor(req.user!, d, view.procedure);
    const specialists = actions.some((a) => a.requires.includes('assignee'))
      ? await deps.repos.users.activeOfficersWithRole(d.agencyId, ['SPECIALIST'])
      : [];
    const now = deps.clock.now();
    res.status(status).render('pages/officer/dossier', {
      title: req.t('dossier.title', { code: d.code ?? '' }),
      d: {
        code: d.code,
        version: d.version,
        status: d.status,
        channel: d.channel,
        agency: agencyName(req.lang, agency),
        procedure: localText(def.name, req.lang),
        procedureVersion: view.procedure.version,
        timeLimit: timeLimitText(req.t, def.timeLimit),
        submittedAt: d.submittedAt,
        countingFrom: d.countingFrom,
        dueAt: d.dueAt,
        stepDueAt: d.stepDueAt,
        pausedAt: d.pausedAt,
        overdue: !!d.dueAt && !d.pausedAt && d.dueAt.getTime() < now.getTime() && !d.completedAt,
        applicant: d.applicant,
        ...presentContents(req, view, agencyName(req.lang, agency)),
        result: await resultSummary(deps, d.id),
        mayRevokeResult: deps.results.mayRevoke(req.user!, d),
      },
      actions: actions.map((a) => ({ name: a.name, requires: a.requires, attachment: a.attachment ?? null })),
      papers: def.papers.map((p) => ({ code: p.code, name: localText(p.name, req.lang) })),
      specialists: specialists.map((u) => ({ id: u.id, name: u.fullName })),
      errors,
      values,
    });
  };

  const code = (req: Request) => String(req.params.code);
  const SIGNING_ERRORS = new Set([
    'WRONG_PIN',
    'KEY_LOCKED',
    'NO_CERTIFICATE',
    'CERTIFICATE_UNUSABLE',
    'NO_SIGNED_RESULT',
    'SIGNING_FAILED',
    'TIMESTAMP_FAILED',
    'PDF_SIGNING_FAILED',
    'SIGNATURE_FIELD_INVALID',
    'SIGNATURE_APPEARANCE_INVALID',
    'KEY_ENVELOPE_INVALID',
    'SIGNER_KEY_INVALID',
  ]);

  router.get('/desk/dossiers/:code', async (req, res) => {
    await dossierPage(req, res, await deps.dossiers.forOfficer(req.user!, code(req)));
  });

  router.get('/desk/dossiers/:code/files/:fileId', async (req, res) => {
    // Not a number ("NaN", "Infinity") would reach the query as such: MySQL reads it as a column name.
    const fileId = Number(req.params.fileId);
    if (!Number.isSafeInteger(fileId) || fileId <= 0) throw new NotFoundError();
    sendPaper(res, deps, await deps.dossiers.officerFile(req.user!, code(req), fileId));
  });

  router.get('/desk/dossiers/:code/notices/:kind.pdf', async (req, res) => {
    const kind = NOTICE_KINDS.find((k) => k === req.params.kind);
    if (!kind) throw new NotFoundError();
    await sendNotice(res, deps, await deps.dossiers.forOfficer(req.user!, code(req)), kind);
  });

  router.get('/desk/dossiers/:code/result.pdf', async (req, res) => {
    await sendResult(res, deps, await deps.dossiers.forOfficer(req.user!, String(req.params.code)));
  });

  router.post('/desk/dossiers/:code/result/revoke', async (req, res) => {
    const view = await deps.dossiers.forOfficer(req.user!, code(req));
    const reason = typeof req.body?.reason === 'string' ? req.body.reason : '';
    try {
      await deps.results.revoke(req.user!, view.dossier, reason, requestContext(req));
      req.session.flash = { kind: 'success', key: 'result.revoked' };
    } catch (err) {
      if (!(err instanceof ValidationError) && !(err instanceof ConflictError)) throw err;
      req.session.flash = {
        kind: 'error',
        key: err instanceof ValidationError ? 'result.revokeReason' : err.messageKey,
      };
    }
    res.redirect(303, `/desk/dossiers/${encodeURIComponent(code(req))}`);
  });

  router.get('/desk/dossiers/:code/receipt.pdf', async (req, res) => {
    await sendReceipt(res, deps, await deps.dossiers.forOfficer(req.user!, code(req)));
  });

  // Counter intake: the reception officer files for a walk-in applicant with the same form.
  const receptionOnly = requireRole('RECEPTION');
  const intakeProcedure = async (req: Request) => {
    const p = await deps.procedures.get(code(req));
    if (p.agencyId !== req.user!.agencyId) throw new ForbiddenError();
    return p;
  };
  const intakeForm = async (
    req: Request,
    res: Response,
    p: ProcedureVersion,
    status: number,
    values: Record<string, unknown>,
    errors: Record<string, string>,
  ) => {
    const agency = await deps.repos.agencies.findById(p.agencyId);
    res.status(status).render('pages/citizen/file', {
      title: `${req.t('intake.title')}: ${localText(p.definition.name, req.lang)}`,
      procedure: presentProcedure(req, p, agency),
      action: `/desk/intake/${encodeURIComponent(p.code)}`,
      counter: true,
      draft: null,
      values,
      errors,
      idempotencyKey: randomUUID(),
      maxFileMb: Math.floor(deps.config.uploads.fileBytes / 1048576),
    });
  };

  router.get('/desk/intake', receptionOnly, async (req, res) => {
    const procedures = await deps.procedures.list({ agencyId: req.user!.agencyId ?? -1 });
    res.render('pages/officer/intake', {
      title: req.t('intake.title'),
      procedures: procedures.map((p) => ({ code: p.code, name: localText(p.definition.name, req.lang) })),
    });
  });

  router.get('/desk/intake/:code', receptionOnly, async (req, res) => {
    await intakeForm(req, res, await intakeProcedure(req), 200, {}, {});
  });

  router.post('/desk/intake/:code', receptionOnly, async (req, res) => {
    const p = await intakeProcedure(req);
    let body;
    try {
      body = await parseMultipart(req, deps.files.papers, deps.config.uploads, deps.clock.now(), (fields) =>
        assertCsrfToken(req, Array.isArray(fields._csrf) ? fields._csrf[0] : fields._csrf),
      );
    } catch (err) {
      if (!(err instanceof UploadError) || err.status === 403) throw err;
      // What was typed at the counter comes back; only the papers must be chosen again.
      return intakeForm(
        req,
        res,
        p,
        err.status,
        Object.fromEntries(
          Object.entries(err.fields).filter(([k]) => k !== '_csrf' && k !== 'idempotencyKey'),
        ),
        { _form: req.t(err.messageKey, err.details as Record<string, string | number>) },
      );
    }
    const uploads = uploadsOf(body);
    const values = Object.fromEntries(Object.entries(body.fields).filter(([k]) => k !== '_csrf'));
    try {
      const applicant = parseInput(counterApplicantSchema, body.fields);
      const { dossier } = await deps.commands.submitDossier.run(
        {
          submitter: req.user!,
          counterApplicant: applicant,
          procedureCode: p.code,
          fields: body.fields,
          uploads,
          idempotencyKey:
            (Array.isArray(body.fields.idempotencyKey)
              ? body.fields.idempotencyKey[0]
              : body.fields.idempotencyKey
            )?.slice(0, 64) || null,
        },
        requestContext(req),
      );
      req.session.flash = {
        kind: 'success',
        key: 'intake.done',
        params: { code: dossier.code!, secret: dossier.secret! },
      };
      res.redirect(303, `/desk/dossiers/${encodeURIComponent(dossier.code!)}`);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      await deps.files.papers.removeAll(uploads.map((u) => u.relPath));
      const general = Object.fromEntries(
        Object.entries(err.fieldErrors)
          .filter(([f]) => f.startsWith('applicant'))
          .map(([f, k]) => [f, req.t(k, err.messageParams[f])]),
      );
      await intakeForm(req, res, p, 422, values, { ...general, ...dossierErrors(req, p.definition, err) });
    }
  });

  router.post('/desk/dossiers/:code/actions/:action', async (req, res) => {
    // An action with an attachment comes as multipart, its CSRF token checked before the file is kept.
    let body = (req.body ?? {}) as Record<string, unknown>;
    let uploads: Upload[] = [];
    if (req.is('multipart/form-data') === 'multipart/form-data') {
      const form = await parseMultipart(
        req,
        deps.files.papers,
        deps.config.uploads,
        deps.clock.now(),
        (fields) => assertCsrfToken(req, Array.isArray(fields._csrf) ? fields._csrf[0] : fields._csrf),
      );
      body = form.fields;
      uploads = uploadsOf(form);
    }
    const expected = Number(body.version);
    try {
      await deps.commands.transitionDossier.run(
        {
          actor: req.user!,
          code: code(req),
          action: String(req.params.action),
          input: body,
          uploads,
          expectedVersion: Number.isSafeInteger(expected) ? expected : undefined,
        },
        requestContext(req),
      );
      req.session.flash = { kind: 'success', key: `done.${String(req.params.action)}` };
      res.redirect(303, `/desk/dossiers/${encodeURIComponent(code(req))}`);
    } catch (err) {
      const view = await deps.dossiers.forOfficer(req.user!, code(req));
      if (err instanceof ValidationError) {
        const errors = Object.fromEntries(
          Object.entries(err.fieldErrors).map(([f, k]) => [
            `${String(req.params.action)}-${f}`,
            req.t(k, err.messageParams[f]),
          ]),
        );
        return dossierPage(req, res, view, 422, errors, { action: req.params.action, ...body });
      }
      if (err instanceof ConflictError) {
        res.locals.flash = { kind: 'error', text: req.t(err.messageKey) };
        return dossierPage(req, res, view, 409);
      }
      // A signature that could not be made (wrong PIN, no usable certificate, locked key): the dossier
      // did not move; say why beside the PIN. The PIN itself is never sent back into the form.
      if (err instanceof AppError && SIGNING_ERRORS.has(err.code)) {
        const { pin: _pin, ...kept } = body;
        const field = `${String(req.params.action)}-pin`;
        const params = err.details as Record<string, string | number> | undefined;
        return dossierPage(
          req,
          res,
          view,
          err.status,
          { [field]: req.t(err.messageKey, params) },
          {
            action: req.params.action,
            ...kept,
          },
        );
      }
      throw err;
    }
  });

  return router;
}
