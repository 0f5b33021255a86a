import { type Db, insertedId, toDate, toDateOrNull } from './db';

export const HOLDER_KINDS = ['PERSONAL', 'AGENCY'] as const;
export type HolderKind = (typeof HOLDER_KINDS)[number];
export type CertificateStatus = 'ACTIVE' | 'REVOKED';

export interface StoredCertificate {
  id: number;
  holderKind: HolderKind;
  userId: number | null;
  agencyId: number | null;
  commonName: string;
  subject: string;
  issuer: string;
  serialNumber: string;
  fingerprint: string;
  notBefore: Date;
  notAfter: Date;
  keyType: string;
  certificatePem: string;
  chainPem: string[];
  status: CertificateStatus;
  revokedAt: Date | null;
  revokedReason: string | null;
  failedPinCount: number;
  lockedUntil: Date | null;
  createdAt: Date;
}

export type NewCertificate = Omit<
  StoredCertificate,
  'id' | 'status' | 'revokedAt' | 'revokedReason' | 'failedPinCount' | 'lockedUntil' | 'createdAt'
> & { sealedKey: string; createdByUserId: number | null };

interface Row {
  id: number;
  holder_kind: HolderKind;
  user_id: number | null;
  agency_id: number | null;
  common_name: string;
  subject: string;
  issuer: string;
  serial_number: string;
  fingerprint: string;
  not_before: unknown;
  not_after: unknown;
  key_type: string;
  certificate_pem: string;
  chain_pem: string;
  status: CertificateStatus;
  revoked_at: unknown;
  revoked_reason: string | null;
  failed_pin_count: number;
  locked_until: unknown;
  created_at: unknown;
}

// The sealed key is never part of a listed certificate: it leaves the table only through sealedKeyOf.
const COLUMNS = [
  'id',
  'holder_kind',
  'user_id',
  'agency_id',
  'common_name',
  'subject',
  'issuer',
  'serial_number',
  'fingerprint',
  'not_before',
  'not_after',
  'key_type',
  'certificate_pem',
  'chain_pem',
  'status',
  'revoked_at',
  'revoked_reason',
  'failed_pin_count',
  'locked_until',
  'created_at',
];

const toCertificate = (r: Row): StoredCertificate => ({
  id: Number(r.id),
  holderKind: r.holder_kind,
  userId: r.user_id === null ? null : Number(r.user_id),
  agencyId: r.agency_id === null ? null : Number(r.agency_id),
  commonName: r.common_name,
  subject: r.subject,
  issuer: r.issuer,
  serialNumber: r.serial_number,
  fingerprint: r.fingerprint,
  notBefore: toDate(r.not_before),
  notAfter: toDate(r.not_after),
  keyType: r.key_type,
  certificatePem: r.certificate_pem,
  chainPem: JSON.parse(r.chain_pem) as string[],
  status: r.status,
  revokedAt: toDateOrNull(r.revoked_at),
  revokedReason: r.revoked_reason,
  failedPinCount: Number(r.failed_pin_count),
  lockedUntil: toDateOrNull(r.locked_until),
  createdAt: toDate(r.created_at),
});

/** Officers' and agencies' signing certificates, each with its private key sealed by the holder's PIN. */
export class CertificateRepository {
  constructor(private readonly db: Db) {}

  async insert(c: NewCertificate, now: Date, trx: Db = this.db): Promise<number> {
    return insertedId(
      await trx('certificates').insert({
        holder_kind: c.holderKind,
        user_id: c.userId,
        agency_id: c.agencyId,
        common_name: c.commonName,
        subject: c.subject,
        issuer: c.issuer,
        serial_number: c.serialNumber,
        fingerprint: c.fingerprint,
        not_before: c.notBefore,
        not_after: c.notAfter,
        key_type: c.keyType,
        certificate_pem: c.certificatePem,
        chain_pem: JSON.stringify(c.chainPem),
        sealed_key: c.sealedKey,
        status: 'ACTIVE',
        failed_pin_count: 0,
        created_at: now,
        created_by_user_id: c.createdByUserId,
      }),
    );
  }

  async findById(id: number, trx: Db = this.db): Promise<StoredCertificate | undefined> {
    const row = (await trx('certificates').where({ id }).first(COLUMNS)) as Row | undefined;
    return row && toCertificate(row);
  }

  async findByFingerprint(fingerprint: string): Promise<StoredCertificate | undefined> {
    const row = (await this.db('certificates').where({ fingerprint }).first(COLUMNS)) as Row | undefined;
    return row && toCertificate(row);
  }

  async sealedKeyOf(id: number): Promise<string | undefined> {
    const row = (await this.db('certificates').where({ id }).first('sealed_key')) as
      { sealed_key: string } | undefined;
    return row?.sealed_key;
  }

  /** Active certificates of a holder, the most recently added first: the one a signature uses. */
  async activeFor(holder: { userId: number } | { agencyId: number }): Promise<StoredCertificate[]> {
    const q = this.db('certificates').where({ status: 'ACTIVE' });
    if ('userId' in holder) q.where({ holder_kind: 'PERSONAL', user_id: holder.userId });
    else q.where({ holder_kind: 'AGENCY', agency_id: holder.agencyId });
    const rows = (await q.orderBy('id', 'desc').select(COLUMNS)) as Row[];
    return rows.map(toCertificate);
  }

  /** All certificates, or an agency's (its officers' and its own), newest first. */
  async list(agencyId: number | null): Promise<StoredCertificate[]> {
    const q = this.db('certificates as c').select(COLUMNS.map((c) => `c.${c}`));
    if (agencyId !== null) {
      q.leftJoin('users as u', 'u.id', 'c.user_id').where((w) =>
        w.where('c.agency_id', agencyId).orWhere('u.agency_id', agencyId),
      );
    }
    const rows = (await q.orderBy('c.id', 'desc').limit(1000)) as Row[];
    return rows.map(toCertificate);
  }

  /** Serial numbers (normalised hex) the portal has revoked, with when. */
  async revocations(): Promise<Map<string, Date>> {
    const rows = (await this.db('certificates')
      .where({ status: 'REVOKED' })
      .select('serial_number', 'revoked_at')) as { serial_number: string; revoked_at: unknown }[];
    return new Map(rows.map((r) => [r.serial_number, toDate(r.revoked_at)]));
  }

  async revoke(id: number, reason: string, now: Date, trx: Db = this.db): Promise<boolean> {
    const n = await trx('certificates')
      .where({ id, status: 'ACTIVE' })
      .update({ status: 'REVOKED', revoked_at: now, revoked_reason: reason });
    return n === 1;
  }

  /**
   * Reserves one PIN attempt before the key is tried, in one statement, so that requests in flight at
   * the same time cannot try more PINs than the limit: answers false when the key is locked or the
   * attempts are used up. A lock that has run out is cleared first.
   */
  async reservePinAttempt(id: number, limit: number, now: Date): Promise<boolean> {
    await this.db('certificates')
      .where({ id })
      .whereNotNull('locked_until')
      .where('locked_until', '<=', now)
      .update({ failed_pin_count: 0, locked_until: null });
    const n = await this.db('certificates')
      .where({ id })
      .whereNull('locked_until')
      .where('failed_pin_count', '<', limit)
      .update({ failed_pin_count: this.db.raw('failed_pin_count + 1') });
    return n === 1;
  }

  /** After a wrong PIN: locks the key once the reserved attempts reach the limit; answers the count. */
  async settleWrongPin(
    id: number,
    limit: number,
    lockUntil: Date,
  ): Promise<{ count: number; lockedUntil: Date | null }> {
    await this.db('certificates')
      .where({ id })
      .whereNull('locked_until')
      .where('failed_pin_count', '>=', limit)
      .update({ locked_until: lockUntil });
    const row = (await this.db('certificates').where({ id }).first('failed_pin_count', 'locked_until')) as {
      failed_pin_count: number;
      locked_until: unknown;
    };
    return { count: Number(row.failed_pin_count), lockedUntil: toDateOrNull(row.locked_until) };
  }

  /** A right PIN: the counter starts again. */
  async resetPinCount(id: number): Promise<void> {
    await this.db('certificates').where({ id }).update({ failed_pin_count: 0, locked_until: null });
  }

  /** When the key is locked until, read now (not from an earlier copy of the row). */
  async lockedUntil(id: number): Promise<Date | null> {
    const row = (await this.db('certificates').where({ id }).first('locked_until')) as
      { locked_until: unknown } | undefined;
    return row ? toDateOrNull(row.locked_until) : null;
  }

  async count(): Promise<number> {
    const row = (await this.db('certificates').count({ n: '*' }).first()) as { n: number | string };
    return Number(row.n);
  }
}
