import type { RequestHandler } from 'express';

/**
 * A router that runs only for the given paths: "/x" is that path, "/x/*" is it and everything under it
 * (case-insensitive, a trailing slash allowed, as express matches routes). Every other request goes
 * on at once instead of being tested against each of the router's routes.
 */
export function only(paths: readonly string[], router: RequestHandler): RequestHandler {
  const exact = new Set<string>();
  const under: string[] = [];
  for (const p of paths) {
    if (p.endsWith('/*')) {
      exact.add(p.slice(0, -2));
      under.push(p.slice(0, -1));
    } else exact.add(p);
  }
  const guard: RequestHandler = (req, res, next) => {
    const path = req.path.toLowerCase();
    const bare = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
    if (exact.has(bare) || under.some((u) => path.startsWith(u))) return router(req, res, next);
    next();
  };
  // The router's routes stay visible to whoever lists the app's routes (the authorisation tests do).
  return Object.assign(guard, { stack: (router as { stack?: unknown }).stack });
}
