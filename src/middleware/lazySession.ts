import type { Request, RequestHandler } from 'express';

const WAITING = Symbol('session not made yet');

/** Whether the header names the cookie at all: any spelling the session middleware might still read
 * ("portal.sid =...") takes the usual path, where the session is looked up in the store. */
function sendsCookie(req: Request, name: string): boolean {
  return (req.headers.cookie ?? '').includes(name);
}

/**
 * The session middleware, run only when a request needs a session. A visitor's first page (a reading
 * of the catalogue, a lookup) comes with no session cookie: making, hashing and dropping an empty
 * session on each of those is most of what the session costs. For such a GET or HEAD, `req.session`
 * is made the first time anything reads or writes it (a form's CSRF token, a flash message, the
 * address to come back to after login) by running the middleware then: for a request without a
 * cookie it works synchronously, and it still sets the cookie and saves the session at the end.
 * Every other request (with a cookie, or a POST) runs the middleware as usual.
 */
export function lazySession(session: RequestHandler, cookieName: string): RequestHandler {
  return (req, res, next) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || sendsCookie(req, cookieName)) {
      return session(req, res, next);
    }
    const make = () => {
      delete (req as { session?: unknown }).session;
      delete (req as { [WAITING]?: true })[WAITING];
      session(req, res, () => undefined);
    };
    (req as { [WAITING]?: true })[WAITING] = true;
    Object.defineProperty(req, 'session', {
      configurable: true,
      enumerable: true,
      get() {
        make();
        return req.session;
      },
      set(value: unknown) {
        delete (req as { session?: unknown }).session;
        (req as { session?: unknown }).session = value;
      },
    });
    next();
  };
}

/** Whether this request has a session yet (false while lazySession has not needed to make one). */
export function hasSession(req: Request): boolean {
  return !(req as { [WAITING]?: true })[WAITING];
}
