import path from 'node:path';
import type { Clock } from './clock';
import type { Config } from './config';
import { AgencyRepository } from './data/agencyRepository';
import { ApiTokenRepository } from './data/apiTokenRepository';
import { AuditRepository } from './data/auditRepository';
import type { Db } from './data/db';
import { DossierRepository } from './data/dossierRepository';
import { HolidayRepository } from './data/holidayRepository';
import { ProcedureRepository } from './data/procedureRepository';
import { DbSessionStore } from './data/sessionStore';
import { FileStore } from './files/fileStore';
import { LoginAttemptRepository } from './data/loginAttemptRepository';
import { UserRepository } from './data/userRepository';
import type { Logger } from './logger';
import { AccountService } from './services/accountService';
import { ApiTokenService } from './services/apiTokenService';
import { LoginThrottle } from './services/loginThrottle';
import { OfficerService } from './services/officerService';
import { CalendarService } from './services/calendarService';
import { HolidayService } from './services/holidayService';
import { DossierService } from './services/dossierService';
import { createPasswordHasher, type PasswordHasher } from './services/passwordHasher';
import { ProcedureService } from './services/procedureService';
import { SubmitDossier } from './workflows/commands/submitDossier';

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
  };
  files: { papers: FileStore };
  accounts: AccountService;
  officers: OfficerService;
  apiTokens: ApiTokenService;
  procedures: ProcedureService;
  dossiers: DossierService;
  calendars: CalendarService;
  holidays: HolidayService;
  commands: { submitDossier: SubmitDossier };
  sessionStore: DbSessionStore;
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
  };
  const throttle = new LoginThrottle(repos.loginAttempts, clock);
  const files = { papers: new FileStore(path.join(config.storageDir, 'papers')) };
  const calendars = new CalendarService(repos.holidays, clock);
  const accounts = new AccountService(db, repos.users, repos.audit, hasher, throttle, clock);
  return {
    config,
    db,
    clock,
    logger,
    hasher,
    repos,
    accounts,
    apiTokens: new ApiTokenService(db, repos.apiTokens, accounts, repos.audit, clock),
    officers: new OfficerService(db, repos.users, repos.agencies, repos.audit, hasher, clock),
    procedures: new ProcedureService(db, repos.procedures, repos.agencies, repos.audit, clock),
    dossiers: new DossierService(db, repos.dossiers, repos.procedures, repos.agencies, files.papers, clock),
    calendars,
    holidays: new HolidayService(db, repos.holidays, repos.audit, calendars, clock),
    files,
    commands: {
      submitDossier: new SubmitDossier({
        db,
        clock,
        dossiers: repos.dossiers,
        procedures: repos.procedures,
        agencies: repos.agencies,
        audit: repos.audit,
        calendars,
        papers: files.papers,
      }),
    },
    sessionStore: new DbSessionStore(db),
  };
}
