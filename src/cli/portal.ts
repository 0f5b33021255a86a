import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { bootstrap, shutdownDeps } from '../bootstrap';
import { systemClock } from '../clock';
import { type Config, ConfigError, loadConfig } from '../config';
import { buildDeps, type Deps } from '../container';
import { createDb, migrateToLatest } from '../data/db';
import type { User } from '../data/userRepository';
import { AppError, NotFoundError, ValidationError } from '../errors';
import { translator } from '../i18n/messages';
import { createLogger, type Logger } from '../logger';
import { type RequestContext, systemContext } from '../services/auditContext';
import { type CertificateHolder, CertificateUnusableError, type PkiService } from '../services/pkiService';
import { KEY_TYPES, type KeyType } from '../signing/certificateAuthority';

const USAGE = `Usage: npm run portal -- <command> [options]

Commands:
  migrate                       apply database migrations
  seed                          migrate and seed demo data into an empty database
  create-officer                create an officer account
      --email E --name N --agency CODE --role R [--role R ...] [--position P]
      password from the environment variable OFFICER_PASSWORD (never on the command line)
  verify-audit                  check the audit log's hash chain and report the first broken link
  pki init-ca [--force]         create the local development CA under STORAGE_DIR/pki
                                (refused in production unless --force)
  pki issue (--email E | --agency CODE) [--pin-env VAR] [--key-type RSA|ECDSA_P256] [--days N] [--force]
                                issue a certificate from the local CA: personal for the officer E,
                                or the seal of agency CODE; the PIN from the environment variable VAR
                                (default SIGNING_PIN); refused in production unless --force
  pki import (--email E | --agency CODE) --file F.p12
                                import a PKCS#12 file; its password from PKCS12_PASSWORD, the holder's
                                new signing PIN from SIGNING_PIN (never on the command line)
  pki list                      list every certificate with its state
  pki revoke --id N --reason R  revoke a certificate: it can sign no more
  stats check [--reclassify]    recount the statistics from the event log and the ratings and report
                                every daily count, and every resolved dossier's classification, that
                                differs from the one kept (exit 1 if any); each resolution counts as
                                recorded when it happened, or with --reclassify as judged again today
  stats rebuild [--reclassify]  replace the kept daily counts and classifications by that recount
  files sweep [--dry-run]       remove stored files that no row names, written over a day ago (left by
                                a process that died between writing a file and committing its row)
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
        const officer = await deps.officers.createOfficer(
          cliActor(),
          {
            email: values.email,
            fullName: values.name,
            position: values.position,
            agencyId: agency.id,
            roles: values.role ?? [],
            password,
            passwordConfirm: password,
          },
          CLI_CONTEXT,
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
    case 'pki':
      return pkiCommand(rest, config, logger);
    case 'files': {
      if (rest[0] !== 'sweep' || rest.slice(1).some((a) => a !== '--dry-run')) {
        console.error(USAGE);
        return 2;
      }
      const dryRun = rest.includes('--dry-run');
      const db = createDb(config.database);
      const deps = buildDeps(config, db, systemClock, logger);
      try {
        const r = await deps.jobs.sweepStrayFiles.sweep({ dryRun });
        console.log(
          `${r.examined} stored files over a day old examined; ${r.removed} named by no row ${dryRun ? 'would be removed' : 'removed'}.`,
        );
        return 0;
      } finally {
        await shutdownDeps(deps);
      }
    }
    case 'stats': {
      const sub = rest[0];
      if (sub !== 'check' && sub !== 'rebuild') {
        console.error(USAGE);
        return 2;
      }
      const db = createDb(config.database);
      const deps = buildDeps(config, db, systemClock, logger);
      try {
        const reclassify = rest.includes('--reclassify');
        if (sub === 'rebuild') {
          const done = await deps.statistics.rebuild({ reclassify });
          console.log(
            `Statistics rebuilt from the event log: ${done.rows} daily rows, ${done.reclassified} dossiers reclassified.`,
          );
          return 0;
        }
        const differences = await deps.statistics.check({ reclassify });
        for (const d of differences.slice(0, 50)) {
          console.error(
            d.dossier
              ? `dossier ${d.dossier} (resolved ${d.day}) ${d.count}: kept ${d.kept}, recounted ${d.recounted}`
              : `agency ${d.agencyId} procedure ${d.procedureId} ${d.day} ${d.count}: kept ${d.kept}, recounted ${d.recounted}`,
          );
        }
        if (differences.length === 0) {
          console.log('Statistics agree with the event log.');
          return 0;
        }
        console.error(
          `${differences.length} figures differ from the event log; \`stats rebuild\` replaces them.`,
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

const CLI_CONTEXT: RequestContext = { ...systemContext, userAgent: 'cli' };

/** The command line acts as the system: a system administrator's powers, recorded as such. */
function cliActor(): User {
  return {
    id: 0,
    email: 'cli@system',
    kind: 'OFFICER',
    fullName: 'CLI',
    roles: ['SYSTEM_ADMIN'],
    agencyId: null,
    phone: null,
    citizenId: null,
    dateOfBirth: null,
    companyName: null,
    taxCode: null,
    position: null,
    status: 'ACTIVE',
    createdAt: new Date(),
    passwordChangedAt: new Date(),
    lastLoginAt: null,
  };
}

/** A refusal in words an operator can act on; the import's refusals as the admin page words them. */
function refusalText(err: AppError): string {
  const t = translator('en');
  const key =
    err instanceof CertificateUnusableError
      ? `v.certUnusable.${err.reason}`
      : (
          {
            PKCS12_WRONG_PASSWORD: 'v.certWrongPassword',
            PKCS12_INVALID: 'v.certDamaged',
            SIGNER_KEY_INVALID: 'v.certKeyUnsupported',
          } as Record<string, string>
        )[err.code];
  return `${err.code}: ${t(key ?? err.messageKey, err.details as Record<string, string | number> | undefined)}`;
}

/** The holder named by --email (an officer's personal certificate) or --agency (the agency's seal). */
async function pkiHolder(
  deps: Deps,
  values: { email?: string; agency?: string },
): Promise<
  { holder: CertificateHolder; subject: Parameters<PkiService['issueLocal']>[1]; name: string } | string
> {
  if (Boolean(values.email) === Boolean(values.agency)) return 'Give either --email or --agency.';
  if (values.email) {
    const user = await deps.repos.users.findByEmail(values.email);
    if (!user || user.kind !== 'OFFICER' || user.status !== 'ACTIVE') {
      return `No active officer with the email ${values.email}`;
    }
    const agency = user.agencyId ? await deps.repos.agencies.findById(user.agencyId) : undefined;
    return {
      holder: { kind: 'PERSONAL', userId: user.id, agencyId: null },
      subject: {
        commonName: user.fullName,
        organization: agency?.name,
        title: user.position ?? undefined,
        locality: agency?.placeName,
      },
      name: user.email,
    };
  }
  const agency = await deps.repos.agencies.findByCode(values.agency!);
  if (!agency) return `Unknown agency code: ${values.agency}`;
  return {
    holder: { kind: 'AGENCY', userId: null, agencyId: agency.id },
    subject: { commonName: agency.name, organization: agency.name, locality: agency.placeName },
    name: agency.code,
  };
}

async function pkiCommand(argv: string[], config: Config, logger: Logger): Promise<number> {
  const [sub, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: {
      email: { type: 'string' },
      agency: { type: 'string' },
      'pin-env': { type: 'string' },
      'key-type': { type: 'string' },
      days: { type: 'string' },
      file: { type: 'string' },
      id: { type: 'string' },
      reason: { type: 'string' },
      force: { type: 'boolean' },
    },
  });
  // The local CA is for development and tests: a production portal trusts the national CA's roots.
  const localCaRefused = config.env === 'production' && !values.force;
  if ((sub === 'init-ca' || sub === 'issue') && localCaRefused) {
    console.error('The local development CA is not for production; add --force if you really mean it.');
    return 2;
  }
  if (!['init-ca', 'issue', 'import', 'list', 'revoke'].includes(sub ?? '')) {
    console.error(USAGE);
    return 2;
  }
  const db = createDb(config.database);
  // Creating the CA touches files only; every other command needs the tables.
  if (sub !== 'init-ca') await migrateToLatest(db);
  const deps = buildDeps(config, db, systemClock, logger);
  try {
    switch (sub) {
      case 'init-ca': {
        const existed = deps.pki.localRootPem() !== null;
        const ca = deps.pki.ensureLocalCa();
        const fingerprint = new X509Certificate(ca.certificatePem).fingerprint256;
        console.log(
          `${existed ? 'Local CA already present' : 'Local CA created'}: ${path.join(config.storageDir, 'pki', 'local-root-ca.pem')}`,
        );
        console.log(`SHA-256 fingerprint: ${fingerprint}`);
        if (!existed) console.log('Restart running portal processes so that they trust it.');
        return 0;
      }
      case 'issue': {
        const target = await pkiHolder(deps, values);
        if (typeof target === 'string') {
          console.error(target);
          return 2;
        }
        const pinVar = values['pin-env'] ?? 'SIGNING_PIN';
        const pin = process.env[pinVar];
        if (!pin) {
          console.error(`Put the holder's signing PIN in the environment variable ${pinVar}.`);
          return 2;
        }
        const keyType = values['key-type'] ?? 'RSA';
        if (!(KEY_TYPES as readonly string[]).includes(keyType)) {
          console.error(`--key-type must be one of ${KEY_TYPES.join(', ')}`);
          return 2;
        }
        const days = values.days === undefined ? 730 : Number(values.days);
        if (!Number.isInteger(days) || days < 1 || days > 3650) {
          console.error('--days must be a whole number of days from 1 to 3650.');
          return 2;
        }
        const now = systemClock.now();
        const id = await deps.pki.issueLocal(target.holder, target.subject, pin, {
          keyType: keyType as KeyType,
          validFrom: new Date(now.getTime() - 3600_000),
          validTo: new Date(now.getTime() + days * 24 * 3600_000),
          actor: cliActor(),
        });
        const c = await deps.pki.get(id);
        console.log(
          `Issued certificate #${id} for ${target.name}: ${c.commonName}, serial ${c.serialNumber}`,
        );
        return 0;
      }
      case 'import': {
        const target = await pkiHolder(deps, values);
        if (typeof target === 'string') {
          console.error(target);
          return 2;
        }
        if (!values.file) {
          console.error('Give the PKCS#12 file with --file.');
          return 2;
        }
        const password = process.env.PKCS12_PASSWORD;
        const pin = process.env.SIGNING_PIN;
        if (password === undefined || !pin) {
          console.error('Put the file password in PKCS12_PASSWORD and the new signing PIN in SIGNING_PIN.');
          return 2;
        }
        const file = fs.readFileSync(values.file);
        const id = await deps.pki.importPkcs12(target.holder, file, password, pin, cliActor(), CLI_CONTEXT);
        const c = await deps.pki.get(id);
        console.log(
          `Imported certificate #${id} for ${target.name}: ${c.commonName}, serial ${c.serialNumber}`,
        );
        return 0;
      }
      case 'list': {
        const [certificates, officers, agencies] = await Promise.all([
          deps.pki.list(null),
          deps.repos.users.listOfficers({}),
          deps.repos.agencies.listAll(),
        ]);
        const emails = new Map(officers.map((o) => [o.id, o.email]));
        const codes = new Map(agencies.map((a) => [a.id, a.code]));
        const now = systemClock.now();
        for (const c of certificates) {
          const holder =
            c.holderKind === 'PERSONAL' ? emails.get(c.userId ?? -1) : codes.get(c.agencyId ?? -1);
          const locked =
            c.lockedUntil && c.lockedUntil > now ? ` PIN-LOCKED until ${c.lockedUntil.toISOString()}` : '';
          console.log(
            [
              `#${c.id}`,
              c.holderKind,
              holder ?? '?',
              c.commonName,
              c.serialNumber,
              c.notAfter.toISOString(),
              `${c.state}${locked}`,
            ].join('\t'),
          );
        }
        if (certificates.length === 0) console.log('No certificates.');
        return 0;
      }
      default: {
        const id = Number(values.id);
        const reason = values.reason?.trim() ?? '';
        if (!Number.isSafeInteger(id) || id <= 0 || !reason) {
          console.error('Give the certificate with --id N and the reason with --reason R.');
          return 2;
        }
        await deps.pki.revoke(id, reason, cliActor(), CLI_CONTEXT);
        console.log(`Revoked certificate #${id}.`);
        return 0;
      }
    }
  } catch (err) {
    if (err instanceof NotFoundError) {
      console.error(`No certificate #${values.id ?? ''}`);
      return 2;
    }
    if (err instanceof AppError) {
      console.error(refusalText(err));
      return 2;
    }
    throw err;
  } finally {
    await shutdownDeps(deps);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof ConfigError ? err.message : err);
    process.exit(1);
  },
);
