import type { DossierStatus } from '../domain/dossierStatus';
import { type Db, toDate } from './db';

/** Statuses in which the legal clock does not run: not filed yet, finished, or paused while the
 * applicant supplements the dossier. A dossier in one of them cannot become overdue. */
export const CLOCK_STOPPED_STATUSES: readonly DossierStatus[] = [
  'DRAFT',
  'RETURNED',
  'REFUSED',
  'WITHDRAWN',
  'RESULT_READY',
  'SUPPLEMENT_REQUESTED',
];

export interface OverdueDossier {
  id: number;
  code: string;
  agencyId: number;
  assigneeUserId: number | null;
  dueAt: Date;
  procedureName: string;
}

export interface OverdueRecipient {
  userId: number;
  email: string;
  fullName: string;
}

interface OverdueRow {
  id: number | string;
  code: string;
  agency_id: number | string;
  assignee_user_id: number | string | null;
  due_at: unknown;
  procedure_name: string;
}

export class OverdueRepository {
  constructor(private readonly db: Db) {}

  /** Dossiers past their due date that have not been marked overdue yet, the longest overdue first. */
  async findNewlyOverdue(now: Date, limit: number): Promise<OverdueDossier[]> {
    const rows = (await this.db('dossiers as d')
      .join('procedure_versions as pv', 'pv.id', 'd.procedure_version_id')
      .whereNotIn('d.status', CLOCK_STOPPED_STATUSES)
      .where('d.due_at', '<', now)
      .whereNull('d.overdue_at')
      .whereNotNull('d.code')
      .orderBy('d.due_at')
      .orderBy('d.id')
      .limit(limit)
      .select(
        'd.id',
        'd.code',
        'd.agency_id',
        'd.assignee_user_id',
        'd.due_at',
        'pv.name as procedure_name',
      )) as OverdueRow[];
    return rows.map((r) => ({
      id: Number(r.id),
      code: r.code,
      agencyId: Number(r.agency_id),
      assigneeUserId: r.assignee_user_id === null ? null : Number(r.assignee_user_id),
      dueAt: toDate(r.due_at),
      procedureName: r.procedure_name,
    }));
  }

  /**
   * Compare-and-set: marks the dossier only if it is still unmarked, still running and still late,
   * so two processes (or a dossier decided meanwhile) never produce a second mark. Leaves `version`
   * alone: the mark is no change of state, and must not make an officer's action in flight conflict.
   */
  async markOverdue(trx: Db, id: number, now: Date): Promise<boolean> {
    const n = await trx('dossiers')
      .where({ id })
      .whereNull('overdue_at')
      .whereNotIn('status', CLOCK_STOPPED_STATUSES)
      .where('due_at', '<', now)
      .update({ overdue_at: now });
    return n === 1;
  }

  /** Who must hear of it: the assigned officer, if any, and the approvers of the dossier's agency. */
  async recipients(
    trx: Db,
    d: { agencyId: number; assigneeUserId: number | null },
  ): Promise<OverdueRecipient[]> {
    const approvers = trx('user_roles').select('user_id').where({ role: 'APPROVER' });
    const rows = (await trx('users')
      .where({ status: 'ACTIVE' })
      .where((w) => {
        w.where((a) => a.where({ agency_id: d.agencyId, kind: 'OFFICER' }).whereIn('id', approvers));
        if (d.assigneeUserId !== null) w.orWhere({ id: d.assigneeUserId });
      })
      .orderBy('id')
      .select('id', 'email', 'full_name')) as { id: number | string; email: string; full_name: string }[];
    return rows.map((r) => ({ userId: Number(r.id), email: r.email, fullName: r.full_name }));
  }
}
