import type { AccountKind, OfficerRole } from '../domain/roles';
import { type Db, insertedId, toDate, toDateOrNull } from './db';

export const ACCOUNT_STATUSES = ['ACTIVE', 'DISABLED'] as const;
export type AccountStatus = (typeof ACCOUNT_STATUSES)[number];

export interface User {
  id: number;
  email: string;
  kind: AccountKind;
  fullName: string;
  phone: string | null;
  citizenId: string | null;
  dateOfBirth: string | null;
  companyName: string | null;
  taxCode: string | null;
  position: string | null;
  agencyId: number | null;
  status: AccountStatus;
  roles: OfficerRole[];
  createdAt: Date;
  passwordChangedAt: Date;
  lastLoginAt: Date | null;
}

export interface UserWithSecret extends User {
  passwordHash: string;
}

export interface NewUser {
  email: string;
  passwordHash: string;
  kind: AccountKind;
  fullName: string;
  phone?: string | null;
  citizenId?: string | null;
  dateOfBirth?: string | null;
  companyName?: string | null;
  taxCode?: string | null;
  position?: string | null;
  agencyId?: number | null;
  roles?: readonly OfficerRole[];
}

interface UserRow {
  id: number;
  email: string;
  password_hash: string;
  kind: string;
  full_name: string;
  phone: string | null;
  citizen_id: string | null;
  date_of_birth: string | null;
  company_name: string | null;
  tax_code: string | null;
  position: string | null;
  agency_id: number | null;
  status: string;
  created_at: unknown;
  password_changed_at: unknown;
  last_login_at: unknown;
}

function toUser(r: UserRow, roles: OfficerRole[]): UserWithSecret {
  return {
    id: Number(r.id),
    email: r.email,
    passwordHash: r.password_hash,
    kind: r.kind as AccountKind,
    fullName: r.full_name,
    phone: r.phone,
    citizenId: r.citizen_id,
    dateOfBirth: r.date_of_birth,
    companyName: r.company_name,
    taxCode: r.tax_code,
    position: r.position,
    agencyId: r.agency_id === null ? null : Number(r.agency_id),
    status: r.status as AccountStatus,
    roles,
    createdAt: toDate(r.created_at),
    passwordChangedAt: toDate(r.password_changed_at),
    lastLoginAt: toDateOrNull(r.last_login_at),
  };
}

export function withoutSecret(u: UserWithSecret): User {
  const { passwordHash: _omit, ...rest } = u;
  return rest;
}

export class UserRepository {
  constructor(private readonly db: Db) {}

  async insert(u: NewUser, now: Date, trx: Db = this.db): Promise<number> {
    const id = insertedId(
      await trx('users').insert({
        email: u.email,
        password_hash: u.passwordHash,
        kind: u.kind,
        full_name: u.fullName,
        phone: u.phone ?? null,
        citizen_id: u.citizenId ?? null,
        date_of_birth: u.dateOfBirth ?? null,
        company_name: u.companyName ?? null,
        tax_code: u.taxCode ?? null,
        position: u.position ?? null,
        agency_id: u.agencyId ?? null,
        status: 'ACTIVE',
        created_at: now,
        updated_at: now,
        password_changed_at: now,
      }),
    );
    if (u.roles && u.roles.length > 0) {
      await trx('user_roles').insert(u.roles.map((role) => ({ user_id: id, role })));
    }
    return id;
  }

  private async rolesOf(userIds: number[], trx: Db = this.db): Promise<Map<number, OfficerRole[]>> {
    const map = new Map<number, OfficerRole[]>();
    if (userIds.length === 0) return map;
    const rows = (await trx('user_roles').whereIn('user_id', userIds).orderBy('role')) as {
      user_id: number;
      role: OfficerRole;
    }[];
    for (const r of rows) {
      const id = Number(r.user_id);
      map.set(id, [...(map.get(id) ?? []), r.role]);
    }
    return map;
  }

  /** One user with their roles, in one query (a row per role): this runs on every logged-in request. */
  private async one(where: Record<string, unknown>, trx: Db = this.db): Promise<UserWithSecret | undefined> {
    const rows = (await trx('users as u')
      .leftJoin('user_roles as ur', 'ur.user_id', 'u.id')
      .where(Object.fromEntries(Object.entries(where).map(([k, v]) => [`u.${k}`, v])))
      .orderBy('ur.role')
      .select('u.*', 'ur.role as held_role')) as (UserRow & { held_role: OfficerRole | null })[];
    const first = rows[0];
    if (!first) return undefined;
    const roles = rows.flatMap((r) => (r.held_role === null ? [] : [r.held_role]));
    return toUser(first, roles);
  }

  findByEmail(email: string): Promise<UserWithSecret | undefined> {
    return this.one({ email: email.toLowerCase() });
  }

  findById(id: number, trx: Db = this.db): Promise<UserWithSecret | undefined> {
    return this.one({ id }, trx);
  }

  async existing(fields: { email?: string; citizenId?: string; taxCode?: string }): Promise<{
    email: boolean;
    citizenId: boolean;
    taxCode: boolean;
  }> {
    const check = async (column: string, value: string | undefined) =>
      value !== undefined && (await this.db('users').where(column, value).first('id')) !== undefined;
    return {
      email: await check('email', fields.email),
      citizenId: await check('citizen_id', fields.citizenId),
      taxCode: await check('tax_code', fields.taxCode),
    };
  }

  async updatePassword(id: number, passwordHash: string, now: Date, trx: Db = this.db): Promise<void> {
    await trx('users')
      .where({ id })
      .update({ password_hash: passwordHash, password_changed_at: now, updated_at: now });
  }

  async updateContact(id: number, fields: { phone: string | null }, now: Date, trx: Db = this.db) {
    await trx('users').where({ id }).update({ phone: fields.phone, updated_at: now });
  }

  async updateOfficer(
    id: number,
    fields: {
      fullName: string;
      position: string | null;
      status: AccountStatus;
      roles: readonly OfficerRole[];
    },
    now: Date,
    trx: Db,
  ): Promise<void> {
    await trx('users').where({ id }).update({
      full_name: fields.fullName,
      position: fields.position,
      status: fields.status,
      updated_at: now,
    });
    await trx('user_roles').where({ user_id: id }).delete();
    if (fields.roles.length > 0) {
      await trx('user_roles').insert(fields.roles.map((role) => ({ user_id: id, role })));
    }
  }

  async recordLogin(id: number, now: Date): Promise<void> {
    await this.db('users').where({ id }).update({ last_login_at: now });
  }

  async listOfficers(filter: { agencyIds?: number[] }): Promise<User[]> {
    const q = this.db('users').where({ kind: 'OFFICER' }).orderBy(['agency_id', 'full_name']);
    if (filter.agencyIds) q.whereIn('agency_id', filter.agencyIds);
    const rows = (await q) as UserRow[];
    const roles = await this.rolesOf(rows.map((r) => Number(r.id)));
    return rows.map((r) => withoutSecret(toUser(r, roles.get(Number(r.id)) ?? [])));
  }

  /** Active officers of an agency holding one of the roles, for assignment and notifications. */
  async activeOfficersWithRole(
    agencyId: number,
    roles: readonly OfficerRole[],
    trx: Db = this.db,
  ): Promise<User[]> {
    const rows = (await trx('users as u')
      .join('user_roles as r', 'r.user_id', 'u.id')
      .where({ 'u.agency_id': agencyId, 'u.kind': 'OFFICER', 'u.status': 'ACTIVE' })
      .whereIn('r.role', roles)
      .distinct('u.*')
      .orderBy('u.full_name')) as UserRow[];
    const roleMap = await this.rolesOf(
      rows.map((r) => Number(r.id)),
      trx,
    );
    return rows.map((r) => withoutSecret(toUser(r, roleMap.get(Number(r.id)) ?? [])));
  }

  async count(): Promise<number> {
    const row = (await this.db('users').count({ n: '*' }).first()) as { n: number | string };
    return Number(row.n);
  }
}
