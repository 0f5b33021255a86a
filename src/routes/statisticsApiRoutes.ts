import { Router } from 'express';
import type { Deps } from '../container';
import { translator } from '../i18n/messages';
import { reportJson } from './statisticsPresenters';

/**
 * GET /api/v1/stats?agency=&from=&to= (CONTRACT.md): the figures of the statistics page as JSON, for the
 * national portal. Public like the page, so it needs no token; mounted beside the API, before the session.
 */
export function statisticsApiRoutes(deps: Deps): Router {
  const router = Router();
  router.get('/', async (req, res) => {
    req.lang = req.acceptsLanguages('vi', 'en') === 'en' ? 'en' : 'vi';
    req.t = translator(req.lang);
    res.set('Cache-Control', 'no-store');
    const query = await deps.statistics.resolveQuery(req.query);
    res.json(reportJson(await deps.statistics.report(query), req.lang));
  });
  return router;
}
