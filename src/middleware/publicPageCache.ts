import { performance } from 'node:perf_hooks';
import type { Request, RequestHandler, Response } from 'express';
import { hasSession } from './lazySession';

export interface PublicPageCacheOptions {
  /** The paths whose pages are the same for every visitor without a session (query strings apart). */
  paths: RegExp;
  /** How long a page is served again before it is rendered anew. */
  ttlMs: number;
  /** Pages kept at most; the oldest goes first. */
  maxEntries: number;
  /** A longer page (in characters) is not kept. */
  maxLength: number;
  /** Changes whenever what these pages show may have changed in this process (a procedure published):
   * a page rendered under an earlier value is not served again. */
  generation: () => number;
  /** Milliseconds on a monotonic clock; the cache's age is not the legal clock. */
  now?: () => number;
}

interface Entry {
  body: string;
  expiresAt: number;
  generation: number;
}

/** Response header saying whether the page came from the cache ("hit") or was rendered ("miss"). */
export const PAGE_CACHE_HEADER = 'X-Page-Cache';

/**
 * A few seconds' cache of the public pages (home, the catalogue, a procedure) as a visitor without a
 * session sees them: the same page for every such visitor in one language, read far more often than
 * it changes. Only a GET or HEAD without a session qualifies, so nothing of a logged-in user is ever
 * kept or shown to anyone else. A page is not kept if it made a session while rendering (a form with a
 * CSRF token, a flash message), set a cookie, said not to store it, answered anything but 200 or is
 * too long. The key is the language and the whole address. Other processes' publications show after
 * at most `ttlMs`; this process's at once.
 */
export function publicPageCache(opts: PublicPageCacheOptions): RequestHandler {
  const now = opts.now ?? (() => performance.now());
  const pages = new Map<string, Entry>();

  const keep = (key: string, entry: Entry) => {
    pages.delete(key);
    pages.set(key, entry);
    while (pages.size > opts.maxEntries) pages.delete(pages.keys().next().value as string);
  };

  const qualifies = (req: Request) =>
    (req.method === 'GET' || req.method === 'HEAD') && !hasSession(req) && opts.paths.test(req.path);

  return (req, res, next) => {
    if (!qualifies(req)) return next();
    const key = `${req.lang}\n${req.originalUrl}`;
    const generation = opts.generation();
    const kept = pages.get(key);
    if (kept && kept.generation === generation && kept.expiresAt > now()) {
      res.setHeader(PAGE_CACHE_HEADER, 'hit');
      res.type('html').send(kept.body);
      return;
    }
    if (kept) pages.delete(key);
    res.setHeader(PAGE_CACHE_HEADER, 'miss');
    const send = res.send.bind(res) as Response['send'];
    res.send = (body?: unknown) => {
      res.send = send;
      if (
        typeof body === 'string' &&
        res.statusCode === 200 &&
        !hasSession(req) &&
        res.getHeader('set-cookie') === undefined &&
        !/no-store|private/i.test(String(res.getHeader('cache-control') ?? '')) &&
        body.length <= opts.maxLength
      ) {
        // The generation read before rendering: a page rendered while a publication committed is
        // kept under the earlier value and so never served after it.
        keep(key, { body, expiresAt: now() + opts.ttlMs, generation });
      }
      return send(body);
    };
    next();
  };
}
