import type { Clock } from './clock';
import type { Config } from './config';
import { AgencyRepository } from './data/agencyRepository';
import { AuditRepository } from './data/auditRepository';
import type { Db } from './data/db';
import { DbSessionStore } from './data/sessionStore';
import { LoginAttemptRepository } from './data/loginAttemptRepository';
import { UserRepository } from './data/userRepository';
import type { Logger } from './logger';
import { AccountService } from './services/accountService';
import { LoginThrottle } from './services/loginThrottle';
import { OfficerService } from './services/officerService';
import { createPasswordHasher, type PasswordHasher } from './services/passwordHasher';

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
  };
  accounts: AccountService;
  officers: OfficerService;
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
  };
  const throttle = new LoginThrottle(repos.loginAttempts, clock);
  return {
    config,
    db,
    clock,
    logger,
    hasher,
    repos,
    accounts: new AccountService(db, repos.users, repos.audit, hasher, throttle, clock),
    officers: new OfficerService(db, repos.users, repos.agencies, repos.audit, hasher, clock),
    sessionStore: new DbSessionStore(db),
  };
}
