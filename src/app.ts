import path from 'node:path';
import cookieParser from 'cookie-parser';
import { csrfSync } from 'csrf-sync';
import ejs from 'ejs';
import express, { type Express } from 'express';
import session from 'express-session';
import helmet from 'helmet';
import type { Deps } from './container';
import { skipsSessionCsrf } from './middleware/csrf';
import { errorHandler, notFound } from './middleware/errorHandler';
import { i18n } from './middleware/i18n';
import { hasSession, lazySession } from './middleware/lazySession';
import { only } from './middleware/only';
import { publicPageCache } from './middleware/publicPageCache';
import { createAuthenticator } from './middleware/passportSetup';
import { requestLog } from './middleware/requestLog';
import { saveSessionBeforeRedirect } from './middleware/saveBeforeRedirect';
import { publicDir, viewsDir } from './paths';
import { accountRoutes } from './routes/accountRoutes';
import { apiRoutes } from './routes/apiRoutes';
import { adminRoutes } from './routes/adminRoutes';
import { authRoutes } from './routes/authRoutes';
import { catalogueRoutes } from './routes/catalogueRoutes';
import { certificateAdminRoutes } from './routes/certificateAdminRoutes';
import { verifyRoutes } from './routes/verifyRoutes';
import { dossierRoutes } from './routes/dossierRoutes';
import { officerRoutes } from './routes/officerRoutes';
import { healthRoutes } from './routes/healthRoutes';
import { publicRoutes } from './routes/publicRoutes';
import { ratingRoutes } from './routes/ratingRoutes';
import { statisticsApiRoutes } from './routes/statisticsApiRoutes';
import { statisticsRoutes } from './routes/statisticsRoutes';

const LAYOUT = path.join(viewsDir, 'layouts', 'main.ejs');
const SESSION_COOKIE = 'portal.sid';
/** Public pages a visitor without a session sees are served again for this long (see publicPageCache). */
const PUBLIC_PAGE_SECONDS = 5;

/** Renders a page, then the layout around it, unless the page asks for no layout. Partials are
 * included by their path from the views folder ("/partials/field"), which ejs resolves without
 * looking on disk each time. */
function renderWithLayout(
  file: string,
  options: object,
  done: (err: Error | null, html?: string) => void,
): void {
  const data = options as Record<string, unknown> & { layout?: false; cache?: boolean };
  const ejsOptions = { root: viewsDir, cache: data.cache === true };
  ejs.renderFile(file, data, ejsOptions, (err, body) => {
    if (err) return done(err);
    if (data.layout === false) return done(null, body);
    ejs.renderFile(LAYOUT, { ...data, body }, ejsOptions, (layoutErr, html) => done(layoutErr, html));
  });
}

export function createApp(deps: Deps): Express {
  const { config, logger } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);
  app.engine('ejs', renderWithLayout);
  app.set('view engine', 'ejs');
  app.set('views', viewsDir);
  if (config.env === 'production') app.enable('view cache');

  app.use(requestLog(logger));
  app.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'data:'],
          fontSrc: ["'self'"],
          connectSrc: ["'self'"],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
          objectSrc: ["'none'"],
          baseUri: ["'none'"],
          ...(config.secureCookies ? { upgradeInsecureRequests: [] } : {}),
        },
      },
      strictTransportSecurity: config.secureCookies,
      referrerPolicy: { policy: 'same-origin' },
    }),
  );
  app.use(
    '/assets',
    express.static(publicDir, { maxAge: config.env === 'production' ? '1d' : 0, index: false }),
  );
  app.use(healthRoutes(deps));

  app.use(cookieParser());
  app.use(i18n);
  app.use((req, res, next) => {
    // Defaults for the layout, so that an error page renders even when the session could not load.
    res.locals.user = null;
    res.locals.flash = null;
    res.locals.currentPath = req.originalUrl;
    res.locals.csrfToken = () => '';
    next();
  });
  // Public figures for the national portal, before the token-only API.
  app.use('/api/v1/stats', statisticsApiRoutes(deps));
  // The API authenticates with bearer tokens and never sees the session (see apiRoutes).
  app.use('/api/v1', apiRoutes(deps));
  app.use(express.urlencoded({ extended: false, limit: '100kb', parameterLimit: 200 }));
  app.use(
    lazySession(
      session({
        name: SESSION_COOKIE,
        store: deps.sessionStore,
        secret: config.sessionSecret,
        resave: false,
        saveUninitialized: false,
        // Every request moves the expiry forward: the session ends after this much idle time.
        rolling: true,
        cookie: {
          httpOnly: true,
          sameSite: 'lax',
          secure: config.secureCookies,
          maxAge: config.sessionIdleMinutes * 60_000,
        },
      }),
      SESSION_COOKIE,
    ),
  );
  app.use(saveSessionBeforeRedirect(logger));
  const authenticator = createAuthenticator(deps);
  app.use(authenticator.initialize());
  const sessionLogin = authenticator.session();
  // No session yet, nobody logged in: passport would only make an empty session to find that out.
  app.use((req, res, next) => (hasSession(req) ? sessionLogin(req, res, next) : next()));
  app.use((req, _res, next) => {
    // A password changed after this session logged in ends the session (a stolen one too).
    if (!req.user) return next();
    const at = req.session.authAt;
    if (typeof at !== 'number' || at < req.user.passwordChangedAt.getTime()) {
      return req.logOut((err) => next(err));
    }
    next();
  });

  const { csrfSynchronisedProtection, generateToken } = csrfSync({
    size: 32,
    skipCsrfProtection: skipsSessionCsrf,
    getTokenFromRequest: (req) => {
      const body = req.body as Record<string, unknown> | undefined;
      const fromBody = body?._csrf;
      return typeof fromBody === 'string' ? fromBody : (req.headers['x-csrf-token'] as string | undefined);
    },
  });
  app.use(csrfSynchronisedProtection);
  app.use((req, res, next) => {
    // A token is made (and the session saved) only when a page has a form that needs one.
    res.locals.csrfToken = () => generateToken(req);
    res.locals.user = req.user ?? null;
    if (hasSession(req) && req.session.flash) {
      const { kind, key, params } = req.session.flash;
      res.locals.flash = { kind, text: req.t(key, params) };
      delete req.session.flash;
    }
    next();
  });

  // Home, the catalogue and a procedure's page, as every visitor without a session sees them.
  app.use(
    publicPageCache({
      paths: /^\/(?:procedures(?:\/[^/]+)?\/?)?$/i,
      ttlMs: PUBLIC_PAGE_SECONDS * 1000,
      maxEntries: 1000,
      maxLength: 256 * 1024,
      generation: () => deps.procedures.catalogueGeneration,
    }),
  );

  // Each group of pages runs only for the paths it serves: a request skips the other groups' routes
  // without testing them one by one (see only).
  app.use(only(['/', '/language'], publicRoutes(deps)));
  app.use(only(['/login', '/logout', '/register/*'], authRoutes(deps, authenticator)));
  app.use(only(['/account/*'], accountRoutes(deps)));
  app.use(only(['/admin/*'], adminRoutes(deps)));
  app.use(only(['/admin/certificates/*'], certificateAdminRoutes(deps)));
  app.use(only(['/lookup/*', '/procedures/*'], catalogueRoutes(deps)));
  app.use(only(['/verify/*'], verifyRoutes(deps)));
  app.use(only(['/stats/*', '/desk/stats/*'], statisticsRoutes(deps)));
  // Ratings before the dossier pages, whose view shows the form.
  app.use(only(['/my/dossiers/*'], ratingRoutes(deps)));
  app.use(only(['/my/*', '/procedures/*'], dossierRoutes(deps)));
  app.use(only(['/desk/*'], officerRoutes(deps)));

  app.use(notFound);
  app.use(errorHandler(logger));
  return app;
}
