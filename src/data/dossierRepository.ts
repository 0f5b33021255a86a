import type { DossierStatus } from '../domain/dossierStatus';
import type { Timeliness } from '../domain/dossierFigures';
import { type Db, dialectOf, insertedId, toDate, toDateOrNull } from './db';
import { applicantSearchKeys, digitsOf, foldForSearch, NAME_KEY_LENGTH } from './searchText';

export interface ApplicantSnapshot {
  kind: 'CITIZEN' | 'BUSINESS';
  name: string;
  idLabel: string;
  idNumber: string;
  representative: string | null;
  email: string | null;
  phone: string | null;
}

export interface Dossier {
  id: number;
  code: string | null;
  secret: string | null;
  procedureId: number;
  procedureVersionId: number;
  agencyId: number;
  applicantUserId: number | null;
  applicant: ApplicantSnapshot;
  formData: Record<string, string | number | null>;
  status: DossierStatus;
  version: number;
  channel: 'ONLINE' | 'COUNTER';
  submittedAt: Date | null;
  countingFrom: Date | null;
  dueAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  assigneeUserId: number | null;
  returnsToUserId: number | null;
  stepDueAt: Date | null;
  pausedAt: Date | null;
  remainingMs: number | null;
  overdueAt: Date | null;
  decidedAt: Date | null;
  completedAt: Date | null;
  /** Set by the release or the refusal, with how it counts in the figures. */
  resolvedAt: Date | null;
  timeliness: Timeliness | null;
  workingMs: number | null;
}

/** What a workflow transition may change on a dossier, besides its status. */
export interface WorkflowChanges {
  assigneeUserId?: number | null;
  returnsToUserId?: number | null;
  stepDueAt?: Date | null;
  pausedAt?: Date | null;
  remainingMs?: number | null;
  dueAt?: Date | null;
  overdueAt?: Date | null;
  decidedAt?: Date | null;
  completedAt?: Date | null;
  resolvedAt?: Date | null;
  timeliness?: Timeliness | null;
  workingMs?: number | null;
}

export interface DossierFile {
  id: number;
  dossierId: number;
  paperCode: string;
  originalName: string;
  storedPath: string;
  contentType: string;
  size: number;
  sha256: string;
  createdAt: Date;
}

export interface DossierEvent {
  id: number;
  occurredAt: Date;
  actorUserId: number | null;
  actorRole: string;
  action: string;
  fromStatus: string | null;
  toStatus: string;
  note: string | null;
  details: Record<string, unknown>;
}

export interface NewDossierFile {
  paperCode: string;
  originalName: string;
  storedPath: string;
  contentType: string;
  size: number;
  sha256: string;
}

interface DossierRow {
  id: number | string;
  code: string | null;
  secret: string | null;
  procedure_id: number;
  procedure_version_id: number;
  agency_id: number;
  applicant_user_id: number | null;
  applicant: string;
  form_data: string;
  status: string;
  version: number;
  channel: string;
  submitted_at: unknown;
  counting_from: unknown;
  due_at: unknown;
  created_at: unknown;
  updated_at: unknown;
  assignee_user_id: number | null;
  returns_to_user_id: number | null;
  step_due_at: unknown;
  paused_at: unknown;
  remaining_ms: number | string | null;
  overdue_at: unknown;
  decided_at: unknown;
  completed_at: unknown;
  resolved_at: unknown;
  timeliness: string | null;
  working_ms: number | string | null;
}

const num = (v: number | string | null): number | null => (v === null ? null : Number(v));

const toDossier = (r: DossierRow): Dossier => ({
  id: Number(r.id),
  code: r.code,
  secret: r.secret,
  procedureId: Number(r.procedure_id),
  procedureVersionId: Number(r.procedure_version_id),
  agencyId: Number(r.agency_id),
  applicantUserId: r.applicant_user_id === null ? null : Number(r.applicant_user_id),
  applicant: JSON.parse(r.applicant) as ApplicantSnapshot,
  formData: JSON.parse(r.form_data) as Dossier['formData'],
  status: r.status as DossierStatus,
  version: Number(r.version),
  channel: r.channel as Dossier['channel'],
  submittedAt: toDateOrNull(r.submitted_at),
  countingFrom: toDateOrNull(r.counting_from),
  dueAt: toDateOrNull(r.due_at),
  createdAt: toDate(r.created_at),
  updatedAt: toDate(r.updated_at),
  assigneeUserId: num(r.assignee_user_id),
  returnsToUserId: num(r.returns_to_user_id),
  stepDueAt: toDateOrNull(r.step_due_at),
  pausedAt: toDateOrNull(r.paused_at),
  remainingMs: num(r.remaining_ms),
  overdueAt: toDateOrNull(r.overdue_at),
  decidedAt: toDateOrNull(r.decided_at),
  completedAt: toDateOrNull(r.completed_at),
  resolvedAt: toDateOrNull(r.resolved_at),
  timeliness: r.timeliness as Timeliness | null,
  workingMs: num(r.working_ms),
});

const WORKFLOW_COLUMNS: Record<keyof WorkflowChanges, string> = {
  assigneeUserId: 'assignee_user_id',
  returnsToUserId: 'returns_to_user_id',
  stepDueAt: 'step_due_at',
  pausedAt: 'paused_at',
  remainingMs: 'remaining_ms',
  dueAt: 'due_at',
  overdueAt: 'overdue_at',
  decidedAt: 'decided_at',
  completedAt: 'completed_at',
  resolvedAt: 'resolved_at',
  timeliness: 'timeliness',
  workingMs: 'working_ms',
};

interface FileRow {
  id: number | string;
  dossier_id: number | string;
  paper_code: string;
  original_name: string;
  stored_path: string;
  content_type: string;
  size: number | string;
  sha256: string;
  created_at: unknown;
}

const toFile = (r: FileRow): DossierFile => ({
  id: Number(r.id),
  dossierId: Number(r.dossier_id),
  paperCode: r.paper_code,
  originalName: r.original_name,
  storedPath: r.stored_path,
  contentType: r.content_type,
  size: Number(r.size),
  sha256: r.sha256,
  createdAt: toDate(r.created_at),
});

export interface DossierListItem {
  id: number;
  code: string | null;
  status: DossierStatus;
  procedureCode: string;
  procedureName: string;
  procedureNameEn: string;
  dueAt: Date | null;
  submittedAt: Date | null;
  updatedAt: Date;
}

/** The columns of a dossier in a list, with its procedure's names. */
const LIST_COLUMNS = [
  'd.id',
  'd.code',
  'd.status',
  'p.code as procedure_code',
  'pv.name',
  'pv.name_en',
  'd.due_at',
  'd.submitted_at',
  'd.updated_at',
];

interface ListRow {
  id: number;
  code: string | null;
  status: string;
  procedure_code: string;
  name: string;
  name_en: string;
  due_at: unknown;
  submitted_at: unknown;
  updated_at: unknown;
}

const toListItem = (r: ListRow): DossierListItem => ({
  id: Number(r.id),
  code: r.code,
  status: r.status as DossierStatus,
  procedureCode: r.procedure_code,
  procedureName: r.name,
  procedureNameEn: r.name_en,
  dueAt: toDateOrNull(r.due_at),
  submittedAt: toDateOrNull(r.submitted_at),
  updatedAt: toDate(r.updated_at),
});

export interface InboxFilter {
  agencyId: number;
  status?: DossierStatus;
  procedureCode?: string;
  /** Only dossiers whose legal clock runs (not paused for a supplement, not resolved) and whose due date
   * is before this instant: now for the overdue ones, the end of the next working day for those due soon. */
  dueBefore?: Date;
  assigneeUserId?: number;
  /** The start of a dossier code, or of any word of the applicant's (or representative's) name. */
  q?: string;
  includeClosed?: boolean;
}

export interface InboxItem extends DossierListItem {
  applicantName: string;
  assigneeUserId: number | null;
  version: number;
}

const CLOSED: readonly DossierStatus[] = ['DRAFT', 'RETURNED', 'REFUSED', 'WITHDRAWN'];
/** Open dossiers whose legal clock does not run: paused for a supplement, or resolved with the result
 * waiting to be handed over. */
const CLOCK_STOPPED: readonly DossierStatus[] = ['SUPPLEMENT_REQUESTED', 'RESULT_READY'];
/** What an officer types when looking for a dossier by code: the agency code's start ("000.00.12"). No
 * applicant's name looks like it, so such a search reads the code's index only. */
const DOSSIER_CODE_PREFIX = /^\d{3}\.\d{2}/;
/** A search for (the start of) a code: the agency code's start, or digits with a dot ("000.00"). */
const CODE_SEARCH = /^(?:\d{3}\.\d{2}|[\d-]*\.[\d.-]*$)/;
/** A number typed as people write it ("0912 345 678", "+84 912..."): searched by its digits. */
const NUMBER_SEARCH = /^[\d\s()+-]+$/;

const escapeLike = (s: string) => s.replace(/[!%_]/g, (c) => `!${c}`);

export class DossierRepository {
  constructor(private readonly db: Db) {}

  /** Next number of the agency's counter for a local day, in the caller's transaction: the row
   * stays locked until it commits, and a rollback gives the number back. */
  async nextCounter(trx: Db, agencyId: number, day: string): Promise<number> {
    if (dialectOf(trx) === 'mysql') {
      await trx.raw(
        'INSERT INTO dossier_counters (agency_id, day, last_value) VALUES (?, ?, 1) ON DUPLICATE KEY UPDATE last_value = last_value + 1',
        [agencyId, day],
      );
    } else {
      await trx.raw(
        'INSERT INTO dossier_counters (agency_id, day, last_value) VALUES (?, ?, 1) ON CONFLICT (agency_id, day) DO UPDATE SET last_value = last_value + 1',
        [agencyId, day],
      );
    }
    const row = (await trx('dossier_counters').where({ agency_id: agencyId, day }).first('last_value')) as {
      last_value: number;
    };
    return Number(row.last_value);
  }

  async insert(
    trx: Db,
    d: Omit<Dossier, 'id' | 'version' | 'createdAt' | 'updatedAt' | keyof WorkflowChanges> & {
      dueAt: Date | null;
      stepDueAt?: Date | null;
      idempotencyKey: string | null;
    },
    now: Date,
  ): Promise<number> {
    const id = insertedId(
      await trx('dossiers').insert({
        code: d.code,
        secret: d.secret,
        procedure_id: d.procedureId,
        procedure_version_id: d.procedureVersionId,
        agency_id: d.agencyId,
        applicant_user_id: d.applicantUserId,
        applicant: JSON.stringify(d.applicant),
        form_data: JSON.stringify(d.formData),
        status: d.status,
        version: 1,
        channel: d.channel,
        idempotency_key: d.idempotencyKey,
        submitted_at: d.submittedAt,
        counting_from: d.countingFrom,
        due_at: d.dueAt,
        step_due_at: d.stepDueAt ?? null,
        created_at: now,
        updated_at: now,
      }),
    );
    await this.insertNameKeys(trx, id, d.agencyId, applicantSearchKeys(d.applicant));
    return id;
  }

  /** The keys the desk's search finds a dossier by (see applicantSearchKeys). Keys that differ only in
   * what MySQL's collation ignores count as one. */
  private async insertNameKeys(trx: Db, dossierId: number, agencyId: number, keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    await trx('dossier_name_keys')
      .insert(keys.map((k) => ({ agency_id: agencyId, name_key: k, dossier_id: dossierId })))
      .onConflict(['agency_id', 'name_key', 'dossier_id'])
      .ignore();
  }

  /** Brings a dossier's search keys in line with a changed applicant: only the keys that changed are
   * deleted (by their whole primary key, which locks those rows alone on MySQL, never a range other
   * filings insert into) or inserted. */
  private async replaceNameKeys(trx: Db, dossierId: number, applicant: ApplicantSnapshot): Promise<void> {
    const { agency_id: agencyId } = (await trx('dossiers').where({ id: dossierId }).first('agency_id')) as {
      agency_id: number;
    };
    const had = (
      (await trx('dossier_name_keys').where({ dossier_id: dossierId }).select('name_key')) as {
        name_key: string;
      }[]
    ).map((r) => r.name_key);
    const wanted = applicantSearchKeys(applicant);
    const gone = had.filter((k) => !wanted.includes(k));
    for (const k of gone) {
      await trx('dossier_name_keys')
        .where({ agency_id: Number(agencyId), name_key: k, dossier_id: dossierId })
        .delete();
    }
    await this.insertNameKeys(
      trx,
      dossierId,
      Number(agencyId),
      wanted.filter((k) => !had.includes(k)),
    );
  }

  /** Compare-and-set: changes the dossier only if its status and version are still the ones read.
   * Answers false (nothing changed) when someone else changed it meanwhile. */
  async updateIf(
    trx: Db,
    id: number,
    expected: { status: DossierStatus; version: number },
    changes: Partial<{
      code: string;
      secret: string;
      status: DossierStatus;
      formData: Dossier['formData'];
      applicant: ApplicantSnapshot;
      submittedAt: Date;
      countingFrom: Date;
      idempotencyKey: string | null;
    }> &
      WorkflowChanges,
    now: Date,
  ): Promise<boolean> {
    const row: Record<string, unknown> = { version: expected.version + 1, updated_at: now };
    if (changes.code !== undefined) row.code = changes.code;
    if (changes.secret !== undefined) row.secret = changes.secret;
    if (changes.status !== undefined) row.status = changes.status;
    if (changes.formData !== undefined) row.form_data = JSON.stringify(changes.formData);
    if (changes.applicant !== undefined) row.applicant = JSON.stringify(changes.applicant);
    if (changes.submittedAt !== undefined) row.submitted_at = changes.submittedAt;
    if (changes.countingFrom !== undefined) row.counting_from = changes.countingFrom;
    if (changes.idempotencyKey !== undefined) row.idempotency_key = changes.idempotencyKey;
    for (const [key, column] of Object.entries(WORKFLOW_COLUMNS) as [keyof WorkflowChanges, string][]) {
      if (changes[key] !== undefined) row[column] = changes[key];
    }
    // MySQL: the compare-and-set finds its row by the primary key alone. Left to choose, the optimiser
    // may search through the (status, due_at) index, and officers acting on one dossier at once then
    // deadlock on that index's gap instead of queueing for the row (and the losers get a 500, not a 409).
    const table = dialectOf(trx) === 'mysql' ? trx.raw('?? FORCE INDEX (PRIMARY)', ['dossiers']) : 'dossiers';
    const n = await trx
      .from(table)
      .where({ id, status: expected.status, version: expected.version })
      .update(row);
    if (n !== 1) return false;
    if (changes.applicant !== undefined) await this.replaceNameKeys(trx, id, changes.applicant);
    return true;
  }

  async findById(id: number, trx: Db = this.db): Promise<Dossier | undefined> {
    const row = (await trx('dossiers').where({ id }).first()) as DossierRow | undefined;
    return row && toDossier(row);
  }

  async findByCode(code: string): Promise<Dossier | undefined> {
    const row = (await this.db('dossiers').where({ code }).first()) as DossierRow | undefined;
    return row && toDossier(row);
  }

  async findByIdempotencyKey(key: string): Promise<Dossier | undefined> {
    const row = (await this.db('dossiers').where({ idempotency_key: key }).first()) as DossierRow | undefined;
    return row && toDossier(row);
  }

  /** Gives a counter-filed dossier to the account of its applicant, once. */
  async claim(trx: Db, id: number, userId: number, now: Date): Promise<boolean> {
    const n = await trx('dossiers')
      .where({ id })
      .whereNull('applicant_user_id')
      .update({ applicant_user_id: userId, updated_at: now });
    return n === 1;
  }

  async addFiles(trx: Db, dossierId: number, files: readonly NewDossierFile[], now: Date): Promise<void> {
    if (files.length === 0) return;
    await trx('dossier_files').insert(
      files.map((f) => ({
        dossier_id: dossierId,
        paper_code: f.paperCode,
        original_name: f.originalName,
        stored_path: f.storedPath,
        content_type: f.contentType,
        size: f.size,
        sha256: f.sha256,
        created_at: now,
      })),
    );
  }

  /** Removes the rows of the given files; answers their stored paths, for the caller to delete. */
  async removeFiles(trx: Db, dossierId: number, fileIds: readonly number[]): Promise<string[]> {
    if (fileIds.length === 0) return [];
    const rows = (await trx('dossier_files')
      .where({ dossier_id: dossierId })
      .whereIn('id', fileIds)) as FileRow[];
    await trx('dossier_files').where({ dossier_id: dossierId }).whereIn('id', fileIds).delete();
    return rows.map((r) => r.stored_path);
  }

  async files(dossierId: number, trx: Db = this.db): Promise<DossierFile[]> {
    const rows = (await trx('dossier_files').where({ dossier_id: dossierId }).orderBy('id')) as FileRow[];
    return rows.map(toFile);
  }

  async file(dossierId: number, fileId: number): Promise<DossierFile | undefined> {
    const row = (await this.db('dossier_files').where({ dossier_id: dossierId, id: fileId }).first()) as
      FileRow | undefined;
    return row && toFile(row);
  }

  async addEvent(
    trx: Db,
    dossierId: number,
    e: Omit<DossierEvent, 'id' | 'details'> & { details?: Record<string, unknown> },
  ): Promise<void> {
    await trx('dossier_events').insert({
      dossier_id: dossierId,
      occurred_at: e.occurredAt,
      actor_user_id: e.actorUserId,
      actor_role: e.actorRole,
      action: e.action,
      from_status: e.fromStatus,
      to_status: e.toStatus,
      note: e.note,
      details: JSON.stringify(e.details ?? {}),
    });
  }

  async events(dossierId: number): Promise<DossierEvent[]> {
    const rows = (await this.db('dossier_events').where({ dossier_id: dossierId }).orderBy('id')) as {
      id: number;
      occurred_at: unknown;
      actor_user_id: number | null;
      actor_role: string;
      action: string;
      from_status: string | null;
      to_status: string;
      note: string | null;
      details: string;
    }[];
    return rows.map((r) => ({
      id: Number(r.id),
      occurredAt: toDate(r.occurred_at),
      actorUserId: r.actor_user_id === null ? null : Number(r.actor_user_id),
      actorRole: r.actor_role,
      action: r.action,
      fromStatus: r.from_status,
      toStatus: r.to_status,
      note: r.note,
      details: JSON.parse(r.details) as Record<string, unknown>,
    }));
  }

  /** An agency's dossiers by legal due date, a page at a time. Keyset pagination on (due_at, id), so a
   * page deep in a large inbox costs the same as the first. */
  async inbox(
    filter: InboxFilter,
    after: { dueAt: Date; id: number } | null,
    limit: number,
  ): Promise<InboxItem[]> {
    type Row = ListRow & { version: number; applicant: string; assignee_user_id: number | null };
    const page = (open: 'UNFINISHED' | 'RESULT_READY' | 'OPEN' | null) => {
      // MySQL: the unfinished dossiers come from the open-dossier index, in its order. Left to choose
      // on a later page, the optimiser takes the (agency, due date) index for the keyset and walks
      // every closed dossier due in between. A narrower filter (assignee, procedure, search) keeps
      // its own choice: the assignee's index, say, finds a specialist's few dossiers at once.
      const narrowed = filter.assigneeUserId || filter.procedureCode || filter.q;
      const from =
        open === 'UNFINISHED' && !narrowed && dialectOf(this.db) === 'mysql'
          ? this.db.raw('?? AS ?? FORCE INDEX (??)', ['dossiers', 'd', 'dossiers_open_by_due_index'])
          : 'dossiers as d';
      const q = this.db.from(from);
      // MySQL: the dossiers are read first, by the index the filter chooses, and the procedure and its
      // version looked up by key for each. Left to choose, the optimiser may start from the agency's
      // procedures and read every open dossier of each through the procedure index (2 s for a
      // specialist's own dossiers at a million).
      for (const [table, alias, key] of [
        ['procedures', 'p', 'd.procedure_id'],
        ['procedure_versions', 'pv', 'd.procedure_version_id'],
      ] as const) {
        if (dialectOf(this.db) === 'mysql')
          q.joinRaw('STRAIGHT_JOIN ?? AS ?? ON ?? = ??', [table, alias, `${alias}.id`, key]);
        else q.join(`${table} as ${alias}`, `${alias}.id`, key);
      }
      q.where('d.agency_id', filter.agencyId).whereNotNull('d.due_at');
      if (filter.status) q.where('d.status', filter.status);
      else if (open === 'UNFINISHED') q.whereNull('d.completed_at').whereNotIn('d.status', CLOSED);
      else if (open === 'RESULT_READY') q.where('d.status', 'RESULT_READY');
      else if (open === 'OPEN') q.whereNotIn('d.status', CLOSED);
      // By the procedure's id, so that the dossiers come from the procedure's own index in due order.
      if (filter.procedureCode)
        q.where('d.procedure_id', this.db('procedures').where('code', filter.procedureCode).select('id'));
      if (filter.dueBefore)
        q.where('d.due_at', '<', filter.dueBefore)
          .whereNotIn('d.status', CLOCK_STOPPED)
          .whereNull('d.completed_at');
      if (filter.assigneeUserId) q.where('d.assignee_user_id', filter.assigneeUserId);
      if (filter.q) {
        if (CODE_SEARCH.test(filter.q)) {
          q.whereRaw("d.code LIKE ? ESCAPE '!'", [`${escapeLike(filter.q)}%`]);
        } else {
          // The start of any word of a name, with or without diacritics, or an identity number, tax
          // code or phone by its digits (dossier_name_keys).
          const key = (NUMBER_SEARCH.test(filter.q) ? digitsOf(filter.q) : foldForSearch(filter.q)).slice(
            0,
            NAME_KEY_LENGTH,
          );
          const keys = this.db('dossier_name_keys').where('agency_id', filter.agencyId);
          // SQLite's LIKE ignores case, so it cannot read the (binary) index: a range can.
          if (dialectOf(this.db) === 'mysql')
            keys.whereRaw("name_key LIKE ? ESCAPE '!'", [`${escapeLike(key)}%`]);
          else keys.where('name_key', '>=', key).andWhere('name_key', '<', `${key}\u{10FFFF}`);
          q.whereIn('d.id', keys.select('dossier_id'));
        }
      }
      if (after) {
        q.where((w) =>
          w
            .where('d.due_at', '>', after.dueAt)
            .orWhere((w2) => w2.where('d.due_at', '=', after.dueAt).andWhere('d.id', '>', after.id)),
        );
      }
      return q
        .orderBy([
          { column: 'd.due_at', order: 'asc' },
          { column: 'd.id', order: 'asc' },
        ])
        .limit(limit)
        .select([...LIST_COLUMNS, 'd.version', 'd.applicant', 'd.assignee_user_id']) as Promise<Row[]>;
    };
    let rows: Row[];
    // A code is found through its unique index whatever the dossier's state; the open statuses then
    // narrow the few it finds.
    if (filter.q && DOSSIER_CODE_PREFIX.test(filter.q) && !filter.status && !filter.includeClosed)
      rows = await page('OPEN');
    else if (filter.status || filter.includeClosed) rows = await page(null);
    else {
      // The open dossiers are the unfinished ones (no completion yet, read in due order from their own
      // index) and those whose result waits to be handed over (by status). Each part is a page in due
      // order; the page is the first `limit` of the two merged.
      // A dossier whose result is ready is resolved: never overdue, never due soon.
      const [unfinished, ready] = await Promise.all([
        page('UNFINISHED'),
        filter.dueBefore ? Promise.resolve([]) : page('RESULT_READY'),
      ]);
      const seen = new Set<number>();
      rows = [...unfinished, ...ready]
        .filter((r) => !seen.has(Number(r.id)) && seen.add(Number(r.id)))
        .sort(
          (a, b) => toDate(a.due_at).getTime() - toDate(b.due_at).getTime() || Number(a.id) - Number(b.id),
        )
        .slice(0, limit);
    }
    return rows.map((r) => ({
      ...toListItem(r),
      version: Number(r.version),
      applicantName: (JSON.parse(r.applicant) as ApplicantSnapshot).name,
      assigneeUserId: r.assignee_user_id === null ? null : Number(r.assignee_user_id),
    }));
  }

  /** The applicant's dossiers, newest first, a page at a time (keyset on updated_at, id). */
  async listForApplicant(userId: number, limit = 50): Promise<DossierListItem[]> {
    const rows = (await this.db('dossiers as d')
      .join('procedure_versions as pv', 'pv.id', 'd.procedure_version_id')
      .join('procedures as p', 'p.id', 'd.procedure_id')
      .where('d.applicant_user_id', userId)
      .orderBy([
        { column: 'd.updated_at', order: 'desc' },
        { column: 'd.id', order: 'desc' },
      ])
      .limit(limit)
      .select(LIST_COLUMNS)) as ListRow[];
    return rows.map(toListItem);
  }
}
