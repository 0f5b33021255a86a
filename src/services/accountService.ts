import type { Clock } from '../clock';
import type { ApiTokenRepository } from '../data/apiTokenRepository';
import type { AuditRepository } from '../data/auditRepository';
import { type Db, isUniqueViolation } from '../data/db';
import { type User, type UserRepository, withoutSecret } from '../data/userRepository';
import { LoginThrottledError, ValidationError } from '../errors';
import {
  type BusinessRegistration,
  type CitizenRegistration,
  businessRegistrationSchema,
  changePasswordSchema,
  citizenRegistrationSchema,
  contactSchema,
} from './accountSchemas';
import type { RequestContext } from './auditContext';
import type { LoginThrottle } from './loginThrottle';
import type { PasswordHasher } from './passwordHasher';
import { normaliseTaxCode } from './identityNumbers';
import { parseInput, parseInputWithChecks } from './validation';

const text = (v: unknown): string => (typeof v === 'string' ? v.trim() : '');

export type LoginResult = { ok: true; user: User } | { ok: false };

export class AccountService {
  constructor(
    private readonly db: Db,
    private readonly users: UserRepository,
    private readonly audit: AuditRepository,
    private readonly hasher: PasswordHasher,
    private readonly throttle: LoginThrottle,
    private readonly clock: Clock,
    private readonly tokens: ApiTokenRepository,
  ) {}

  async registerCitizen(raw: unknown, ctx: RequestContext): Promise<User> {
    const input: CitizenRegistration = await parseInputWithChecks(citizenRegistrationSchema, raw, (r) =>
      this.takenFields({ email: text(r.email).toLowerCase(), citizenId: text(r.citizenId) }),
    );
    return this.createAccount(
      {
        kind: 'CITIZEN',
        email: input.email,
        fullName: input.fullName,
        citizenId: input.citizenId,
        dateOfBirth: input.dateOfBirth,
        phone: input.phone,
      },
      input.password,
      ctx,
    );
  }

  async registerBusiness(raw: unknown, ctx: RequestContext): Promise<User> {
    const input: BusinessRegistration = await parseInputWithChecks(businessRegistrationSchema, raw, (r) =>
      this.takenFields({
        email: text(r.email).toLowerCase(),
        taxCode: normaliseTaxCode(text(r.taxCode)) ?? undefined,
      }),
    );
    return this.createAccount(
      {
        kind: 'BUSINESS',
        email: input.email,
        fullName: input.representativeName,
        companyName: input.companyName,
        taxCode: input.taxCode,
        phone: input.phone,
      },
      input.password,
      ctx,
    );
  }

  private async takenFields(fields: { email?: string; citizenId?: string; taxCode?: string }) {
    const taken = await this.users.existing(fields);
    const errors: Record<string, string> = {};
    if (taken.email) errors.email = 'v.emailTaken';
    if (taken.citizenId) errors.citizenId = 'v.citizenIdTaken';
    if (taken.taxCode) errors.taxCode = 'v.taxCodeTaken';
    return errors;
  }

  private async createAccount(
    fields: Omit<Parameters<UserRepository['insert']>[0], 'passwordHash'>,
    password: string,
    ctx: RequestContext,
  ): Promise<User> {
    const passwordHash = await this.hasher.hash(password);
    const now = this.clock.now();
    try {
      const id = await this.db.transaction(async (trx) => {
        const userId = await this.users.insert({ ...fields, passwordHash }, now, trx);
        await this.audit.append(trx, {
          occurredAt: now,
          actorUserId: userId,
          actorEmail: fields.email,
          action: 'ACCOUNT_REGISTERED',
          subjectType: 'user',
          subjectId: userId,
          ip: ctx.ip,
          userAgent: ctx.userAgent,
          details: { kind: fields.kind },
        });
        return userId;
      });
      return withoutSecret((await this.users.findById(id))!);
    } catch (err) {
      // Two registrations racing for the same email or number: the second gets the same message.
      if (isUniqueViolation(err)) {
        const taken = await this.takenFields({
          email: fields.email,
          citizenId: fields.citizenId ?? undefined,
          taxCode: fields.taxCode ?? undefined,
        });
        if (Object.keys(taken).length > 0) throw new ValidationError(taken);
      }
      throw err;
    }
  }

  /** Checks a login. Throws LoginThrottledError while the email or the address is locked; otherwise
   * answers ok or not without saying whether the account exists. */
  async login(email: string, password: string, ctx: RequestContext): Promise<LoginResult> {
    const key = email.trim().toLowerCase();
    const lockedFor = await this.throttle.lockedFor(key, ctx.ip);
    if (lockedFor > 0) {
      await this.audit.appendAlone({
        occurredAt: this.clock.now(),
        actorUserId: null,
        actorEmail: key,
        action: 'LOGIN_REFUSED_LOCKED',
        ip: ctx.ip,
        userAgent: ctx.userAgent,
      });
      throw new LoginThrottledError(lockedFor);
    }
    const user = key ? await this.users.findByEmail(key) : undefined;
    const ok = user
      ? (await this.hasher.verify(user.passwordHash, password)) && user.status === 'ACTIVE'
      : await this.hasher.verifyNothing(password);
    await this.throttle.record(key, ctx.ip, ok);
    const now = this.clock.now();
    await this.audit.appendAlone({
      occurredAt: now,
      actorUserId: user?.id ?? null,
      actorEmail: key,
      action: ok ? 'LOGIN' : 'LOGIN_FAILED',
      agencyId: user?.agencyId ?? null,
      ip: ctx.ip,
      userAgent: ctx.userAgent,
      details: !ok && user && user.status !== 'ACTIVE' ? { reason: 'account disabled' } : {},
    });
    if (!ok || !user) return { ok: false };
    await this.users.recordLogin(user.id, now);
    return { ok: true, user: withoutSecret(user) };
  }

  async recordLogout(user: User, ctx: RequestContext): Promise<void> {
    await this.audit.appendAlone({
      occurredAt: this.clock.now(),
      actorUserId: user.id,
      actorEmail: user.email,
      action: 'LOGOUT',
      agencyId: user.agencyId,
      ip: ctx.ip,
      userAgent: ctx.userAgent,
    });
  }

  /** The account behind a session, or undefined when it is gone or disabled. */
  async activeUser(id: number): Promise<User | undefined> {
    const user = await this.users.findById(id);
    return user && user.status === 'ACTIVE' ? withoutSecret(user) : undefined;
  }

  async changePassword(user: User, input: unknown, ctx: RequestContext): Promise<void> {
    const v = parseInput(changePasswordSchema, input);
    const current = await this.users.findById(user.id);
    if (!current || !(await this.hasher.verify(current.passwordHash, v.currentPassword))) {
      throw new ValidationError({ currentPassword: 'v.currentPassword' });
    }
    const hash = await this.hasher.hash(v.password);
    const now = this.clock.now();
    await this.db.transaction(async (trx) => {
      await this.users.updatePassword(user.id, hash, now, trx);
      const revoked = await this.tokens.revokeAll(user.id, now, trx);
      await this.audit.append(trx, {
        occurredAt: now,
        actorUserId: user.id,
        actorEmail: user.email,
        action: 'PASSWORD_CHANGED',
        subjectType: 'user',
        subjectId: user.id,
        agencyId: user.agencyId,
        ip: ctx.ip,
        userAgent: ctx.userAgent,
        details: { apiTokensRevoked: revoked },
      });
    });
  }

  async updateContact(user: User, input: unknown, ctx: RequestContext): Promise<void> {
    const v = parseInput(contactSchema, input);
    const now = this.clock.now();
    await this.db.transaction(async (trx) => {
      await this.users.updateContact(user.id, { phone: v.phone }, now, trx);
      await this.audit.append(trx, {
        occurredAt: now,
        actorUserId: user.id,
        actorEmail: user.email,
        action: 'PROFILE_UPDATED',
        subjectType: 'user',
        subjectId: user.id,
        agencyId: user.agencyId,
        ip: ctx.ip,
        userAgent: ctx.userAgent,
        details: { phone: { from: user.phone, to: v.phone } },
      });
    });
  }
}
