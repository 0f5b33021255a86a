import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../logger';

const GIVEN_ID = /^[\w.-]{8,64}$/;
const QUIET = new Set(['/healthz', '/readyz']);

/** Secrets that can travel in a query string (a lookup secret, a token) never reach the log. */
function loggableUrl(url: string): string {
  return url.replace(/([?&](?:secret|token)=)[^&]*/gi, '$1[redacted]');
}

/**
 * Gives every request an id (the caller's X-Request-Id when it looks like one), answers it in the
 * X-Request-Id header, and logs one line when the response is finished or the client went away:
 * method, path, status, duration. Headers are never logged (they carry cookies and tokens). Nothing
 * is made per request for the log unless its level is on: this runs on every page.
 */
export function requestLog(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const given = req.headers['x-request-id'];
    const id = typeof given === 'string' && GIVEN_ID.test(given) ? given : randomUUID();
    req.id = id;
    res.setHeader('X-Request-Id', id);
    if (!logger.isLevelEnabled('info') || QUIET.has(req.path)) return next();
    const started = process.hrtime.bigint();
    let logged = false;
    const done = (event: 'finish' | 'close') => {
      if (logged) return;
      logged = true;
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const entry = {
        req: { id, method: req.method, url: loggableUrl(req.originalUrl), ip: req.ip },
        res: { status: res.statusCode },
        responseTime: Math.round(ms * 10) / 10,
      };
      if (event === 'close' && !res.writableFinished) logger.warn(entry, 'request aborted');
      else if (res.statusCode >= 500) logger.error(entry, 'request errored');
      else logger.info(entry, 'request completed');
    };
    res.once('finish', () => done('finish'));
    res.once('close', () => done('close'));
    next();
  };
}
