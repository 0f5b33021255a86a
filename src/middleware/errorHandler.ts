import type { NextFunction, Request, Response } from 'express';
import { AppError, LoginThrottledError, ServiceUnavailableError, ValidationError } from '../errors';
import type { Logger } from '../logger';

const DB_DOWN_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  'ER_CON_COUNT_ERROR',
  'SQLITE_BUSY',
  'SQLITE_CANTOPEN',
  // A statement stopped at the serving limits (see StatementLimits): the database is too busy now.
  'ER_QUERY_TIMEOUT',
  'ER_LOCK_WAIT_TIMEOUT',
]);

/** MariaDB's max_statement_time error, which the driver knows by number only. */
const MARIADB_STATEMENT_TIMEOUT = 1969;

/** Whether an error means the database cannot be reached now (answer 503, not 500). */
export function isDatabaseUnavailable(err: unknown): boolean {
  const e = err as {
    code?: string;
    errno?: number;
    sqlState?: string;
    name?: string;
    message?: string;
    errors?: unknown[];
    fatal?: unknown;
  };
  if (e?.code && DB_DOWN_CODES.has(e.code)) return true;
  if (e?.errno === MARIADB_STATEMENT_TIMEOUT && e.sqlState === '70100') return true;
  // The driver's word for a connection that broke, whatever the code ("Can't add new command when
  // connection is in closed state", at the ROLLBACK of a transaction whose connection went, has none).
  if (e?.fatal === true) return true;
  if (e?.name === 'KnexTimeoutError') return true;
  if (
    typeof e?.message === 'string' &&
    /Knex: Timeout acquiring a connection|Unable to acquire a connection|connect ETIMEDOUT|Connection lost/.test(
      e.message,
    )
  ) {
    return true;
  }
  return Array.isArray(e?.errors) && e.errors.some(isDatabaseUnavailable);
}

function normalise(err: unknown): AppError | undefined {
  if (err instanceof AppError) return err;
  if (isDatabaseUnavailable(err)) return new ServiceUnavailableError();
  const e = err as { code?: string; status?: number; type?: string };
  if (e?.code === 'EBADCSRFTOKEN') return new AppError('CSRF_INVALID', 403, 'error.csrf');
  if (e?.type === 'entity.too.large') return new AppError('TOO_LARGE', 413, 'error.tooLarge');
  if (e?.type === 'entity.parse.failed' || e?.status === 400)
    return new AppError('BAD_REQUEST', 400, 'error.validation');
  return undefined;
}

const TITLES: Record<number, string> = {
  403: 'error.forbiddenTitle',
  404: 'error.notFoundTitle',
  503: 'error.unavailableTitle',
};

export function notFound(req: Request, res: Response): void {
  res.status(404);
  if (req.path.startsWith('/api/')) {
    res.json({ error: { code: 'NOT_FOUND', message: req.t('error.notFound') } });
    return;
  }
  res.render('pages/errors/error', { title: req.t('error.notFoundTitle'), message: req.t('error.notFound') });
}

/** Users see a friendly page (or JSON for the API) with a reference; the log gets the detail. */
export function errorHandler(logger: Logger) {
  // Express recognises an error handler by its four parameters.
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const known = normalise(err);
    const status = known?.status ?? 500;
    const reference = String(req.id ?? '');
    if (status >= 500) logger.error({ err, reference }, 'request failed');
    else logger.info({ code: known?.code, status, reference }, 'request refused');
    if (res.headersSent) {
      res.end();
      return;
    }
    if (status === 503) res.set('Retry-After', '30');
    if (known instanceof LoginThrottledError) res.set('Retry-After', String(known.retryAfterMinutes * 60));
    const t = req.t ?? ((k: string) => k);
    if (status === 413) res.set('Connection', 'close');
    const message = known
      ? t(known.messageKey, known.details as Record<string, string | number> | undefined)
      : t('error.internal');
    res.status(status);
    if (req.path.startsWith('/api/')) {
      res.json({
        error: {
          code: known?.code ?? 'INTERNAL',
          message,
          ...(known instanceof ValidationError
            ? { fields: Object.fromEntries(Object.entries(known.fieldErrors).map(([f, k]) => [f, t(k)])) }
            : {}),
          ...(status >= 500 ? { reference } : {}),
        },
      });
      return;
    }
    res.render(
      'pages/errors/error',
      {
        title: t(TITLES[status] ?? 'error.title'),
        message,
        reference: status >= 500 && status !== 503 ? reference : null,
      },
      (renderErr, html) => {
        // A broken view must not hide the original error behind a blank page.
        if (renderErr) {
          logger.error({ err: renderErr, reference }, 'error page failed to render');
          res.type('text/plain').send(`${message}${status >= 500 ? ` (${reference})` : ''}`);
        } else res.send(html);
      },
    );
  };
}
