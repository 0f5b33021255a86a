import { Router } from 'express';
import type { Deps } from '../container';
import { pingDb } from '../data/db';

/** Liveness and readiness for the load balancer and monitoring (outside interface: keep as is). */
export function healthRoutes(deps: Deps): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.set('Cache-Control', 'no-store').json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const ok = await pingDb(deps.db);
    res
      .status(ok ? 200 : 503)
      .set('Cache-Control', 'no-store')
      .json({ status: ok ? 'ready' : 'unavailable', database: ok ? 'up' : 'down' });
  });
  return router;
}
