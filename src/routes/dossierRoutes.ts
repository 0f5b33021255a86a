import { randomUUID } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import type { Request, Response } from 'express';
import { Router } from 'express';
import type { Deps } from '../container';
import type { ProcedureVersion } from '../data/procedureRepository';
import type { User } from '../data/userRepository';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../errors';
import { requireKind } from '../middleware/auth';
import { assertCsrfToken } from '../middleware/csrf';
import { requestContext } from '../middleware/requestContext';
import { paperErrorKey, type Upload } from '../services/dossierForm';
import type { DossierView } from '../services/dossierService';
import { localText } from '../domain/procedureDefinition';
import { handleForm } from './forms';
import { resultSummary, sendNotice, sendReceipt, sendResult } from './documentResponses';
import { parseMultipart, UploadError, uploadsOf, type MultipartBody } from './multipart';
import {
  agencyName,
  dossierErrors,
  pausedHoursLeft,
  presentProcedure,
  timeLimitText,
  presentContents,
  NOTICE_KINDS,
} from './presenters';

const PREFILL: Record<string, (u: User) => string | null> = {
  fullName: (u) => u.fullName,
  citizenId: (u) => u.citizenId,
  dateOfBirth: (u) => u.dateOfBirth,
  email: (u) => u.email,
  phone: (u) => u.phone,
  companyName: (u) => u.companyName,
  taxCode: (u) => u.taxCode,
};

function first(v: string | string[] | undefined): string {
  return Array.isArray(v) ? (v[0] ?? '') : (v ?? '');
}

function ids(v: string | string[] | undefined): number[] {
  return (Array.isArray(v) ? v : v ? [v] : []).map(Number).filter((n) => Number.isSafeInteger(n) && n > 0);
}

/** Sends a stored paper inline (PDFs and images open in the browser), never as HTML. A file missing
 * from the store answers 404 and a read error ends this response only, never the process. */
export function sendPaper(
  res: Response,
  deps: Deps,
  file: { storedPath: string; contentType: string; originalName: string; size: number },
) {
  if (!deps.files.papers.exists(file.storedPath)) {
    deps.logger.error({ path: file.storedPath }, 'a paper on record is missing from the file store');
    throw new NotFoundError();
  }
  res.set({
    'Content-Type': file.contentType,
    'Content-Length': String(file.size),
    'Content-Disposition': `inline; filename*=UTF-8''${encodeURIComponent(file.originalName)}`,
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'private, no-store',
  });
  pipeline(deps.files.papers.read(file.storedPath), res).catch((err: unknown) => {
    deps.logger.error({ err, path: file.storedPath }, 'reading a paper failed');
    res.destroy();
  });
}

export function dossierRoutes(deps: Deps): Router {
  const router = Router();
  const applicantsOnly = requireKind('CITIZEN', 'BUSINESS');
  router.use(['/my', '/procedures/:code/file'], applicantsOnly);

  const formPage = async (
    req: Request,
    res: Response,
    p: ProcedureVersion,
    opts: {
      status?: number;
      values: Record<string, unknown>;
      errors?: Record<string, string>;
      draft?: DossierView;
    },
  ) => {
    const agency = await deps.repos.agencies.findById(p.agencyId);
    res.status(opts.status ?? 200).render('pages/citizen/file', {
      title: `${req.t('file.title')}: ${localText(p.definition.name, req.lang)}`,
      procedure: presentProcedure(req, p, agency),
      action: opts.draft
        ? `/my/drafts/${opts.draft.dossier.id}`
        : `/procedures/${encodeURIComponent(p.code)}/file`,
      draft: opts.draft
        ? {
            id: opts.draft.dossier.id,
            files: opts.draft.files.map((f) => ({
              id: f.id,
              paperCode: f.paperCode,
              name: f.originalName,
              size: f.size,
            })),
          }
        : null,
      values: opts.values,
      errors: opts.errors ?? {},
      idempotencyKey: randomUUID(),
      maxFileMb: Math.floor(deps.config.uploads.fileBytes / 1048576),
    });
  };

  /** Reads the multipart form; its CSRF token is checked before any file is stored. */
  const readForm = (req: Request) =>
    parseMultipart(req, deps.files.papers, deps.config.uploads, deps.clock.now(), (fields) =>
      assertCsrfToken(req, first(fields._csrf)),
    );

  /** A draft submitted since its form was sent (a double click, another tab): its confirmation, saying
   * that nothing more was sent, where there would otherwise be "not found" or a conflict. */
  const alreadySubmitted = async (req: Request, res: Response, id: number): Promise<boolean> => {
    const code = await deps.dossiers.submittedDraft(req.user!, id);
    if (!code) return false;
    req.session.flash = { kind: 'info', key: 'file.alreadySubmitted' };
    res.redirect(303, `/my/dossiers/${encodeURIComponent(code)}/submitted`);
    return true;
  };

  /** The form's own controls, which are not the applicant's answers. */
  const FORM_CONTROLS = new Set(['_csrf', 'idempotencyKey', 'intent', 'removeFile']);

  /** Saves a draft or submits, then redirects; a problem shows the form again with what was typed. */
  const handleFiling = async (req: Request, res: Response, p: ProcedureVersion, draftId?: number) => {
    let body: MultipartBody;
    try {
      body = await readForm(req);
    } catch (err) {
      if (!(err instanceof UploadError) || err.status === 403) throw err;
      if (draftId && (await alreadySubmitted(req, res, draftId))) return;
      const draft = draftId ? await deps.dossiers.myDraft(req.user!, draftId) : undefined;
      const message = req.t(err.messageKey, err.details as Record<string, string | number> | undefined);
      const paper = typeof err.details?.paper === 'string' ? paperErrorKey(err.details.paper) : '_form';
      // What was typed comes back (nothing of it is saved); a draft shows what it holds when nothing was read.
      const typed = Object.entries(err.fields).filter(([k]) => !FORM_CONTROLS.has(k));
      const values = typed.length > 0 ? Object.fromEntries(typed) : (draft?.dossier.formData ?? {});
      return formPage(req, res, p, { status: err.status, values, errors: { [paper]: message }, draft });
    }
    const user = req.user!;
    const uploads = uploadsOf(body);
    const removeFileIds = ids(body.fields.removeFile);
    try {
      if (first(body.fields.intent) === 'draft') {
        const id = await deps.dossiers.saveDraft(user, {
          procedureCode: p.code,
          draftId,
          fields: body.fields,
          uploads,
          removeFileIds,
        });
        req.session.flash = { kind: 'success', key: 'file.draftSaved' };
        return res.redirect(303, `/my/drafts/${id}`);
      }
      const { dossier } = await deps.commands.submitDossier.run(
        {
          submitter: user,
          procedureCode: p.code,
          fields: body.fields,
          uploads,
          draftId,
          removeFileIds,
          idempotencyKey: first(body.fields.idempotencyKey).slice(0, 64) || null,
        },
        requestContext(req),
      );
      res.redirect(303, `/my/dossiers/${encodeURIComponent(dossier.code!)}/submitted`);
    } catch (err) {
      // The same draft submitted by a request that ran alongside this one (found no longer a draft, or
      // changed under this one).
      if (
        draftId &&
        (err instanceof ConflictError || err instanceof NotFoundError || err instanceof ValidationError)
      ) {
        if (await alreadySubmitted(req, res, draftId)) return;
      }
      if (!(err instanceof ValidationError)) throw err;
      const draft = draftId ? await deps.dossiers.myDraft(req.user!, draftId) : undefined;
      const values = Object.fromEntries(Object.entries(body.fields).filter(([k]) => k !== '_csrf'));
      await formPage(req, res, p, {
        status: 422,
        values,
        errors: dossierErrors(req, p.definition, err),
        draft,
      });
    }
  };

  router.get('/procedures/:code/file', async (req, res) => {
    const p = await deps.procedures.get(String(req.params.code));
    const user = req.user!;
    if (user.kind === 'OFFICER' || !p.definition.applicantKinds.includes(user.kind)) {
      throw new ForbiddenError('dossier.kindNotAllowed');
    }
    const values: Record<string, unknown> = {};
    for (const f of p.definition.fields) {
      const v = f.prefill ? PREFILL[f.prefill]?.(user) : null;
      if (v) values[f.name] = v;
    }
    await formPage(req, res, p, { values });
  });

  router.post('/procedures/:code/file', async (req, res) => {
    const p = await deps.procedures.get(String(req.params.code));
    await handleFiling(req, res, p);
  });

  const draftId = (req: Request) => {
    const id = Number(req.params.id);
    if (!Number.isSafeInteger(id) || id <= 0) throw new NotFoundError('dossier.notFound');
    return id;
  };
  // Not a number ("NaN", "Infinity") would reach the query as such: MySQL reads it as a column name.
  const fileId = (req: Request) => {
    const id = Number(req.params.fileId);
    if (!Number.isSafeInteger(id) || id <= 0) throw new NotFoundError();
    return id;
  };

  router.get('/my/drafts/:id', async (req, res) => {
    const draft = await deps.dossiers.myDraft(req.user!, draftId(req));
    await formPage(req, res, draft.procedure, { values: draft.dossier.formData, draft });
  });

  router.post('/my/drafts/:id', async (req, res) => {
    if (await alreadySubmitted(req, res, draftId(req))) return;
    const draft = await deps.dossiers.myDraft(req.user!, draftId(req));
    await handleFiling(req, res, draft.procedure, draft.dossier.id);
  });

  router.get('/my/drafts/:id/files/:fileId', async (req, res) => {
    const file = await deps.dossiers.myDraftFile(req.user!, draftId(req), fileId(req));
    sendPaper(res, deps, file);
  });

  router.get('/my/claim', (req, res) => {
    res.render('pages/citizen/claim', { title: req.t('claim.title'), values: {}, errors: {} });
  });

  router.post('/my/claim', async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    await handleForm(
      req,
      res,
      { name: 'pages/citizen/claim', fields: ['code', 'secret'], data: { title: req.t('claim.title') } },
      async () => {
        const d = await deps.dossiers.claim(
          req.user!,
          String(body.code ?? '').trim(),
          String(body.secret ?? ''),
          requestContext(req),
        );
        req.session.flash = { kind: 'success', key: 'claim.done', params: { code: d.code! } };
        res.redirect(303, `/my/dossiers/${encodeURIComponent(d.code!)}`);
      },
    );
  });

  router.get('/my/dossiers', async (req, res) => {
    const items = await deps.dossiers.listMine(req.user!);
    res.render('pages/citizen/my-dossiers', {
      title: req.t('my.title'),
      items: items.map((i) => ({
        ...i,
        procedureName: req.lang === 'en' ? i.procedureNameEn : i.procedureName,
      })),
    });
  });

  const present = async (req: Request, view: DossierView) => {
    const agency = await deps.repos.agencies.findById(view.dossier.agencyId);
    const def = view.procedure.definition;
    return {
      code: view.dossier.code,
      status: view.dossier.status,
      channel: view.dossier.channel,
      secret: view.dossier.secret,
      submittedAt: view.dossier.submittedAt,
      countingFrom: view.dossier.countingFrom,
      dueAt: view.dossier.dueAt,
      pausedHoursLeft: pausedHoursLeft(view.dossier),
      agency: agencyName(req.lang, agency),
      procedure: localText(def.name, req.lang),
      timeLimit: timeLimitText(req.t, def.timeLimit),
      applicant: view.dossier.applicant,
      ...presentContents(req, view, agencyName(req.lang, agency)),
      result: await resultSummary(deps, view.dossier.id),
      supplement: supplementOf(req, view),
      mayWithdraw: (
        await deps.commands.transitionDossier.actionsFor(req.user!, view.dossier, view.procedure)
      ).some((a) => a.name === 'withdraw'),
    };
  };

  /** What the officer asked for when the clock is paused: the reason and the papers. */
  const supplementOf = (req: Request, view: DossierView) => {
    if (view.dossier.status !== 'SUPPLEMENT_REQUESTED') return null;
    const asked = view.events.filter((e) => e.action === 'request_supplement').pop();
    const def = view.procedure.definition;
    const codes = (asked?.details.papers as string[] | undefined) ?? [];
    return {
      reason: asked?.note ?? '',
      askedAt: asked?.occurredAt ?? null,
      remainingHours: asked?.details.remainingWorkingHours ?? null,
      papers: def.papers
        .filter((p) => codes.includes(p.code))
        .map((p) => ({
          code: p.code,
          name: localText(p.name, req.lang),
          accept:
            presentProcedure(req, view.procedure, undefined).papers.find((x) => x.code === p.code)?.accept ??
            '',
          multiple: p.maxFiles > 1,
        })),
    };
  };

  const codeParam = (req: Request) => String(req.params.code);

  router.get('/my/dossiers/:code', async (req, res) => {
    const view = await deps.dossiers.mine(req.user!, codeParam(req));
    res.render('pages/citizen/dossier', {
      title: req.t('dossier.title', { code: view.dossier.code ?? '' }),
      d: await present(req, view),
    });
  });

  router.get('/my/dossiers/:code/submitted', async (req, res) => {
    const view = await deps.dossiers.mine(req.user!, codeParam(req));
    res.set('Cache-Control', 'no-store');
    res.render('pages/citizen/submitted', { title: req.t('submitted.title'), d: await present(req, view) });
  });

  router.get('/my/dossiers/:code/notices/:kind.pdf', async (req, res) => {
    const kind = NOTICE_KINDS.find((k) => k === req.params.kind);
    if (!kind) throw new NotFoundError();
    await sendNotice(res, deps, await deps.dossiers.mine(req.user!, codeParam(req)), kind);
  });

  router.get('/my/dossiers/:code/result.pdf', async (req, res) => {
    await sendResult(res, deps, await deps.dossiers.mine(req.user!, codeParam(req)));
  });

  router.get('/my/results', async (req, res) => {
    const items = await deps.repos.results.issuedForApplicant(req.user!.id);
    res.render('pages/citizen/my-results', {
      title: req.t('results.title'),
      items: items.map((r) => ({
        code: r.dossierCode,
        symbol: r.symbol,
        kind: r.kind,
        status: r.status,
        issuedAt: r.issuedAt,
        verifyPath: `/verify/r/${r.publicId}`,
      })),
    });
  });

  router.get('/my/dossiers/:code/receipt.pdf', async (req, res) => {
    await sendReceipt(res, deps, await deps.dossiers.mine(req.user!, codeParam(req)));
  });

  /** An applicant's own action on the dossier page: done, or back to the page with the first problem
   * named (nothing was stored). */
  const applicantAction = async (
    req: Request,
    res: Response,
    action: 'withdraw' | 'resubmit',
    read: () => Promise<{ input: Record<string, unknown>; uploads: Upload[] }>,
  ) => {
    const back = `/my/dossiers/${encodeURIComponent(codeParam(req))}`;
    try {
      const { input, uploads } = await read();
      await deps.commands.transitionDossier.run(
        { actor: req.user!, code: codeParam(req), action, input, uploads },
        requestContext(req),
      );
      req.session.flash = { kind: 'success', key: `done.${action}` };
    } catch (err) {
      // Done meanwhile (a double click, another tab) or no longer possible: the page shows where the
      // dossier stands now, with the reason nothing was done.
      if (err instanceof ConflictError) {
        req.session.flash = { kind: 'error', key: err.messageKey };
        return res.redirect(303, back);
      }
      if (!(err instanceof ValidationError) && !(err instanceof UploadError && err.status !== 403)) throw err;
      const [field, key] = Object.entries(
        err instanceof ValidationError ? err.fieldErrors : { _: err.messageKey },
      )[0]!;
      const params =
        err instanceof ValidationError
          ? err.messageParams[field]
          : (err.details as Record<string, string | number>);
      req.session.flash = { kind: 'error', key, params };
    }
    res.redirect(303, back);
  };

  router.post('/my/dossiers/:code/actions/withdraw', async (req, res) => {
    await applicantAction(req, res, 'withdraw', async () => ({
      input: req.body as Record<string, unknown>,
      uploads: [],
    }));
  });

  // The supplement: the applicant sends the papers asked for; the legal clock resumes.
  router.post('/my/dossiers/:code/resubmit', async (req, res) => {
    await applicantAction(req, res, 'resubmit', async () => {
      const body = await readForm(req);
      return { input: body.fields, uploads: uploadsOf(body) };
    });
  });

  router.get('/my/dossiers/:code/files/:fileId', async (req, res) => {
    const file = await deps.dossiers.myFile(req.user!, codeParam(req), fileId(req));
    sendPaper(res, deps, file);
  });

  return router;
}
