import { systemClock, type Clock } from './clock';
import { type Config } from './config';
import { buildDeps, type Deps } from './container';
import { createDb, migrateToLatest, type StatementLimits } from './data/db';
import { createLogger, type Logger } from './logger';
import { SHIPPED_PROCEDURES } from './services/catalogue';
import { seedDemoCertificates, seedDemoData } from './services/demoSeed';

/** Opens the database, migrates it, seeds demo data when allowed, and builds the dependencies. With
 * `limits` (a web process), the pool that serves requests bounds its statements (see StatementLimits);
 * the migrations run before, on a connection of their own and without them, since an index built over
 * a million rows may rightly take minutes. */
export async function bootstrap(
  config: Config,
  opts: { clock?: Clock; logger?: Logger; limits?: StatementLimits } = {},
): Promise<Deps> {
  const logger = opts.logger ?? createLogger(config.logLevel);
  const migrating = createDb(config.database);
  try {
    const applied = await migrateToLatest(migrating);
    if (applied.length > 0) logger.info({ applied }, 'database migrated');
  } finally {
    await migrating.destroy();
  }
  const db = createDb(config.database, opts.limits);
  try {
    const deps = buildDeps(config, db, opts.clock ?? systemClock, logger);
    if (config.seedDemoData && (await seedDemoData({ db, ...deps.repos }, deps.hasher, deps.clock))) {
      for (const def of SHIPPED_PROCEDURES) await deps.procedures.publish(def, null);
      await seedDemoCertificates({ pki: deps.pki, ...deps.repos });
      logger.info('demo data seeded into an empty database');
    }
    return deps;
  } catch (err) {
    await db.destroy();
    throw err;
  }
}

export async function shutdownDeps(deps: Deps): Promise<void> {
  deps.sessionStore.close();
  await deps.db.destroy();
}
