import { sendResult } from './documentResponses';
import { NoFileError, reportJson, VerifierBusyError, verifyUpload } from './verifyRoutes';
import express, { type NextFunction, type Request, type Response, Router } from 'express';
import type { Deps } from '../container';
import type { User } from '../data/userRepository';
import { AppError, LoginThrottledError, NotFoundError, ValidationError } from '../errors';
import { translator } from '../i18n/messages';
import { requestContext } from '../middleware/requestContext';
import type { DossierView } from '../services/dossierService';
import { localText } from '../domain/procedureDefinition';
import { parseMultipart, uploadsOf } from './multipart';
import { openApiDocument } from './openapi';
import { dossierErrors } from './presenters';

class UnauthorizedError extends AppError {
  constructor() {
    super('UNAUTHORIZED', 401, 'api.unauthorized');
  }
}

declare module 'express-serve-static-core' {
  interface Request {
    apiUser?: User;
  }
}

function bearer(req: Request): string | undefined {
  const m = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '');
  return m?.[1];
}

function first(v: string | string[] | undefined): string {
  return Array.isArray(v) ? (v[0] ?? '') : (v ?? '');
}

/**
 * API v1 (see ../shared/CONTRACT.md): JSON, bearer tokens only. It is mounted before the session
 * middleware, so a browser's cookies never authenticate a call and CSRF cannot reach it.
 */
export function apiRoutes(deps: Deps): Router {
  const router = Router();
  router.use((req, res, next) => {
    // Messages in English when the client asks for it, Vietnamese otherwise.
    req.lang = req.acceptsLanguages('vi', 'en') === 'en' ? 'en' : 'vi';
    req.t = translator(req.lang);
    res.set('Cache-Control', 'no-store');
    next();
  });

  const authenticate = async (req: Request, _res: Response, next: NextFunction) => {
    const token = bearer(req);
    const user = token ? await deps.apiTokens.authenticate(token) : undefined;
    if (!user) return next(new UnauthorizedError());
    req.apiUser = user;
    next();
  };
  const optionalAuth = async (req: Request, _res: Response, next: NextFunction) => {
    const token = bearer(req);
    if (token) req.apiUser = await deps.apiTokens.authenticate(token);
    next();
  };

  router.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument(deps.config.publicBaseUrl));
  });

  // Public: anyone may check a PDF's signatures, as on the verification page.
  router.post('/verify', async (req, res) => {
    if (req.is('multipart/form-data') !== 'multipart/form-data') throw new NoFileError();
    try {
      res.json(reportJson(await verifyUpload(deps, req, false)));
    } catch (err) {
      if (err instanceof VerifierBusyError) res.set('Retry-After', '5');
      throw err;
    }
  });

  router.post('/tokens', express.json({ limit: '10kb' }), async (req, res) => {
    const body = (req.body ?? {}) as { email?: unknown; password?: unknown };
    if (typeof body.email !== 'string' || typeof body.password !== 'string') {
      throw new ValidationError({
        ...(typeof body.email === 'string' ? {} : { email: 'v.required' }),
        ...(typeof body.password === 'string' ? {} : { password: 'v.required' }),
      });
    }
    try {
      const token = await deps.apiTokens.issueForCredentials(body.email, body.password, requestContext(req));
      if (!token) throw new UnauthorizedError();
      res.status(201).json({ token });
    } catch (err) {
      if (err instanceof LoginThrottledError) res.set('Retry-After', String(err.retryAfterMinutes * 60));
      throw err;
    }
  });

  router.get('/procedures', optionalAuth, async (req, res) => {
    const [procedures, agencies] = await Promise.all([
      deps.procedures.list({}),
      deps.repos.agencies.listAll(),
    ]);
    const byId = new Map(agencies.map((a) => [a.id, a]));
    res.json(
      procedures.map((p) => {
        const d = p.definition;
        const agency = byId.get(p.agencyId);
        return {
          code: p.code,
          version: p.version,
          name: localText(d.name, req.lang),
          agency: agency
            ? { code: agency.code, name: localText({ vi: agency.name, en: agency.nameEn }, req.lang) }
            : null,
          sector: localText(d.sector, req.lang),
          onlineLevel: d.onlineLevel,
          applicantKinds: d.applicantKinds,
          timeLimit: d.timeLimit,
          fee: { amount: d.fee.amount, currency: 'VND', text: localText(d.fee.text, req.lang) },
          fields: d.fields.map((f) => ({
            name: f.name,
            type: f.type,
            label: localText(f.label, req.lang),
            required: f.required,
            ...(f.pattern ? { pattern: f.pattern } : {}),
            ...(f.maxLength ? { maxLength: f.maxLength } : {}),
            ...(f.min !== undefined ? { min: f.min } : {}),
            ...(f.max !== undefined ? { max: f.max } : {}),
            ...(f.options
              ? { options: f.options.map((o) => ({ value: o.value, label: localText(o.label, req.lang) })) }
              : {}),
          })),
          papers: d.papers.map((pp) => ({
            code: pp.code,
            name: localText(pp.name, req.lang),
            required: pp.required,
            copies: pp.copies,
            maxFiles: pp.maxFiles,
            types: pp.types,
          })),
        };
      }),
    );
  });

  router.post('/dossiers', authenticate, async (req, res) => {
    if (req.is('multipart/form-data') !== 'multipart/form-data') {
      throw new AppError('UNSUPPORTED_MEDIA_TYPE', 415, 'api.multipartRequired');
    }
    const body = await parseMultipart(req, deps.files.papers, deps.config.uploads, deps.clock.now());
    const uploads = uploadsOf(body);
    const procedureCode = first(body.fields.procedure);
    const key = req.get('idempotency-key')?.trim() ?? '';
    if (!procedureCode || key.length > 64) {
      await deps.files.papers.removeAll(uploads.map((u) => u.relPath));
      throw new ValidationError(
        procedureCode ? { idempotencyKey: 'v.tooLong' } : { procedure: 'v.required' },
      );
    }
    let result;
    try {
      result = await deps.commands.submitDossier.run(
        { submitter: req.apiUser!, procedureCode, fields: body.fields, uploads, idempotencyKey: key || null },
        requestContext(req),
      );
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      // Field messages in the reader's language, with the procedure's own pattern messages.
      const p = procedureCode ? await deps.procedures.get(procedureCode).catch(() => undefined) : undefined;
      const fields = p
        ? dossierErrors(req, p.definition, err)
        : Object.fromEntries(
            Object.entries(err.fieldErrors).map(([f, k]) => [f, req.t(k, err.messageParams[f])]),
          );
      res.status(422).json({ error: { code: err.code, message: req.t('error.validation'), fields } });
      return;
    }
    const d = result.dossier;
    if (result.replayed) res.set('Idempotent-Replayed', 'true');
    res
      .status(201)
      .location(`/api/v1/dossiers/${encodeURIComponent(d.code!)}`)
      .json({ code: d.code, secret: d.secret, status: d.status, dueAt: d.dueAt?.toISOString() ?? null });
  });

  const present = async (req: Request, view: DossierView) => {
    const d = view.dossier;
    const agency = await deps.repos.agencies.findById(d.agencyId);
    return {
      code: d.code,
      status: d.status,
      procedure: {
        code: view.procedure.code,
        version: view.procedure.version,
        name: localText(view.procedure.definition.name, req.lang),
      },
      agency: agency ? { code: agency.code, name: req.lang === 'en' ? agency.nameEn : agency.name } : null,
      channel: d.channel,
      submittedAt: d.submittedAt?.toISOString() ?? null,
      dueAt: d.dueAt?.toISOString() ?? null,
      papers: view.files.map((f) => ({
        paper: f.paperCode,
        name: f.originalName,
        size: f.size,
        sha256: f.sha256,
      })),
      history: view.events.map((e) => ({
        at: e.occurredAt.toISOString(),
        action: e.action,
        from: e.fromStatus,
        to: e.toStatus,
        actorRole: e.actorRole,
        note: e.note,
      })),
    };
  };

  router.get('/dossiers/:code', authenticate, async (req, res) => {
    const view = await deps.dossiers.readable(req.apiUser!, String(req.params.code));
    if (!view) throw new NotFoundError('dossier.notFound');
    res.json(await present(req, view));
  });

  router.get('/dossiers/:code/result', authenticate, async (req, res) => {
    const view = await deps.dossiers.readable(req.apiUser!, String(req.params.code));
    if (!view) throw new NotFoundError('dossier.notFound');
    await sendResult(res, deps, view);
  });

  router.post(
    '/dossiers/:code/actions/:action',
    authenticate,
    express.json({ limit: '50kb' }),
    async (req, res) => {
      // JSON, or multipart when the action carries an attachment (a PDF in the part named "attachment").
      let body = (req.body ?? {}) as Record<string, unknown>;
      let uploads: ReturnType<typeof uploadsOf> = [];
      if (req.is('multipart/form-data') === 'multipart/form-data') {
        const form = await parseMultipart(req, deps.files.papers, deps.config.uploads, deps.clock.now());
        body = form.fields;
        uploads = uploadsOf(form);
      }
      const version = typeof body.version === 'string' ? Number(body.version) : body.version;
      const d = await deps.commands.transitionDossier.run(
        {
          actor: req.apiUser!,
          code: String(req.params.code),
          action: String(req.params.action),
          input: body,
          uploads,
          expectedVersion: typeof version === 'number' && Number.isSafeInteger(version) ? version : undefined,
        },
        requestContext(req),
      );
      res.json({
        code: d.code,
        status: d.status,
        version: d.version,
        dueAt: d.dueAt?.toISOString() ?? null,
        paused: d.pausedAt !== null,
      });
    },
  );

  return router;
}
