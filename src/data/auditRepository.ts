import { createHash } from 'node:crypto';
import { type Db, dialectOf, toDate } from './db';

export interface AuditEntry {
  occurredAt: Date;
  actorUserId: number | null;
  actorEmail: string | null;
  action: string;
  subjectType?: string | null;
  subjectId?: string | number | null;
  agencyId?: number | null;
  ip?: string | null;
  userAgent?: string | null;
  details?: Record<string, unknown>;
}

export interface AuditRecord extends Required<Omit<AuditEntry, 'details' | 'subjectId'>> {
  id: number;
  subjectId: string | null;
  details: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

interface AuditRow {
  id: number | string;
  occurred_at: unknown;
  actor_user_id: number | null;
  actor_email: string | null;
  action: string;
  subject_type: string | null;
  subject_id: string | null;
  agency_id: number | null;
  ip: string | null;
  user_agent: string | null;
  details: string;
  prev_hash: string;
  hash: string;
}

/** The hash covers every column but the id, in a fixed order, chained to the previous record. */
export function auditHash(prevHash: string, r: Omit<AuditRow, 'id' | 'hash' | 'prev_hash'>): string {
  const canonical = JSON.stringify([
    prevHash,
    toDate(r.occurred_at).toISOString(),
    r.actor_user_id === null ? null : Number(r.actor_user_id),
    r.actor_email,
    r.action,
    r.subject_type,
    r.subject_id,
    r.agency_id === null ? null : Number(r.agency_id),
    r.ip,
    r.user_agent,
    r.details,
  ]);
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}

export type ChainCheck =
  { ok: true; records: number } | { ok: false; records: number; brokenAt: number; reason: string };

export class AuditRepository {
  constructor(private readonly db: Db) {}

  /** Appends one record to the chain. Call inside the transaction of the change it records. */
  async append(trx: Db, e: AuditEntry): Promise<void> {
    const headQuery = trx('audit_chain_head').where({ id: 1 });
    // SQLite has one writer at a time; MySQL needs the row lock so that concurrent appends queue.
    if (dialectOf(trx) === 'mysql') headQuery.forUpdate();
    const head = (await headQuery.first()) as { last_audit_id: number | string; last_hash: string };
    const row = {
      occurred_at: e.occurredAt,
      actor_user_id: e.actorUserId,
      actor_email: e.actorEmail,
      action: e.action,
      subject_type: e.subjectType ?? null,
      subject_id: e.subjectId === undefined || e.subjectId === null ? null : String(e.subjectId),
      agency_id: e.agencyId ?? null,
      ip: e.ip ?? null,
      user_agent: e.userAgent ? e.userAgent.slice(0, 255) : null,
      details: JSON.stringify(e.details ?? {}),
    };
    const hash = auditHash(head.last_hash, row);
    const [id] = (await trx('audit_log').insert({ ...row, prev_hash: head.last_hash, hash })) as number[];
    await trx('audit_chain_head').where({ id: 1 }).update({ last_audit_id: id, last_hash: hash });
  }

  /** Appends in a transaction of its own, for events that change nothing else (a failed login). */
  async appendAlone(e: AuditEntry): Promise<void> {
    await this.db.transaction((trx) => this.append(trx, e));
  }

  async listForActor(userId: number, limit = 20): Promise<AuditRecord[]> {
    const rows = (await this.db('audit_log')
      .where({ actor_user_id: userId })
      .orderBy('id', 'desc')
      .limit(limit)) as AuditRow[];
    return rows.map(toRecord);
  }

  async listRecent(filter: { agencyIds?: number[]; limit: number }): Promise<AuditRecord[]> {
    const q = this.db('audit_log').orderBy('id', 'desc').limit(filter.limit);
    if (filter.agencyIds) q.whereIn('agency_id', filter.agencyIds);
    return ((await q) as AuditRow[]).map(toRecord);
  }

  /** Walks the whole chain in id order, in pages, and reports the first record that does not fit. */
  async verifyChain(pageSize = 1000): Promise<ChainCheck> {
    let prev = '0'.repeat(64);
    let lastId = 0;
    let count = 0;
    for (;;) {
      const rows = (await this.db('audit_log')
        .where('id', '>', lastId)
        .orderBy('id')
        .limit(pageSize)) as AuditRow[];
      if (rows.length === 0) break;
      for (const r of rows) {
        count += 1;
        const id = Number(r.id);
        if (r.prev_hash !== prev) {
          return {
            ok: false,
            records: count,
            brokenAt: id,
            reason: 'prev_hash does not match the record before',
          };
        }
        const expected = auditHash(prev, r);
        if (expected !== r.hash) {
          return { ok: false, records: count, brokenAt: id, reason: 'content does not match its hash' };
        }
        prev = r.hash;
        lastId = id;
      }
    }
    const head = (await this.db('audit_chain_head').where({ id: 1 }).first()) as {
      last_audit_id: number | string;
      last_hash: string;
    };
    if (Number(head.last_audit_id) !== lastId || head.last_hash !== prev) {
      return { ok: false, records: count, brokenAt: lastId, reason: 'records after this one were removed' };
    }
    return { ok: true, records: count };
  }
}

function toRecord(r: AuditRow): AuditRecord {
  return {
    id: Number(r.id),
    occurredAt: toDate(r.occurred_at),
    actorUserId: r.actor_user_id === null ? null : Number(r.actor_user_id),
    actorEmail: r.actor_email,
    action: r.action,
    subjectType: r.subject_type,
    subjectId: r.subject_id,
    agencyId: r.agency_id === null ? null : Number(r.agency_id),
    ip: r.ip,
    userAgent: r.user_agent,
    details: JSON.parse(r.details) as Record<string, unknown>,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}
