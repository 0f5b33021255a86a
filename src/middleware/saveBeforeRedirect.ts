import type { Request, RequestHandler, Response } from 'express';
import type { Logger } from '../logger';
import { hasSession } from './lazySession';

/** What the session holds apart from its cookie, as express-session compares it to see a change. */
function contents(req: Request): string {
  const sess = req.session as unknown as Record<string, unknown>;
  return JSON.stringify(sess, function (this: unknown, key, value: unknown) {
    return this === sess && key === 'cookie' ? undefined : value;
  });
}

/**
 * A redirect leaves only after a changed session is saved. express-session saves it at the end of the
 * response, but it sends the status and the Location first and holds back only the last byte of the
 * body until the store has answered. A browser follows a 303 as soon as it reads the Location, so the
 * next page could load the session before the message of the action just done (or the address to come
 * back to) was written, and show nothing. Saving first closes that window; the save at the end then
 * finds nothing new. A session that did not change is left to express-session, so that an empty one is
 * never stored. A failed save is logged and the redirect still goes: the action itself is done, and
 * only its message may be missing.
 */
export function saveSessionBeforeRedirect(logger: Logger): RequestHandler {
  return (req, res, next) => {
    // A session made later in this request (lazySession) starts empty.
    const before = hasSession(req) && req.session ? { id: req.sessionID, contents: contents(req) } : null;
    const redirect = res.redirect.bind(res) as (...args: unknown[]) => void;
    res.redirect = ((...args: unknown[]) => {
      if (!hasSession(req) || !req.session) return redirect(...args);
      const now = contents(req);
      const changed = before ? req.sessionID !== before.id || now !== before.contents : now !== '{}';
      if (!changed) return redirect(...args);
      // The idle expiry moves forward first, as express-session would do before its own save: the
      // stored session still carries the expiry of its last full write, perhaps long past, and the
      // next page would find it expired.
      req.session.touch();
      req.session.save((err?: unknown) => {
        if (err) logger.warn({ err, reqId: req.id }, 'session not saved before redirect');
        redirect(...args);
      });
    }) as Response['redirect'];
    next();
  };
}
