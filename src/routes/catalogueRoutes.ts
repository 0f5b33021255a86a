import { NotFoundError } from '../errors';
import { resultSummary, sendResult } from './documentResponses';
import { Router } from 'express';
import { z } from 'zod';
import type { Deps } from '../container';
import { localText } from '../domain/procedureDefinition';
import { agencyName, pausedHoursLeft, presentProcedure, presentTimeline } from './presenters';

const catalogueQuery = z.object({
  q: z.string().trim().max(200).optional().catch(undefined),
  agency: z.coerce.number().int().positive().optional().catch(undefined),
  sector: z.string().max(64).optional().catch(undefined),
  level: z.enum(['FULL', 'PARTIAL']).optional().catch(undefined),
});

export function catalogueRoutes(deps: Deps): Router {
  const router = Router();

  router.get('/procedures', async (req, res) => {
    const filter = catalogueQuery.parse(req.query);
    const [procedures, agencies, sectors] = await Promise.all([
      deps.procedures.list({
        q: filter.q || undefined,
        agencyId: filter.agency,
        sector: filter.sector || undefined,
        onlineLevel: filter.level,
      }),
      deps.repos.agencies.listAll(),
      deps.procedures.sectors(),
    ]);
    const byId = new Map(agencies.map((a) => [a.id, a]));
    res.render('pages/public/catalogue', {
      title: req.t('catalogue.title'),
      filter,
      agencies: agencies.map((a) => ({ id: a.id, name: agencyName(req.lang, a) })),
      sectors,
      procedures: procedures.map((p) => presentProcedure(req, p, byId.get(p.agencyId))),
    });
  });

  router.get('/procedures/:code', async (req, res) => {
    const p = await deps.procedures.get(String(req.params.code));
    const agency = await deps.repos.agencies.findById(p.agencyId);
    const user = req.user;
    res.render('pages/public/procedure', {
      title: localText(p.definition.name, req.lang),
      procedure: presentProcedure(req, p, agency),
      mayFile: !user || (user.kind !== 'OFFICER' && p.definition.applicantKinds.includes(user.kind)),
    });
  });

  // The result with the receipt's code and secret, for an applicant without an account.
  router.get('/lookup/result.pdf', async (req, res) => {
    const code = typeof req.query.code === 'string' ? req.query.code.trim().slice(0, 64) : '';
    const secret = typeof req.query.secret === 'string' ? req.query.secret.trim().slice(0, 32) : '';
    const view = code && secret ? await deps.dossiers.lookup(code, secret) : undefined;
    if (!view) throw new NotFoundError('dossier.notFound');
    await sendResult(res, deps, view);
  });

  router.get('/lookup', async (req, res) => {
    const code = typeof req.query.code === 'string' ? req.query.code.trim().slice(0, 64) : '';
    const secret = typeof req.query.secret === 'string' ? req.query.secret.trim().slice(0, 32) : '';
    let result = null;
    let notFound = false;
    if (code || secret) {
      const view = await deps.dossiers.lookup(code, secret);
      if (view) {
        const agency = await deps.repos.agencies.findById(view.dossier.agencyId);
        result = {
          code: view.dossier.code,
          status: view.dossier.status,
          procedure: localText(view.procedure.definition.name, req.lang),
          agency: agencyName(req.lang, agency),
          submittedAt: view.dossier.submittedAt,
          dueAt: view.dossier.dueAt,
          pausedHoursLeft: pausedHoursLeft(view.dossier),
          timeline: presentTimeline(req.t, view, agencyName(req.lang, agency)),
          result: await resultSummary(deps, view.dossier.id),
        };
      } else notFound = true;
    }
    // The secret is in the address (the receipt's QR code): keep it out of caches and referrers.
    res.set('Cache-Control', 'no-store');
    res.status(notFound ? 404 : 200).render('pages/public/lookup', {
      title: req.t('lookup.title'),
      values: { code, secret },
      result,
      notFound,
    });
  });

  return router;
}
