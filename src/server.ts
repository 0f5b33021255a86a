import http from 'node:http';
import { createApp } from './app';
import { bootstrap, shutdownDeps } from './bootstrap';
import { ConfigError, loadConfig } from './config';
import { SERVING_LIMITS } from './data/db';
import { createLogger } from './logger';

const OVERDUE_CHECK_MS = 5 * 60_000;
/** Files no row names are looked for once a day (see StrayFileSweeper). */
const STRAY_FILE_SWEEP_MS = 24 * 3_600_000;

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const deps = await bootstrap(config, { logger, limits: SERVING_LIMITS });
  const app = createApp(deps);
  const server = http.createServer(app);
  // Keep-alive sockets longer than a load balancer's, so it never reuses a socket we just closed.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;

  await new Promise<void>((resolve) => server.listen(config.port, resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  logger.info(
    { port, database: config.database.client, env: config.env },
    `portal listening on http://localhost:${port}`,
  );
  if (!config.smtpUrl && config.env === 'production') {
    logger.warn('SMTP_URL is not set: email notifications are written to the log instead of being sent');
  }
  // Every process runs both: the outbox locks and the job lease keep them from doing the work twice.
  deps.outboxWorker.start();
  deps.scheduler.every('overdue-dossiers', OVERDUE_CHECK_MS, async () => {
    await deps.jobs.markOverdue();
  });
  deps.scheduler.every('stray-files', STRAY_FILE_SWEEP_MS, async () => {
    await deps.jobs.sweepStrayFiles.sweep({ recentOnly: true });
  });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: no new connections, finishing requests in flight');
    // Runs in flight finish before the database closes; nothing new starts meanwhile.
    const background = Promise.all([deps.outboxWorker.stop(), deps.scheduler.stop()]).catch((e: unknown) =>
      logger.error({ err: e }, 'error while stopping the outbox worker and the scheduler'),
    );
    // Idle keep-alive sockets would hold close() open; requests in flight still finish.
    server.close((err) => {
      if (err) logger.error({ err }, 'error while closing the server');
      background
        .then(() => deps.mailer.close())
        .then(() => shutdownDeps(deps))
        .catch((e: unknown) => logger.error({ err: e }, 'error while closing the database'))
        .finally(() => {
          logger.info('stopped');
          process.exit(err ? 1 : 0);
        });
    });
    server.closeIdleConnections();
    setTimeout(() => {
      logger.error('requests still running after 25 s; stopping anyway');
      server.closeAllConnections();
    }, 25_000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`Configuration error: ${err.message}\n`);
  } else {
    process.stderr.write(
      `The portal could not start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
  }
  process.exit(1);
});
