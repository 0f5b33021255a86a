import { parseArgs } from 'node:util';
import { bootstrap, shutdownDeps } from '../bootstrap';
import { systemClock } from '../clock';
import { ConfigError, loadConfig } from '../config';
import { buildDeps } from '../container';
import { createDb, migrateToLatest } from '../data/db';
import { ValidationError } from '../errors';
import { translator } from '../i18n/messages';
import { createLogger } from '../logger';
import { systemContext } from '../services/auditContext';

const USAGE = `Usage: npm run portal -- <command> [options]

Commands:
  migrate                       apply database migrations
  seed                          migrate and seed demo data into an empty database
  create-officer                create an officer account
      --email E --name N --agency CODE --role R [--role R ...] [--position P]
      password from the environment variable OFFICER_PASSWORD (never on the command line)
  verify-audit                  check the audit log's hash chain and report the first broken link
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const config = loadConfig();
  const logger = createLogger(process.env.LOG_LEVEL ?? 'warn');
  switch (command) {
    case 'migrate': {
      const db = createDb(config.database);
      try {
        const applied = await migrateToLatest(db);
        console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'Already up to date.');
      } finally {
        await db.destroy();
      }
      return 0;
    }
    case 'seed': {
      const deps = await bootstrap({ ...config, seedDemoData: config.env !== 'production' }, { logger });
      await shutdownDeps(deps);
      console.log(config.env === 'production' ? 'Demo data is never seeded in production.' : 'Done.');
      return 0;
    }
    case 'create-officer': {
      const { values } = parseArgs({
        args: rest,
        options: {
          email: { type: 'string' },
          name: { type: 'string' },
          agency: { type: 'string' },
          role: { type: 'string', multiple: true },
          position: { type: 'string' },
        },
      });
      const password = process.env.OFFICER_PASSWORD ?? '';
      const db = createDb(config.database);
      await migrateToLatest(db);
      const deps = buildDeps(config, db, systemClock, logger);
      try {
        const agency = values.agency ? await deps.repos.agencies.findByCode(values.agency) : undefined;
        if (!agency) {
          console.error(`Unknown agency code: ${values.agency ?? '(none given)'}`);
          return 2;
        }
        // The command line acts as the system: a system administrator's powers, recorded as such.
        const system = {
          id: 0,
          email: 'cli@system',
          kind: 'OFFICER' as const,
          fullName: 'CLI',
          roles: ['SYSTEM_ADMIN' as const],
          agencyId: null,
          phone: null,
          citizenId: null,
          dateOfBirth: null,
          companyName: null,
          taxCode: null,
          position: null,
          status: 'ACTIVE' as const,
          createdAt: new Date(),
          passwordChangedAt: new Date(),
          lastLoginAt: null,
        };
        const officer = await deps.officers.createOfficer(
          system,
          {
            email: values.email,
            fullName: values.name,
            position: values.position,
            agencyId: agency.id,
            roles: values.role ?? [],
            password,
            passwordConfirm: password,
          },
          { ...systemContext, userAgent: 'cli' },
        );
        console.log(
          `Created officer #${officer.id} ${officer.email} (${officer.roles.join(', ')}) at ${agency.code}`,
        );
        return 0;
      } catch (err) {
        if (err instanceof ValidationError) {
          const t = translator('en');
          for (const [field, key] of Object.entries(err.fieldErrors)) console.error(`${field}: ${t(key)}`);
          return 2;
        }
        throw err;
      } finally {
        await shutdownDeps(deps);
      }
    }
    case 'verify-audit': {
      const db = createDb(config.database);
      const deps = buildDeps(config, db, systemClock, logger);
      try {
        const result = await deps.repos.audit.verifyChain();
        if (result.ok) {
          console.log(`Audit chain intact: ${result.records} records.`);
          return 0;
        }
        console.error(
          `Audit chain BROKEN at record #${result.brokenAt}: ${result.reason} (${result.records} records read).`,
        );
        return 1;
      } finally {
        await shutdownDeps(deps);
      }
    }
    default:
      console.error(USAGE);
      return command ? 2 : 0;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof ConfigError ? err.message : err);
    process.exit(1);
  },
);
