import path from 'node:path';
import type { Clock } from './clock';
import type { Config } from './config';
import { AgencyRepository } from './data/agencyRepository';
import { ApiTokenRepository } from './data/apiTokenRepository';
import { AuditRepository } from './data/auditRepository';
import type { Db } from './data/db';
import { DossierRepository } from './data/dossierRepository';
import { HolidayRepository } from './data/holidayRepository';
import { LeaseRepository } from './data/leaseRepository';
import { NotificationRepository } from './data/notificationRepository';
import { OutboxRepository } from './data/outboxRepository';
import { OverdueRepository } from './data/overdueRepository';
import { ProcedureRepository } from './data/procedureRepository';
import { DbSessionStore } from './data/sessionStore';
import { FileStore } from './files/fileStore';
import { LoginAttemptRepository } from './data/loginAttemptRepository';
import { CertificateRepository } from './data/certificateRepository';
import { ResultRepository } from './data/resultRepository';
import { PkiService } from './services/pkiService';
import { ResultService } from './services/resultService';
import { VerificationService } from './services/verificationService';
import { UserRepository } from './data/userRepository';
import type { Logger } from './logger';
import { AccountService } from './services/accountService';
import { ApiTokenService } from './services/apiTokenService';
import { LoginThrottle } from './services/loginThrottle';
import { OfficerService } from './services/officerService';
import { CalendarService } from './services/calendarService';
import { HolidayService } from './services/holidayService';
import { JobScheduler } from './services/jobScheduler';
import { type ClosableMailer, createLogMailer, createSmtpMailer } from './services/mailer';
import { defaultWorkerId, OutboxWorker } from './services/outboxWorker';
import { markOverdue } from './services/overdueJob';
import { outboxNotices } from './services/dossierNotices';
import { DossierService } from './services/dossierService';
import { createPasswordHasher, type PasswordHasher } from './services/passwordHasher';
import { ProcedureService } from './services/procedureService';
import { SubmitDossier } from './workflows/commands/submitDossier';
import { TransitionDossier } from './workflows/commands/transitionDossier';
import { loadWorkflows } from './workflows/definitions';
import type { WorkflowDefinition } from './workflows/engine';
import { RatingRepository } from './data/ratingRepository';
import { StatisticsRepository } from './data/statisticsRepository';
import { RatingService } from './services/ratingService';
import { StrayFileSweeper } from './services/strayFileSweeper';
import { StoredFileRepository } from './data/storedFileRepository';
import { StatisticsService } from './services/statisticsService';

export interface Deps {
  config: Config;
  db: Db;
  clock: Clock;
  logger: Logger;
  hasher: PasswordHasher;
  repos: {
    agencies: AgencyRepository;
    users: UserRepository;
    audit: AuditRepository;
    loginAttempts: LoginAttemptRepository;
    procedures: ProcedureRepository;
    dossiers: DossierRepository;
    holidays: HolidayRepository;
    apiTokens: ApiTokenRepository;
    notifications: NotificationRepository;
    certificates: CertificateRepository;
    results: ResultRepository;
  };
  files: { papers: FileStore; results: FileStore };
  pki: PkiService;
  results: ResultService;
  verification: VerificationService;
  accounts: AccountService;
  officers: OfficerService;
  apiTokens: ApiTokenService;
  procedures: ProcedureService;
  dossiers: DossierService;
  calendars: CalendarService;
  holidays: HolidayService;
  workflows: Map<string, WorkflowDefinition>;
  commands: { submitDossier: SubmitDossier; transitionDossier: TransitionDossier };
  sessionStore: DbSessionStore;
  outbox: OutboxRepository;
  leases: LeaseRepository;
  mailer: ClosableMailer;
  /** Built here, started only by server.ts: tests and scripts deliver nothing unless they ask. */
  outboxWorker: OutboxWorker;
  scheduler: JobScheduler;
  jobs: { markOverdue(): Promise<number>; sweepStrayFiles: StrayFileSweeper };
  /** The figures agencies are judged by, and the applicants' ratings. */
  statistics: StatisticsService;
  ratings: RatingService;
}

export function buildDeps(config: Config, db: Db, clock: Clock, logger: Logger): Deps {
  // Tests hash many passwords; the production cost stays the OWASP default.
  const hasher = createPasswordHasher(config.env === 'test' ? { memoryCost: 4096, timeCost: 1 } : {});
  const repos = {
    agencies: new AgencyRepository(db),
    users: new UserRepository(db),
    audit: new AuditRepository(db),
    loginAttempts: new LoginAttemptRepository(db),
    procedures: new ProcedureRepository(db),
    dossiers: new DossierRepository(db),
    holidays: new HolidayRepository(db),
    apiTokens: new ApiTokenRepository(db),
    notifications: new NotificationRepository(db),
    certificates: new CertificateRepository(db),
    results: new ResultRepository(db),
    statistics: new StatisticsRepository(db),
    ratings: new RatingRepository(db),
  };
  const throttle = new LoginThrottle(repos.loginAttempts, clock);
  const files = {
    papers: new FileStore(path.join(config.storageDir, 'papers')),
    results: new FileStore(path.join(config.storageDir, 'results')),
  };
  const pki = new PkiService({
    db,
    certificates: repos.certificates,
    audit: repos.audit,
    users: repos.users,
    clock,
    storageDir: config.storageDir,
    trustedRootsFile: config.trustedRootsFile,
  });
  const results = new ResultService({
    results: repos.results,
    agencies: repos.agencies,
    pki,
    store: files.results,
    papers: files.papers,
    clock,
    publicBaseUrl: config.publicBaseUrl,
    tsaUrl: config.tsaUrl,
    db,
    audit: repos.audit,
  });
  const calendars = new CalendarService(repos.holidays, clock);
  // A broken workflow definition stops the portal here, saying what is wrong.
  const workflows = loadWorkflows();
  const accounts = new AccountService(db, repos.users, repos.audit, hasher, throttle, clock, repos.apiTokens);
  const outbox = new OutboxRepository(db);
  const leases = new LeaseRepository(db);
  const mailer = config.smtpUrl ? createSmtpMailer(config.smtpUrl) : createLogMailer(logger);
  // One id for this process, in the outbox locks and in the job leases alike.
  const instanceId = defaultWorkerId();
  const overdue = new OverdueRepository(db);
  const transitionDossier = new TransitionDossier({
    // Notices of a transition go out as email through the outbox, in the transition's transaction.
    enqueueNotices: outboxNotices(outbox, config.publicBaseUrl),
    db,
    clock,
    dossiers: repos.dossiers,
    procedures: repos.procedures,
    agencies: repos.agencies,
    users: repos.users,
    audit: repos.audit,
    notifications: repos.notifications,
    calendars,
    papers: files.papers,
    workflows,
    results,
    statistics: repos.statistics,
  });
  return {
    pki,
    results,
    verification: new VerificationService({
      pki,
      results: repos.results,
      resultFiles: results,
      agencies: repos.agencies,
      clock,
    }),
    config,
    db,
    clock,
    logger,
    hasher,
    repos,
    accounts,
    apiTokens: new ApiTokenService(db, repos.apiTokens, accounts, repos.audit, clock),
    officers: new OfficerService(db, repos.users, repos.agencies, repos.audit, hasher, clock),
    procedures: new ProcedureService(
      db,
      repos.procedures,
      repos.agencies,
      repos.audit,
      clock,
      new Set(workflows.keys()),
    ),
    dossiers: new DossierService(
      db,
      repos.dossiers,
      repos.procedures,
      repos.agencies,
      files.papers,
      clock,
      repos.audit,
    ),
    calendars,
    holidays: new HolidayService(db, repos.holidays, repos.audit, calendars, clock),
    files,
    workflows,
    commands: {
      transitionDossier,
      submitDossier: new SubmitDossier({
        workflows,
        db,
        clock,
        dossiers: repos.dossiers,
        procedures: repos.procedures,
        agencies: repos.agencies,
        audit: repos.audit,
        calendars,
        papers: files.papers,
        statistics: repos.statistics,
      }),
    },
    sessionStore: new DbSessionStore(db),
    outbox,
    leases,
    mailer,
    outboxWorker: new OutboxWorker(outbox, mailer, clock, logger, { workerId: instanceId }),
    scheduler: new JobScheduler(leases, clock, logger, instanceId),
    jobs: {
      sweepStrayFiles: new StrayFileSweeper({
        stores: [files.papers, files.results],
        files: new StoredFileRepository(db),
        clock,
        logger,
      }),
      markOverdue: () =>
        markOverdue(
          { db, overdue, audit: repos.audit, outbox, clock, logger },
          { publicBaseUrl: config.publicBaseUrl },
        ),
    },
    statistics: new StatisticsService({
      statistics: repos.statistics,
      agencies: repos.agencies,
      calendars,
      clock,
    }),
    ratings: new RatingService({
      db,
      clock,
      dossiers: repos.dossiers,
      ratings: repos.ratings,
      statistics: repos.statistics,
      calendars,
      audit: repos.audit,
    }),
  };
}
