import type { Clock } from '../clock';
import type { Agency, AgencyRepository } from '../data/agencyRepository';
import type { AuditRepository } from '../data/auditRepository';
import { type Db, isUniqueViolation } from '../data/db';
import { type User, type UserRepository, withoutSecret } from '../data/userRepository';
import { ForbiddenError, NotFoundError, ValidationError } from '../errors';
import { OFFICER_ROLES, type OfficerRole } from '../domain/roles';
import { officerCreateSchema, officerUpdateSchema } from './accountSchemas';
import type { RequestContext } from './auditContext';
import type { PasswordHasher } from './passwordHasher';
import { parseInput, parseInputWithChecks } from './validation';

export function isSystemAdmin(user: User): boolean {
  return user.kind === 'OFFICER' && user.roles.includes('SYSTEM_ADMIN');
}

export function isAgencyAdmin(user: User): boolean {
  return user.kind === 'OFFICER' && user.roles.includes('AGENCY_ADMIN');
}

/** Officers are made and managed by administrators: a system administrator for every agency, an
 * agency administrator for their own agency only, and never with the system administrator role. */
export class OfficerService {
  constructor(
    private readonly db: Db,
    private readonly users: UserRepository,
    private readonly agencies: AgencyRepository,
    private readonly audit: AuditRepository,
    private readonly hasher: PasswordHasher,
    private readonly clock: Clock,
  ) {}

  private assertAdmin(actor: User): void {
    if (!isSystemAdmin(actor) && !isAgencyAdmin(actor)) throw new ForbiddenError();
  }

  /** Agencies whose officers this administrator manages. */
  async manageableAgencies(actor: User): Promise<Agency[]> {
    this.assertAdmin(actor);
    const all = await this.agencies.listAll();
    return isSystemAdmin(actor) ? all : all.filter((a) => a.id === actor.agencyId);
  }

  grantableRoles(actor: User): OfficerRole[] {
    return OFFICER_ROLES.filter((r) => isSystemAdmin(actor) || r !== 'SYSTEM_ADMIN');
  }

  private assertMayManage(actor: User, agencyId: number | null, roles: readonly OfficerRole[]): void {
    if (isSystemAdmin(actor)) return;
    if (!isAgencyAdmin(actor) || agencyId === null || agencyId !== actor.agencyId) throw new ForbiddenError();
    if (roles.includes('SYSTEM_ADMIN')) throw new ForbiddenError();
  }

  async listOfficers(actor: User): Promise<User[]> {
    this.assertAdmin(actor);
    return this.users.listOfficers(isSystemAdmin(actor) ? {} : { agencyIds: [actor.agencyId ?? -1] });
  }

  async getOfficer(actor: User, id: number): Promise<User> {
    this.assertAdmin(actor);
    const officer = await this.users.findById(id);
    if (!officer || officer.kind !== 'OFFICER') throw new NotFoundError();
    this.assertMayManage(actor, officer.agencyId, []);
    return withoutSecret(officer);
  }

  async createOfficer(actor: User, raw: unknown, ctx: RequestContext): Promise<User> {
    this.assertAdmin(actor);
    const input = await parseInputWithChecks(
      officerCreateSchema,
      raw,
      async (r): Promise<Record<string, string>> => {
        const email = typeof r.email === 'string' ? r.email.trim().toLowerCase() : '';
        return email && (await this.users.existing({ email })).email ? { email: 'v.emailTaken' } : {};
      },
    );
    this.assertMayManage(actor, input.agencyId, input.roles);
    if (!(await this.agencies.findById(input.agencyId))) throw new ValidationError({ agencyId: 'v.agency' });
    const passwordHash = await this.hasher.hash(input.password);
    const now = this.clock.now();
    try {
      const id = await this.db.transaction(async (trx) => {
        const officerId = await this.users.insert(
          {
            kind: 'OFFICER',
            email: input.email,
            passwordHash,
            fullName: input.fullName,
            position: input.position,
            phone: input.phone,
            agencyId: input.agencyId,
            roles: input.roles,
          },
          now,
          trx,
        );
        await this.audit.append(trx, {
          occurredAt: now,
          actorUserId: actor.id,
          actorEmail: actor.email,
          action: 'OFFICER_CREATED',
          subjectType: 'user',
          subjectId: officerId,
          agencyId: input.agencyId,
          ip: ctx.ip,
          userAgent: ctx.userAgent,
          details: { email: input.email, roles: input.roles },
        });
        return officerId;
      });
      return withoutSecret((await this.users.findById(id))!);
    } catch (err) {
      if (isUniqueViolation(err)) throw new ValidationError({ email: 'v.emailTaken' });
      throw err;
    }
  }

  async updateOfficer(actor: User, id: number, raw: unknown, ctx: RequestContext): Promise<User> {
    const before = await this.getOfficer(actor, id);
    const input = parseInput(officerUpdateSchema, raw);
    this.assertMayManage(actor, before.agencyId, input.roles);
    // An agency administrator cannot take a system administrator's role away either.
    if (!isSystemAdmin(actor) && before.roles.includes('SYSTEM_ADMIN')) throw new ForbiddenError();
    if (actor.id === id && (input.status !== 'ACTIVE' || !sameRoles(before.roles, input.roles))) {
      throw new ValidationError({ roles: 'v.selfLockout' });
    }
    const now = this.clock.now();
    await this.db.transaction(async (trx) => {
      await this.users.updateOfficer(id, input, now, trx);
      await this.audit.append(trx, {
        occurredAt: now,
        actorUserId: actor.id,
        actorEmail: actor.email,
        action: 'OFFICER_UPDATED',
        subjectType: 'user',
        subjectId: id,
        agencyId: before.agencyId,
        ip: ctx.ip,
        userAgent: ctx.userAgent,
        details: {
          fullName: { from: before.fullName, to: input.fullName },
          position: { from: before.position, to: input.position },
          status: { from: before.status, to: input.status },
          roles: { from: before.roles, to: input.roles },
        },
      });
    });
    return withoutSecret((await this.users.findById(id))!);
  }
}

function sameRoles(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().join() === [...b].sort().join();
}
